import { describe, expect, it } from 'vitest';
import {
  bombXlsx,
  docxParts,
  docxWithoutEocd,
  goodDocx,
  goodXlsx,
  manyEntriesXlsx,
  traversalXlsx,
  xlsxParts,
  zipOf,
} from './attachment-bytes.fixture';
import type { RangeReader, ZipScanLimits } from './structure';
import { TailWindow } from './tail-window';
import { unsafeEntryName, zipFindings } from './zip';

const LIMITS: ZipScanLimits = {
  tailBytes: 262_144,
  maxEntries: 10_000,
  maxCentralDirectoryBytes: 4_194_304,
  maxUncompressedBytes: 1_073_741_824,
  maxCompressionRatio: 200,
  compressionRatioMinBytes: 1_048_576,
};

async function check(
  bytes: Buffer,
  options: { limits?: Partial<ZipScanLimits>; readRange?: RangeReader } = {},
) {
  const limits = { ...LIMITS, ...options.limits };
  const tail = new TailWindow(limits.tailBytes);
  for (let at = 0; at < bytes.length; at += 65_536) tail.push(bytes.subarray(at, at + 65_536));
  return zipFindings({
    tail: tail.tail(),
    size: bytes.length,
    readRange: options.readRange,
    limits,
  });
}

const codes = async (...args: Parameters<typeof check>) =>
  (await check(...args)).findings.map((f) => f.code);

const rangeOf =
  (bytes: Buffer): RangeReader =>
  (start, length) =>
    Promise.resolve(bytes.subarray(start, start + length));

describe('ZIP containers', () => {
  it('passes sound workbooks and documents and lists their OOXML parts', async () => {
    expect(await check(goodXlsx())).toEqual({
      findings: [],
      parts: ['[content_types].xml', 'xl/workbook.xml'],
    });
    expect(await check(goodDocx())).toEqual({
      findings: [],
      parts: ['[content_types].xml', 'word/document.xml'],
    });
  });

  it('finds a package without its end-of-central-directory record', async () => {
    expect(await check(docxWithoutEocd())).toEqual({
      findings: [expect.objectContaining({ code: 'ZIP_EOCD_MISSING' })],
      parts: null,
    });
    expect(await codes(Buffer.from('PK\x03\x04'))).toEqual(['ZIP_EOCD_MISSING']);
  });

  it('finds the end record behind an archive comment, not a signature inside the comment', async () => {
    const bytes = goodXlsx();
    // Rewrite the comment length and append a comment that itself holds PK\5\6.
    const comment = Buffer.from('note PK\x05\x06 inside', 'latin1');
    const withComment = Buffer.concat([bytes, comment]);
    withComment.writeUInt16LE(comment.length, bytes.length - 2);
    expect(await codes(withComment)).toEqual([]);
  });

  it.each([
    ['../../evil.txt', "has a '..' segment"],
    ['xl/../../evil.txt', "has a '..' segment"],
    ['/etc/cron.d/evil', 'is an absolute path'],
    ['C:/Windows/evil.dll', 'names a drive'],
    ['xl\\..\\evil.txt', 'contains a backslash'],
  ])('finds the entry name %j', async (name, why) => {
    const findings = (await check(traversalXlsx(name))).findings;
    expect(findings.map((f) => f.code)).toEqual(['ZIP_PATH_TRAVERSAL']);
    expect(findings[0]?.message).toContain(why);
    expect(unsafeEntryName(name)).toBe(why);
  });

  it('accepts names that only look like traversal', () => {
    for (const name of ['xl/..data/a.xml', 'a..b/c', '[Content_Types].xml', 'docProps/app.xml'])
      expect(unsafeEntryName(name)).toBeNull();
  });

  it('refuses more entries than allowed from the end record alone', async () => {
    const reads: number[] = [];
    const findings = await check(manyEntriesXlsx(20_000), {
      readRange: (s, l) => {
        reads.push(s);
        return Promise.resolve(Buffer.alloc(l));
      },
    });
    expect(findings.findings.map((f) => f.code)).toEqual(['ZIP_TOO_MANY_ENTRIES']);
    expect(findings.findings[0]?.message).toMatch(/20,000 entries; at most 10,000/);
    expect(reads).toEqual([]);
  });

  it('reads a central directory beyond the kept tail by range, within its bound', async () => {
    const bytes = manyEntriesXlsx(9_000);
    expect(await codes(bytes, { readRange: rangeOf(bytes) })).toEqual([]);
    expect(await codes(bytes)).toEqual(['ZIP_UNSCANNABLE']);
    expect(
      await codes(bytes, { readRange: rangeOf(bytes), limits: { maxCentralDirectoryBytes: 1000 } }),
    ).toEqual(['ZIP_CENTRAL_DIRECTORY_INVALID']);
  });

  it('finds a bomb by the compression ratio and by the uncompressed total it declares', async () => {
    const bomb = bombXlsx(20_000_000);
    const ratio = await check(bomb);
    expect(ratio.findings.map((f) => f.code)).toEqual(['ZIP_BOMB']);
    expect(ratio.findings[0]?.message).toMatch(/more than 200 to 1.*xl\/media\/zeros.bin/);
    expect(await codes(bomb, { limits: { maxCompressionRatio: 100_000 } })).toEqual([]);
    expect(
      await codes(bomb, {
        limits: { maxCompressionRatio: 100_000, maxUncompressedBytes: 1_000_000 },
      }),
    ).toEqual(['ZIP_BOMB']);
    // Small entries compress well without being bombs.
    expect(await codes(zipOf([...xlsxParts(), ['xl/a.xml', ' '.repeat(100_000)]], 9))).toEqual([]);
  });

  it('refuses ZIP64 archives and split archives clearly', async () => {
    const bytes = goodDocx();
    const eocd = bytes.length - 22;
    const zip64 = Buffer.from(bytes);
    zip64.writeUInt16LE(0xffff, eocd + 10);
    expect(await codes(zip64)).toEqual(['ZIP64_UNSUPPORTED']);
    const split = Buffer.from(bytes);
    split.writeUInt16LE(1, eocd + 4);
    expect(await codes(split)).toEqual(['ZIP_CENTRAL_DIRECTORY_INVALID']);
  });

  it('finds a central directory that lies about its entries or its place', async () => {
    const bytes = goodDocx();
    const eocd = bytes.length - 22;
    const more = Buffer.from(bytes);
    more.writeUInt16LE(more.readUInt16LE(eocd + 10) + 1, eocd + 10);
    more.writeUInt16LE(more.readUInt16LE(eocd + 8) + 1, eocd + 8);
    expect(await codes(more)).toEqual(['ZIP_CENTRAL_DIRECTORY_INVALID']);
    const overlapping = Buffer.from(bytes);
    overlapping.writeUInt32LE(bytes.length, eocd + 16);
    expect(await codes(overlapping)).toEqual(['ZIP_CENTRAL_DIRECTORY_INVALID']);
  });

  it('finds encrypted entries', async () => {
    const bytes = Buffer.from(zipOf(docxParts()));
    const eocd = bytes.length - 22;
    const cd = bytes.readUInt32LE(eocd + 16);
    bytes.writeUInt16LE(bytes.readUInt16LE(cd + 8) | 1, cd + 8);
    expect(await codes(bytes)).toEqual(['ZIP_ENCRYPTED']);
  });
});

describe('ZIP containers read by range', () => {
  it('asks for no empty range: an empty directory far from the end is judged as it is', async () => {
    const bytes = Buffer.concat([Buffer.alloc(300_000), Buffer.alloc(22)]);
    const eocd = bytes.length - 22;
    bytes.writeUInt32LE(0x06054b50, eocd);
    bytes.writeUInt16LE(1, eocd + 8);
    bytes.writeUInt16LE(1, eocd + 10);
    bytes.writeUInt32LE(0, eocd + 12);
    bytes.writeUInt32LE(10, eocd + 16);
    const reads: number[] = [];
    const findings = await check(bytes, {
      readRange: (s, l) => {
        reads.push(l);
        return Promise.resolve(bytes.subarray(s, s + l));
      },
    });
    expect(findings.findings.map((f) => f.code)).toEqual(['ZIP_CENTRAL_DIRECTORY_INVALID']);
    expect(reads).toEqual([]);
  });
});
