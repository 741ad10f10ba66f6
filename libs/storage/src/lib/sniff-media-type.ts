/** Media types {@link sniffMediaType} can return, so callers compare against names rather than strings. */
export const MEDIA_TYPES = {
  pdf: 'application/pdf',
  zip: 'application/zip',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  ole: 'application/x-ole-storage',
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  tiff: 'image/tiff',
  windowsExecutable: 'application/x-msdownload',
  elf: 'application/x-executable',
  machO: 'application/x-mach-binary',
  script: 'application/x-sh',
  text: 'text/plain',
  unknown: 'application/octet-stream',
} as const;

/**
 * Sniffed types that are programs. Funders never want them, and a program
 * dressed up with a document's name is the case type checks exist for.
 */
export const EXECUTABLE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.windowsExecutable,
  MEDIA_TYPES.elf,
  MEDIA_TYPES.machO,
  MEDIA_TYPES.script,
]);

interface Magic {
  readonly bytes: readonly number[];
  readonly mediaType: string;
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

// Order matters only where one signature is a prefix of another; none is.
const MAGIC: readonly Magic[] = [
  { bytes: ascii('%PDF-'), mediaType: MEDIA_TYPES.pdf },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], mediaType: MEDIA_TYPES.ole },
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], mediaType: MEDIA_TYPES.png },
  { bytes: [0xff, 0xd8, 0xff], mediaType: MEDIA_TYPES.jpeg },
  { bytes: ascii('GIF87a'), mediaType: MEDIA_TYPES.gif },
  { bytes: ascii('GIF89a'), mediaType: MEDIA_TYPES.gif },
  { bytes: [0x49, 0x49, 0x2a, 0x00], mediaType: MEDIA_TYPES.tiff },
  { bytes: [0x4d, 0x4d, 0x00, 0x2a], mediaType: MEDIA_TYPES.tiff },
  { bytes: ascii('MZ'), mediaType: MEDIA_TYPES.windowsExecutable },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], mediaType: MEDIA_TYPES.elf },
  // Mach-O thin binaries in both byte orders, and fat (universal) binaries.
  { bytes: [0xfe, 0xed, 0xfa, 0xce], mediaType: MEDIA_TYPES.machO },
  { bytes: [0xfe, 0xed, 0xfa, 0xcf], mediaType: MEDIA_TYPES.machO },
  { bytes: [0xce, 0xfa, 0xed, 0xfe], mediaType: MEDIA_TYPES.machO },
  { bytes: [0xcf, 0xfa, 0xed, 0xfe], mediaType: MEDIA_TYPES.machO },
  { bytes: [0xca, 0xfe, 0xba, 0xbe], mediaType: MEDIA_TYPES.machO },
  { bytes: [0xca, 0xfe, 0xba, 0xbf], mediaType: MEDIA_TYPES.machO },
  { bytes: ascii('#!'), mediaType: MEDIA_TYPES.script },
  // An empty archive has no local header, only the end-of-central-directory record.
  { bytes: [0x50, 0x4b, 0x05, 0x06], mediaType: MEDIA_TYPES.zip },
];

const ZIP_LOCAL_HEADER = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const ZIP_LOCAL_HEADER_LENGTH = 30;
const ZIP_FLAG_DATA_DESCRIPTOR = 0x0008;
const ZIP64_SIZE_MARKER = 0xffffffff;

const OOXML_PARTS: readonly { prefix: string; mediaType: string }[] = [
  { prefix: 'xl/', mediaType: MEDIA_TYPES.xlsx },
  { prefix: 'word/', mediaType: MEDIA_TYPES.docx },
  { prefix: 'ppt/', mediaType: MEDIA_TYPES.pptx },
];

function startsWith(head: Buffer, bytes: readonly number[]): boolean {
  if (head.length < bytes.length) return false;
  return bytes.every((b, i) => head[i] === b);
}

/**
 * Entry names of the ZIP local file headers that lie within `head`. Headers
 * are walked by their length fields; when an entry's compressed size is not in
 * its header (data descriptor, ZIP64) the next header is found by searching for
 * its signature instead, which is how streamed Office files are written.
 */
function* zipEntryNames(head: Buffer): Generator<string> {
  let offset = 0;
  while (offset + ZIP_LOCAL_HEADER_LENGTH <= head.length) {
    if (head.compare(ZIP_LOCAL_HEADER, 0, 4, offset, offset + 4) !== 0) return;
    const flags = head.readUInt16LE(offset + 6);
    const compressedSize = head.readUInt32LE(offset + 18);
    const nameLength = head.readUInt16LE(offset + 26);
    const extraLength = head.readUInt16LE(offset + 28);
    const nameStart = offset + ZIP_LOCAL_HEADER_LENGTH;
    if (nameStart + nameLength > head.length) return;
    yield head.toString('latin1', nameStart, nameStart + nameLength);
    const dataStart = nameStart + nameLength + extraLength;
    const sizeUnknown =
      (flags & ZIP_FLAG_DATA_DESCRIPTOR) !== 0 || compressedSize === ZIP64_SIZE_MARKER;
    offset = sizeUnknown ? head.indexOf(ZIP_LOCAL_HEADER, dataStart) : dataStart + compressedSize;
    if (offset < 0) return;
  }
}

function zipMediaType(head: Buffer): string {
  for (const name of zipEntryNames(head)) {
    const part = OOXML_PARTS.find((p) => name.startsWith(p.prefix));
    if (part) return part.mediaType;
  }
  return MEDIA_TYPES.zip;
}

function isUtf8Text(head: Buffer): boolean {
  if (head.includes(0)) return false;
  try {
    // `stream: true` tolerates a character cut in half at the end of the head.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * The media type of content, judged from its first bytes (the caller decides
 * how many; 64 KiB lets OOXML detection see past `[Content_Types].xml`).
 * Magic numbers first; a ZIP is told apart from xlsx/docx/pptx by the entry
 * names of its local headers; UTF-8 without NUL bytes is text/plain; an empty
 * head or anything else is application/octet-stream, never a guess.
 */
export function sniffMediaType(head: Buffer): string {
  if (head.length === 0) return MEDIA_TYPES.unknown;
  if (startsWith(head, [...ZIP_LOCAL_HEADER])) return zipMediaType(head);
  const magic = MAGIC.find((m) => startsWith(head, m.bytes));
  if (magic) return magic.mediaType;
  return isUtf8Text(head) ? MEDIA_TYPES.text : MEDIA_TYPES.unknown;
}
