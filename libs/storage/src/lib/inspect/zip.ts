import type { RangeReader, StructureFinding, ZipScanLimits } from './structure';

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_LENGTH = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_LENGTH = 20;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_LENGTH = 46;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** How many offending entry names a message quotes. */
const QUOTED_NAMES = 3;

/**
 * Part names an OOXML package's type needs, lower-cased (OPC part names
 * compare case-insensitively): the content-types part of every package and
 * the main part of a workbook, a document and a presentation.
 */
export const OOXML_PARTS = [
  '[content_types].xml',
  'xl/workbook.xml',
  'word/document.xml',
  'ppt/presentation.xml',
] as const;

/** What one pass over a ZIP kept for the central-directory check. */
export interface ZipEvidence {
  /** The last bytes of the file and the offset of their first byte. */
  tail: { bytes: Buffer; start: number };
  /** The file's size. */
  size: number;
  /** Reads the central directory when the tail does not hold it. */
  readRange?: RangeReader;
  limits: ZipScanLimits;
}

/** The structural verdict on a ZIP package. */
export interface ZipVerdict {
  findings: StructureFinding[];
  /** The {@link OOXML_PARTS} present, or null when the directory could not be read. */
  parts: string[] | null;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * The end-of-central-directory record: the last PK\5\6 in the final 64 KiB +
 * 22 bytes whose comment length reaches exactly to the end of the file
 * (a signature inside the comment does not).
 */
function findEocd(tail: Buffer): number {
  const floor = Math.max(0, tail.length - EOCD_LENGTH - MAX_COMMENT);
  for (let at = tail.length - EOCD_LENGTH; at >= floor; at--) {
    if (tail.readUInt32LE(at) !== EOCD_SIGNATURE) continue;
    if (at + EOCD_LENGTH + tail.readUInt16LE(at + 20) === tail.length) return at;
  }
  return -1;
}

/** Why an entry name may not be extracted as it is, or null when it may. */
export function unsafeEntryName(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'names a drive';
  if (name.split('/').includes('..')) return "has a '..' segment";
  return null;
}

/**
 * Checks a ZIP container by its central directory, never by decompressing
 * anything: the end-of-central-directory record must be present and
 * consistent, ZIP64 and split archives are refused, and the entry count,
 * each entry's name (no traversal, absolute path, backslash or drive), the
 * declared uncompressed total and each entry's compression ratio (a bomb
 * declares a small compressed size for a huge one) must stay within bounds.
 * Entries flagged encrypted are reported. Declared sizes are what a
 * recipient's unzip trusts, so bounding them is what protects it.
 */
export async function zipFindings(evidence: ZipEvidence): Promise<ZipVerdict> {
  const { tail, size, readRange, limits } = evidence;
  const fail = (code: StructureFinding['code'], message: string): ZipVerdict => ({
    findings: [{ code, message }],
    parts: null,
  });
  const eocd = findEocd(tail.bytes);
  if (eocd < 0) {
    return fail(
      'ZIP_EOCD_MISSING',
      'it has no end-of-central-directory record: the archive is cut short or damaged',
    );
  }
  const record = tail.bytes.subarray(eocd, eocd + EOCD_LENGTH);
  const disk = record.readUInt16LE(4);
  const cdDisk = record.readUInt16LE(6);
  const onDisk = record.readUInt16LE(8);
  const total = record.readUInt16LE(10);
  const cdSize = record.readUInt32LE(12);
  const cdOffset = record.readUInt32LE(16);
  const locator = eocd - ZIP64_LOCATOR_LENGTH;
  const zip64 =
    total === U16_MAX ||
    cdSize === U32_MAX ||
    cdOffset === U32_MAX ||
    (locator >= 0 && tail.bytes.readUInt32LE(locator) === ZIP64_LOCATOR_SIGNATURE);
  if (zip64) {
    return fail('ZIP64_UNSUPPORTED', 'it is a ZIP64 archive, which is not accepted');
  }
  if (disk !== 0 || cdDisk !== 0 || onDisk !== total) {
    return fail('ZIP_CENTRAL_DIRECTORY_INVALID', 'it is one part of a split (multi-disk) archive');
  }
  if (total > limits.maxEntries) {
    return fail(
      'ZIP_TOO_MANY_ENTRIES',
      `it declares ${count(total)} entries; at most ${count(limits.maxEntries)} are accepted`,
    );
  }
  const eocdOffset = tail.start + eocd;
  if (cdOffset + cdSize > eocdOffset) {
    return fail(
      'ZIP_CENTRAL_DIRECTORY_INVALID',
      `its central directory (${count(cdSize)} bytes at ${count(cdOffset)}) overlaps the end record at ${count(eocdOffset)}`,
    );
  }
  if (cdSize > limits.maxCentralDirectoryBytes) {
    return fail(
      'ZIP_CENTRAL_DIRECTORY_INVALID',
      `its central directory is ${count(cdSize)} bytes; at most ${count(limits.maxCentralDirectoryBytes)} are read`,
    );
  }
  let directory: Buffer;
  if (cdOffset >= tail.start || cdSize === 0) {
    directory = tail.bytes.subarray(cdOffset - tail.start, cdOffset - tail.start + cdSize);
  } else if (readRange) {
    directory = await readRange(cdOffset, cdSize);
  } else {
    return fail(
      'ZIP_UNSCANNABLE',
      `its central directory starts ${count(size - cdOffset)} bytes before the end, beyond what was kept, and the store cannot read ranges`,
    );
  }
  return walkDirectory(directory, total, cdOffset, limits);
}

function walkDirectory(
  directory: Buffer,
  total: number,
  cdOffset: number,
  limits: ZipScanLimits,
): ZipVerdict {
  const findings: StructureFinding[] = [];
  const invalid = (message: string): ZipVerdict => ({
    findings: [...findings, { code: 'ZIP_CENTRAL_DIRECTORY_INVALID', message }],
    parts: null,
  });
  const unsafe: string[] = [];
  const bombs: string[] = [];
  const parts = new Set<string>();
  let encrypted = 0;
  let uncompressedTotal = 0;
  let at = 0;
  for (let i = 0; i < total; i++) {
    if (
      at + CENTRAL_LENGTH > directory.length ||
      directory.readUInt32LE(at) !== CENTRAL_SIGNATURE
    ) {
      return invalid(`its central directory ends after ${count(i)} of ${count(total)} entries`);
    }
    const flags = directory.readUInt16LE(at + 8);
    const compressed = directory.readUInt32LE(at + 20);
    const uncompressed = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const localOffset = directory.readUInt32LE(at + 42);
    const nameEnd = at + CENTRAL_LENGTH + nameLength;
    if (nameEnd + extraLength + commentLength > directory.length) {
      return invalid(`entry ${count(i + 1)} runs past the end of the central directory`);
    }
    if (compressed === U32_MAX || uncompressed === U32_MAX || localOffset === U32_MAX) {
      return {
        findings: [
          ...findings,
          { code: 'ZIP64_UNSUPPORTED', message: 'it has ZIP64 entries, which are not accepted' },
        ],
        parts: null,
      };
    }
    if (localOffset >= cdOffset) {
      return invalid(`entry ${count(i + 1)} points past the start of the central directory`);
    }
    const name = directory.toString(
      (flags & FLAG_UTF8) !== 0 ? 'utf8' : 'latin1',
      at + CENTRAL_LENGTH,
      nameEnd,
    );
    const why = unsafeEntryName(name);
    if (why !== null) unsafe.push(`${JSON.stringify(name.slice(0, 100))} ${why}`);
    if ((flags & FLAG_ENCRYPTED) !== 0) encrypted++;
    uncompressedTotal += uncompressed;
    if (
      uncompressed >= limits.compressionRatioMinBytes &&
      uncompressed > limits.maxCompressionRatio * Math.max(compressed, 1)
    ) {
      bombs.push(
        `${JSON.stringify(name.slice(0, 100))} declares ${count(uncompressed)} bytes from ${count(compressed)}`,
      );
    }
    const lower = name.toLowerCase();
    if ((OOXML_PARTS as readonly string[]).includes(lower)) parts.add(lower);
    at = nameEnd + extraLength + commentLength;
  }
  if (unsafe.length > 0) {
    findings.push({
      code: 'ZIP_PATH_TRAVERSAL',
      message: `${unsafe.length === 1 ? 'an entry name' : `${count(unsafe.length)} entry names`} would extract outside its folder: ${unsafe.slice(0, QUOTED_NAMES).join('; ')}`,
    });
  }
  if (uncompressedTotal > limits.maxUncompressedBytes) {
    findings.push({
      code: 'ZIP_BOMB',
      message: `its entries declare ${count(uncompressedTotal)} bytes uncompressed; at most ${count(limits.maxUncompressedBytes)} are accepted`,
    });
  } else if (bombs.length > 0) {
    findings.push({
      code: 'ZIP_BOMB',
      message: `${bombs.length === 1 ? 'an entry compresses' : `${count(bombs.length)} entries compress`} more than ${count(limits.maxCompressionRatio)} to 1: ${bombs.slice(0, QUOTED_NAMES).join('; ')}`,
    });
  }
  if (encrypted > 0) {
    findings.push({
      code: 'ZIP_ENCRYPTED',
      message: `${count(encrypted)} of its entries ${encrypted === 1 ? 'is' : 'are'} encrypted`,
    });
  }
  return { findings, parts: [...parts] };
}
