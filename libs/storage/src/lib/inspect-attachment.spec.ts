import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentStorageError } from '@grantstream/errors';
import { AttachmentStores, type ByteRange } from './attachment-store';
import { FILE_READ_CHUNK_BYTES, FileAttachmentStore } from './file-attachment-store';
import {
  goodDocx,
  goodPdf,
  manyEntriesXlsx,
  traversalXlsx,
  truncatedPdf,
  writeSparsePdf,
} from './inspect/attachment-bytes.fixture';
import type { StructureLimits } from './inspect/structure';
import { inspectAttachment } from './inspect-attachment';
import { MEDIA_TYPES } from './sniff-media-type';

const SNIFF = 64 * 1024;

/** An endless stream of `chunk`-byte chunks that counts what it produced. */
function endless(chunk: number): Readable & { produced: number } {
  const stream = new Readable({
    highWaterMark: chunk,
    read() {
      counter.produced += chunk;
      this.push(Buffer.alloc(chunk, 0x61));
    },
  });
  const counter = Object.assign(stream, { produced: 0 });
  return counter;
}

describe('inspectAttachment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(tmpdir(), 'inspect-'));
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('hashes, counts and sniffs content that arrives in pieces', async () => {
    const content = Buffer.from('%PDF-1.7\nbody of the narrative\n%%EOF\n');
    const pieces = [content.subarray(0, 2), content.subarray(2, 7), content.subarray(7)];
    const result = await inspectAttachment(Readable.from(pieces), {
      maxBytes: 1024,
      sniffBytes: SNIFF,
    });
    expect(result).toEqual({
      sha256: createHash('sha256').update(content).digest('hex'),
      size_bytes: content.length,
      media_type: MEDIA_TYPES.pdf,
      exceeded_limit: false,
      findings: [],
      package_parts: null,
    });
  });

  it('gives the well-known SHA-256 of "abc"', async () => {
    const result = await inspectAttachment(Readable.from([Buffer.from('abc')]), {
      maxBytes: 3,
      sniffBytes: 2,
    });
    expect(result.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(result.exceeded_limit).toBe(false);
    expect(result.media_type).toBe(MEDIA_TYPES.text);
  });

  it('measures an empty attachment', async () => {
    const result = await inspectAttachment(Readable.from([]), { maxBytes: 0, sniffBytes: SNIFF });
    expect(result).toEqual({
      sha256: createHash('sha256').digest('hex'),
      size_bytes: 0,
      media_type: MEDIA_TYPES.unknown,
      exceeded_limit: false,
      findings: [],
      package_parts: null,
    });
  });

  it('stops reading a file soon after it passes maxBytes', async () => {
    const file = path.join(dir, 'huge.pdf');
    await fsp.writeFile(file, '%PDF-1.7\n');
    await fsp.truncate(file, 1024 ** 3);
    const maxBytes = 100_000;
    const stream = createReadStream(file, { highWaterMark: FILE_READ_CHUNK_BYTES });
    const result = await inspectAttachment(stream, { maxBytes, sniffBytes: SNIFF });
    expect(result.exceeded_limit).toBe(true);
    expect(result.size_bytes).toBeGreaterThan(maxBytes);
    expect(result.media_type).toBe(MEDIA_TYPES.pdf);
    expect(stream.destroyed).toBe(true);
    expect(stream.bytesRead).toBeLessThanOrEqual(maxBytes + FILE_READ_CHUNK_BYTES);
  });

  it('stops pulling from an endless stream, bounded by one chunk plus its read-ahead', async () => {
    const chunk = 16 * 1024;
    const stream = endless(chunk);
    const maxBytes = 10 * chunk;
    const result = await inspectAttachment(stream, { maxBytes, sniffBytes: 1024 });
    expect(result).toMatchObject({ exceeded_limit: true, size_bytes: maxBytes + chunk });
    expect(stream.destroyed).toBe(true);
    expect(stream.produced).toBeLessThanOrEqual(maxBytes + 2 * chunk);
  });

  it('accepts content of exactly maxBytes', async () => {
    const result = await inspectAttachment(Readable.from([Buffer.alloc(10)]), {
      maxBytes: 10,
      sniffBytes: 4,
    });
    expect(result).toMatchObject({ exceeded_limit: false, size_bytes: 10 });
  });

  it('rejects with an AbortError and destroys the stream when aborted mid-read', async () => {
    const stream = endless(1024);
    const controller = new AbortController();
    stream.once('data', () => controller.abort());
    await expect(
      inspectAttachment(stream, {
        maxBytes: Number.MAX_SAFE_INTEGER,
        sniffBytes: 16,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(stream.destroyed).toBe(true);
  });

  it('rejects at once with a signal already aborted', async () => {
    const stream = endless(1024);
    await expect(
      inspectAttachment(stream, { maxBytes: 10, sniffBytes: 16, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(stream.produced).toBe(0);
  });

  it('passes a stream error through', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
      },
    });
    await expect(
      inspectAttachment(failing, { maxBytes: 10, sniffBytes: 16 }),
    ).rejects.toMatchObject({ code: 'EIO' });
  });

  it.each([
    { maxBytes: -1, sniffBytes: 16 },
    { maxBytes: 1.5, sniffBytes: 16 },
    { maxBytes: 10, sniffBytes: 0 },
  ])('refuses options %j', async (options) => {
    await expect(inspectAttachment(Readable.from([]), options)).rejects.toThrow(RangeError);
  });
});

describe('inspectAttachment with structure', () => {
  const limits: StructureLimits = {
    timeoutMs: 60_000,
    pdf: {
      tailBytes: 1024,
      xrefProbeBytes: 1024,
      maxObjectStreams: 10,
      maxObjectStreamBytes: 1_000_000,
      maxInflatedBytes: 4_000_000,
    },
    zip: {
      tailBytes: 65_557,
      maxEntries: 10_000,
      maxCentralDirectoryBytes: 4_194_304,
      maxUncompressedBytes: 1_073_741_824,
      maxCompressionRatio: 200,
      compressionRatioMinBytes: 1_048_576,
    },
  };
  let root: string;
  let stores: AttachmentStores;
  beforeAll(async () => {
    root = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'inspect-structure-')));
    stores = new AttachmentStores([new FileAttachmentStore({ roots: [root] })]);
  });
  afterAll(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  async function inspectFile(name: string, bytes: Buffer | null, maxBytes = 1e9) {
    const file = path.join(root, name);
    if (bytes) await fsp.writeFile(file, bytes);
    const uri = `file://${file}`;
    const ranges: ByteRange[] = [];
    const result = await inspectAttachment(await stores.open(uri), {
      maxBytes,
      sniffBytes: SNIFF,
      structure: {
        limits,
        readRange: (start, length) => {
          ranges.push({ start, length });
          return stores.readRange(uri, { start, length });
        },
      },
    });
    return { result, ranges };
  }

  it('checks PDFs and ZIP containers by type in the same pass', async () => {
    expect((await inspectFile('good.pdf', await goodPdf())).result.findings).toEqual([]);
    expect((await inspectFile('cut.pdf', await truncatedPdf())).result.findings).toEqual([
      expect.objectContaining({ code: 'PDF_TRUNCATED' }),
    ]);
    const docx = (await inspectFile('good.docx', goodDocx())).result;
    expect(docx).toMatchObject({
      findings: [],
      package_parts: ['[content_types].xml', 'word/document.xml'],
    });
    expect((await inspectFile('bad.xlsx', traversalXlsx())).result.findings).toEqual([
      expect.objectContaining({ code: 'ZIP_PATH_TRAVERSAL' }),
    ]);
  });

  it('reads a central directory outside the kept tail as one range of the same file', async () => {
    const bytes = manyEntriesXlsx(3_000);
    const { result, ranges } = await inspectFile('many.xlsx', bytes);
    expect(result.findings).toEqual([]);
    expect(result.package_parts).toEqual(['[content_types].xml', 'xl/workbook.xml']);
    expect(ranges).toHaveLength(1);
    expect(ranges[0]?.start).toBe(bytes.readUInt32LE(bytes.length - 6));
  });

  it('checks a large sparse PDF, kept to a tail, without a range read', async () => {
    const file = path.join(root, 'large.pdf');
    writeSparsePdf(file, 20_000_000);
    const { result, ranges } = await inspectFile('large.pdf', null);
    expect(result).toMatchObject({ size_bytes: 20_000_000, findings: [], exceeded_limit: false });
    expect(ranges).toEqual([]);
  });

  it('judges no structure of a read cut off at the limit', async () => {
    const { result } = await inspectFile('cut-off.pdf', await truncatedPdf(), 100);
    expect(result).toMatchObject({ exceeded_limit: true, findings: [] });
  });

  it('sees the type of content that arrives a byte at a time', async () => {
    const bytes = await truncatedPdf();
    const result = await inspectAttachment(Readable.from([...bytes].map((b) => Buffer.from([b]))), {
      maxBytes: 1e9,
      sniffBytes: SNIFF,
      structure: { limits },
    });
    expect(result.findings.map((f) => f.code)).toEqual(['PDF_TRUNCATED']);
  });

  it('gives up with a retriable storage error past its time bound', async () => {
    const slow = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.from('%PDF-1.7\n')), 20);
      },
    });
    await expect(
      inspectAttachment(slow, {
        maxBytes: 1e9,
        sniffBytes: SNIFF,
        structure: { limits: { ...limits, timeoutMs: 50 } },
      }),
    ).rejects.toBeInstanceOf(AttachmentStorageError);
    expect(slow.destroyed).toBe(true);
  });
});
