import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  encryptedPdf,
  goodPdf,
  javascriptPdf,
  minimalPdf,
  truncatedPdf,
} from './attachment-bytes.fixture';
import { PdfTokenScanner, pdfFindings } from './pdf';
import type { PdfScanLimits, RangeReader } from './structure';
import { TailWindow } from './tail-window';

const LIMITS: PdfScanLimits = {
  tailBytes: 65_536,
  xrefProbeBytes: 1024,
  maxObjectStreams: 10,
  maxObjectStreamBytes: 1_000_000,
  maxInflatedBytes: 4_000_000,
};

/** Runs the streamed scan and the trailer checks over `bytes` cut in `chunk`-byte pieces. */
async function check(
  bytes: Buffer,
  options: { chunk?: number; limits?: Partial<PdfScanLimits>; readRange?: RangeReader } = {},
) {
  const limits = { ...LIMITS, ...options.limits };
  const scanner = new PdfTokenScanner(limits);
  const tail = new TailWindow(limits.tailBytes);
  const chunk = options.chunk ?? 65_536;
  for (let at = 0; at < bytes.length; at += chunk) {
    const piece = bytes.subarray(at, at + chunk);
    scanner.feed(piece);
    tail.push(piece);
  }
  scanner.finish();
  return pdfFindings({
    head: bytes.subarray(0, 65_536),
    tail: tail.tail(),
    size: bytes.length,
    scanner,
    readRange: options.readRange,
    limits,
  });
}

const codes = async (...args: Parameters<typeof check>) =>
  (await check(...args)).map((f) => f.code);

/** A hand-written PDF whose catalog carries `catalog` and whose body holds `extra` objects. */
function pdfWith(catalog: string, extra: string[] = []): Buffer {
  let text = '%PDF-1.7\n';
  const offsets: number[] = [];
  const objects = [
    `1 0 obj\n<< /Type /Catalog /Pages 2 0 R ${catalog} >>\nendobj\n`,
    '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n',
    ...extra,
  ];
  for (const o of objects) {
    offsets.push(text.length);
    text += o;
  }
  const xref = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  text += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}

describe('PDF structure', () => {
  it.each([1, 3, 7, 64, 65_536])('passes sound PDFs read in %i-byte chunks', async (chunk) => {
    expect(await codes(minimalPdf('note'), { chunk })).toEqual([]);
    expect(await codes(await goodPdf(), { chunk })).toEqual([]);
    expect(await codes(await goodPdf({ objectStreams: true }), { chunk })).toEqual([]);
  });

  it('finds a PDF cut in half: no %%EOF', async () => {
    const findings = await check(await truncatedPdf());
    expect(findings.map((f) => f.code)).toEqual(['PDF_TRUNCATED']);
    expect(findings[0]?.message).toMatch(/no %%EOF/);
  });

  it('finds a header that is not a PDF version', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-9.9\n'), minimalPdf().subarray(9)]);
    expect(await codes(bytes)).toContain('PDF_HEADER_INVALID');
  });

  it('finds %%EOF without startxref, and startxref pointing nowhere', async () => {
    expect(await codes(Buffer.from('%PDF-1.7\n% body\n%%EOF\n'))).toEqual(['PDF_XREF_MISSING']);
    const wrong = Buffer.from(
      minimalPdf()
        .toString('latin1')
        .replace(/startxref\n\d+/, 'startxref\n17'),
      'latin1',
    );
    const findings = await check(wrong);
    expect(findings.map((f) => f.code)).toEqual(['PDF_XREF_MISSING']);
    expect(findings[0]?.message).toMatch(/byte 17/);
    const past = Buffer.from(
      minimalPdf()
        .toString('latin1')
        .replace(/startxref\n\d+/, 'startxref\n999999'),
      'latin1',
    );
    expect(await codes(past)).toEqual(['PDF_XREF_MISSING']);
  });

  it('reads the bytes startxref points at by range when neither head nor tail holds them', async () => {
    // A 200 KB comment before the table keeps it out of the head, a 2 KB one
    // between the trailer and startxref out of a 1 KiB tail.
    const base = minimalPdf().toString('latin1');
    const cut = base.indexOf('xref\n');
    const padded = `${base.slice(0, cut)}%${'x'.repeat(200_000)}\n`;
    const table = base
      .slice(cut)
      .replace(/startxref\n\d+/, `%${'y'.repeat(2000)}\nstartxref\n${padded.length}`);
    const bytes = Buffer.from(padded + table, 'latin1');
    const reads: [number, number][] = [];
    const readRange: RangeReader = (start, length) => {
      reads.push([start, length]);
      return Promise.resolve(bytes.subarray(start, start + length));
    };
    expect(await codes(bytes, { limits: { tailBytes: 1024 }, readRange })).toEqual([]);
    expect(reads).toEqual([[padded.length, 1024]]);
    const broken = Buffer.from(bytes.toString('latin1').replace(/\nxref\n/, '\nxraf\n'), 'latin1');
    expect(
      await codes(broken, {
        limits: { tailBytes: 1024 },
        readRange: (s, l) => Promise.resolve(broken.subarray(s, s + l)),
      }),
    ).toEqual(['PDF_XREF_MISSING']);
  });

  it('finds an /Encrypt dictionary in a trailer and in a cross-reference stream', async () => {
    expect(await codes(await encryptedPdf())).toEqual(['PDF_ENCRYPTED']);
    expect(await codes(await encryptedPdf({ objectStreams: true }), { chunk: 5 })).toEqual([
      'PDF_ENCRYPTED',
    ]);
  });

  it('finds a JavaScript open action, also inside a compressed object stream', async () => {
    const plain = await check(await javascriptPdf());
    expect(plain.map((f) => f.code)).toEqual(['PDF_ACTIVE_CONTENT']);
    expect(plain[0]?.message).toMatch(/\/JS/);
    expect(await codes(await javascriptPdf({ objectStreams: true }), { chunk: 11 })).toEqual([
      'PDF_ACTIVE_CONTENT',
    ]);
  });

  it.each([
    ['a launch action', '/OpenAction << /S /Launch /F (cmd.exe) >>'],
    ['embedded files', '/Names << /EmbeddedFiles << /Names [] >> >>'],
    ['additional actions', '/AA << /WC << /S /JavaScript /JS (x) >> >>'],
    ['a name spelled with #xx escapes', '/OpenAction << /S /J#61vaScript /J#53 (x) >>'],
  ])('finds %s', async (_, catalog) => {
    expect(await codes(pdfWith(catalog), { chunk: 2 })).toEqual(['PDF_ACTIVE_CONTENT']);
  });

  it('does not read names inside stream data, where compressed bytes may spell them', async () => {
    const data = Buffer.from('/JS (x) /JavaScript /Launch /AA /Encrypt', 'latin1');
    const stream = `3 0 obj\n<< /Length ${data.length} >>\nstream\n${data.toString('latin1')}\nendstream\nendobj\n`;
    expect(await codes(pdfWith('', [stream]), { chunk: 4 })).toEqual([]);
  });

  it('does not mistake a longer name for a watched one', async () => {
    expect(await codes(pdfWith('/JSON (1) /AAB 2 /LaunchPad 3'))).toEqual([]);
  });

  it('reports an object stream beyond its bounds as unscannable', async () => {
    const content = deflateSync(Buffer.alloc(100_000, 0x20));
    const objStm = `3 0 obj\n<< /Type /ObjStm /N 0 /First 0 /Filter /FlateDecode /Length ${content.length} >>\nstream\n${content.toString('latin1')}\nendstream\nendobj\n`;
    const bytes = pdfWith('', [objStm]);
    expect(await codes(bytes)).toEqual([]);
    const inflated = await check(bytes, { limits: { maxInflatedBytes: 50_000 } });
    expect(inflated.map((f) => f.code)).toEqual(['PDF_UNSCANNABLE']);
    expect(inflated[0]?.message).toMatch(/inflates to more than 50,000 bytes/);
    expect(await codes(bytes, { limits: { maxObjectStreamBytes: 10 } })).toEqual([
      'PDF_UNSCANNABLE',
    ]);
    expect(await codes(bytes, { limits: { maxObjectStreams: 0 } })).toEqual(['PDF_UNSCANNABLE']);
  });
});
