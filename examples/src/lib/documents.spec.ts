import { Readable } from 'node:stream';
import { MEDIA_TYPES, inspectAttachment, type StructureLimits } from '@grantstream/storage';
import { describe, expect, it } from 'vitest';
import { docxDocument, executableStub, pdfDocument, xlsxWorkbook } from './documents';
import { DEFAULT_COUNT, generateExamples } from './generate';

// The example batch's documents must pass ingest's structural check by type,
// or the main job would dead-letter applications its expected outcomes call
// compliant. Bounds as in config/grantstream.yaml.
const LIMITS: StructureLimits = {
  timeoutMs: 120_000,
  pdf: {
    tailBytes: 65_536,
    xrefProbeBytes: 1024,
    maxObjectStreams: 2000,
    maxObjectStreamBytes: 4_194_304,
    maxInflatedBytes: 16_777_216,
  },
  zip: {
    tailBytes: 262_144,
    maxEntries: 10_000,
    maxCentralDirectoryBytes: 4_194_304,
    maxUncompressedBytes: 1_073_741_824,
    maxCompressionRatio: 200,
    compressionRatioMinBytes: 1_048_576,
  },
};

async function inspect(bytes: Uint8Array) {
  return inspectAttachment(Readable.from([Buffer.from(bytes)]), {
    maxBytes: 100_000_000,
    sniffBytes: 65_536,
    structure: { limits: LIMITS },
  });
}

describe('generated documents under the structural check', () => {
  it('passes each kind of document with no finding', async () => {
    const pdf = await inspect(
      await pdfDocument({ heading: 'Narrative', title: 'Río Verde watershed', lines: ['One.'] }),
    );
    expect(pdf).toMatchObject({ media_type: MEDIA_TYPES.pdf, findings: [] });
    expect(await inspect(xlsxWorkbook('Budget', [['Item', 1]]))).toMatchObject({
      media_type: MEDIA_TYPES.xlsx,
      findings: [],
      package_parts: ['[content_types].xml', 'xl/workbook.xml'],
    });
    expect(await inspect(docxDocument(['Narrative', 'Text']))).toMatchObject({
      media_type: MEDIA_TYPES.docx,
      findings: [],
      package_parts: ['[content_types].xml', 'word/document.xml'],
    });
    // The executable stub is caught by its type, not by structure.
    expect(await inspect(executableStub())).toMatchObject({ findings: [] });
  });

  it('passes every file of the default batch', { timeout: 120_000 }, async () => {
    const batch = await generateExamples({
      now: Date.parse('2026-12-01T15:00:00Z'),
      count: DEFAULT_COUNT,
    });
    const files = batch.files.filter((f) => f.kind === 'file');
    expect(files.length).toBeGreaterThan(DEFAULT_COUNT);
    const withFindings: string[] = [];
    for (const f of files) {
      const result = await inspect(f.bytes);
      if (result.findings.length > 0)
        withFindings.push(`${f.path}: ${result.findings.map((x) => x.code).join(', ')}`);
    }
    expect(withFindings).toEqual([]);
  });
});
