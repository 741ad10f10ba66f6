import { inflateSync } from 'node:zlib';
import type { PdfScanLimits, RangeReader, StructureFinding } from './structure';

const SLASH = 0x2f;
const STREAM = Buffer.from('stream', 'latin1');
const ENDSTREAM = Buffer.from('endstream', 'latin1');
/** PDF names are at most 127 bytes (ISO 32000-1, Annex C); longer ones are not names we watch. */
const MAX_NAME_BYTES = 127;

/**
 * Names that make a PDF do something when opened or hold a file: scripts,
 * launch actions, embedded files, additional (event-triggered) actions, rich
 * media. An /OpenAction that only shows a page is harmless; one that runs a
 * script carries /JS, which is caught here.
 */
const ACTIVE_NAMES: ReadonlySet<string> = new Set([
  'JavaScript',
  'JS',
  'Launch',
  'EmbeddedFile',
  'EmbeddedFiles',
  'AA',
  'RichMedia',
]);
/** Names of the current object's dictionary that decide how its stream is scanned. */
const DICT_NAMES: ReadonlySet<string> = new Set(['ObjStm', 'Filter', 'FlateDecode']);
const WATCHED = [...ACTIVE_NAMES, ...DICT_NAMES, 'Encrypt'];
/**
 * First bytes and longest length of the watched names: a name that cannot be
 * one of them (most are: /Type, /Font, /Length ...) is skipped without being
 * turned into a string, which is most of the cost of a dictionary-heavy file.
 */
const WATCHED_FIRST: ReadonlySet<number> = new Set(WATCHED.map((n) => n.charCodeAt(0)));
const WATCHED_MAX = Math.max(...WATCHED.map((n) => n.length));
const HASH = 0x23;

function isDelimiter(b: number): boolean {
  // White space (NUL, HT, LF, FF, CR, SP) and the delimiters ( ) < > [ ] { } / %.
  return (
    b === 0x00 ||
    b === 0x09 ||
    b === 0x0a ||
    b === 0x0c ||
    b === 0x0d ||
    b === 0x20 ||
    b === 0x28 ||
    b === 0x29 ||
    b === 0x3c ||
    b === 0x3e ||
    b === 0x5b ||
    b === 0x5d ||
    b === 0x7b ||
    b === 0x7d ||
    b === 0x2f ||
    b === 0x25
  );
}

/** A name's bytes with its #xx escapes decoded, so /J#61vaScript is /JavaScript. */
function decodeName(raw: Buffer): string {
  const text = raw.toString('latin1');
  return text.includes('#')
    ? text.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : text;
}

/**
 * Scans a PDF's bytes as they stream past for the names that matter (active
 * content, /Encrypt), skipping stream data, whose compressed bytes would
 * otherwise spell /JS by chance. Compressed object streams (PDF 1.5), where
 * a writer may put the catalog and its actions, are inflated within bounds
 * and scanned too. Tokens cut by a chunk boundary are carried into the next
 * chunk (at most a name's length), so memory stays at a chunk plus one
 * object stream.
 */
export class PdfTokenScanner {
  /** Active-content names seen, in the order first seen. */
  readonly active = new Set<string>();
  /** An /Encrypt entry was seen outside stream data (the trailer or cross-reference stream). */
  encrypted = false;
  /** Why part of the file could not be scanned, when it could not. */
  unscannable: string | null = null;

  private carry: Buffer = Buffer.alloc(0);
  private inStream = false;
  private dictNames = new Set<string>();
  private capture: Buffer[] | null = null;
  private captured = 0;
  private objectStreams = 0;

  /** `nested` scans the inflated content of an object stream, which holds no streams of its own. */
  constructor(
    private readonly limits: PdfScanLimits,
    private readonly nested = false,
  ) {}

  /** Scans the next chunk. */
  feed(chunk: Buffer): void {
    const work = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    let pos = 0;
    // Positions of the next slash and the next `stream`, recomputed only when
    // passed, so many names in one chunk cost one search each, not one per name.
    let slash = -2;
    let keyword = -2;
    while (pos < work.length) {
      if (this.inStream) {
        const end = work.indexOf(ENDSTREAM, pos);
        if (end < 0) {
          const keep = Math.max(pos, work.length - (ENDSTREAM.length - 1));
          this.captureData(work.subarray(pos, keep));
          this.carry = Buffer.from(work.subarray(keep));
          return;
        }
        this.captureData(work.subarray(pos, end));
        this.endStream();
        pos = end + ENDSTREAM.length;
        slash = keyword = -2;
        continue;
      }
      if (slash !== -1 && slash < pos) slash = work.indexOf(SLASH, pos);
      if (keyword !== -1 && keyword < pos) keyword = work.indexOf(STREAM, pos);
      if (slash < 0 && keyword < 0) {
        // `stream` may straddle the boundary: keep its possible start and the byte before it.
        this.carry = Buffer.from(work.subarray(Math.max(pos, work.length - STREAM.length)));
        return;
      }
      if (keyword >= 0 && (slash < 0 || keyword < slash)) {
        const next = this.streamStart(work, keyword);
        if (next === null) {
          this.carry = Buffer.from(work.subarray(Math.max(pos, keyword - 1)));
          return;
        }
        if (next < 0) {
          pos = keyword + STREAM.length;
        } else {
          this.beginStream();
          pos = next;
          slash = keyword = -2;
        }
        continue;
      }
      let end = slash + 1;
      let escaped = false;
      while (end < work.length && end - slash <= MAX_NAME_BYTES) {
        const b = work[end] ?? 0;
        if (isDelimiter(b)) break;
        if (b === HASH) escaped = true;
        end++;
      }
      if (end === work.length && end - slash <= MAX_NAME_BYTES) {
        this.carry = Buffer.from(work.subarray(slash));
        return;
      }
      const length = end - slash - 1;
      const candidate =
        escaped || (length <= WATCHED_MAX && WATCHED_FIRST.has(work[slash + 1] ?? 0));
      if (candidate && end - slash <= MAX_NAME_BYTES) {
        this.onName(decodeName(work.subarray(slash + 1, end)));
      }
      pos = end;
    }
  }

  /** Scans what a chunk boundary held back; call once after the last chunk. */
  finish(): void {
    if (this.carry.length === 0 || this.inStream) return;
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    // A trailing delimiter closes a name cut off by the end of the file.
    this.feed(Buffer.concat([rest, Buffer.from(' ')]));
    this.carry = Buffer.alloc(0);
  }

  /**
   * Where the data of a `stream` keyword at `at` starts, -1 when the bytes
   * there are not the keyword (`endstream`, `streams`), null when the chunk
   * ends before that can be told.
   */
  private streamStart(work: Buffer, at: number): number | null {
    const after = at + STREAM.length;
    if (after + 1 >= work.length) return null;
    // At 0 the byte before was not carried over: only a boundary keeps it out.
    if (at > 0 && !isDelimiter(work[at - 1] ?? 0x20)) return -1;
    const eol = work[after];
    if (eol === 0x0a) return after + 1;
    if (eol === 0x0d) return work[after + 1] === 0x0a ? after + 2 : after + 1;
    return -1;
  }

  private onName(name: string): void {
    if (ACTIVE_NAMES.has(name)) this.active.add(name);
    if (name === 'Encrypt' && !this.nested) this.encrypted = true;
    if (DICT_NAMES.has(name)) this.dictNames.add(name);
  }

  private beginStream(): void {
    this.inStream = true;
    if (this.nested || !this.dictNames.has('ObjStm')) return;
    this.objectStreams++;
    if (this.objectStreams > this.limits.maxObjectStreams) {
      this.unscannable ??= `it has more than ${this.limits.maxObjectStreams} compressed object streams`;
      return;
    }
    this.capture = [];
    this.captured = 0;
  }

  private captureData(bytes: Buffer): void {
    if (!this.capture || bytes.length === 0) return;
    this.captured += bytes.length;
    if (this.captured > this.limits.maxObjectStreamBytes) {
      this.unscannable ??= `a compressed object stream is larger than ${this.limits.maxObjectStreamBytes.toLocaleString('en-US')} bytes`;
      this.capture = null;
      return;
    }
    this.capture.push(Buffer.from(bytes));
  }

  private endStream(): void {
    this.inStream = false;
    const capture = this.capture;
    const dict = this.dictNames;
    this.capture = null;
    this.dictNames = new Set();
    if (capture) this.scanObjectStream(Buffer.concat(capture), dict);
  }

  private scanObjectStream(data: Buffer, dict: ReadonlySet<string>): void {
    let content: Buffer;
    if (dict.has('FlateDecode')) {
      try {
        content = inflateSync(data, { maxOutputLength: this.limits.maxInflatedBytes });
      } catch (err) {
        const tooLarge = err instanceof RangeError;
        this.unscannable ??= tooLarge
          ? `a compressed object stream inflates to more than ${this.limits.maxInflatedBytes.toLocaleString('en-US')} bytes`
          : 'a compressed object stream does not inflate';
        return;
      }
    } else if (!dict.has('Filter')) {
      content = data;
    } else {
      this.unscannable ??= 'an object stream uses a filter other than FlateDecode';
      return;
    }
    const inner = new PdfTokenScanner(this.limits, true);
    inner.feed(content);
    inner.finish();
    for (const name of inner.active) this.active.add(name);
  }
}

/** What one pass over a PDF kept for its structural checks. */
export interface PdfEvidence {
  /** The first bytes of the file (the sniff head). */
  head: Buffer;
  /** The last bytes of the file and the offset of their first byte. */
  tail: { bytes: Buffer; start: number };
  /** The file's size. */
  size: number;
  scanner: PdfTokenScanner;
  /** Reads bytes at the startxref offset when neither head nor tail holds them. */
  readRange?: RangeReader;
  limits: PdfScanLimits;
}

const HEADER = /^%PDF-(?:1\.[0-7]|2\.0)[\r\n \t%]/;
const EOF_MARKER = Buffer.from('%%EOF', 'latin1');
const STARTXREF = /startxref\s+(\d{1,15})\s+%%EOF/g;
const XREF_TABLE = /^\s*xref\s/;
const XREF_STREAM = /^\s*\d{1,10}\s+\d{1,5}\s+obj\s*<<[^]*?\/Type\s*\/XRef\b/;

/** `length` bytes at `offset`, from the head, the tail or a range read; null when none can. */
async function bytesAt(
  evidence: PdfEvidence,
  offset: number,
  length: number,
): Promise<Buffer | null> {
  const { head, tail, readRange } = evidence;
  const end = Math.min(offset + length, evidence.size);
  if (end <= head.length) return head.subarray(offset, end);
  if (offset >= tail.start) return tail.bytes.subarray(offset - tail.start, end - tail.start);
  return readRange ? readRange(offset, end - offset) : null;
}

/**
 * The structural defects of a PDF: a header that is not `%PDF-1.x`/`2.0`,
 * no `%%EOF` near the end (cut short), no `startxref` or one that does not
 * point at a cross-reference table or stream, an /Encrypt dictionary
 * (password or certificate protection: portals refuse it), active content,
 * and parts that could not be scanned within the bounds.
 */
export async function pdfFindings(evidence: PdfEvidence): Promise<StructureFinding[]> {
  const { head, tail, size, scanner, limits } = evidence;
  const findings: StructureFinding[] = [];
  if (!HEADER.test(head.subarray(0, 16).toString('latin1'))) {
    findings.push({
      code: 'PDF_HEADER_INVALID',
      message: `it does not start with a PDF header (%PDF-1.0 to %PDF-2.0)`,
    });
  }
  const eof = tail.bytes.lastIndexOf(EOF_MARKER);
  if (eof < 0) {
    findings.push({
      code: 'PDF_TRUNCATED',
      message: `it has no %%EOF marker in its last ${tail.bytes.length.toLocaleString('en-US')} bytes: the file is cut short or damaged`,
    });
  } else {
    const text = tail.bytes.subarray(0, eof + EOF_MARKER.length).toString('latin1');
    const pointers = [...text.matchAll(STARTXREF)];
    const last = pointers[pointers.length - 1];
    if (!last) {
      findings.push({
        code: 'PDF_XREF_MISSING',
        message:
          'it has no startxref pointer before its %%EOF: there is no cross-reference section to open it by',
      });
    } else {
      const offset = Number(last[1]);
      const probe =
        offset < size ? await bytesAt(evidence, offset, limits.xrefProbeBytes) : Buffer.alloc(0);
      if (probe !== null) {
        const at = probe.toString('latin1');
        if (!XREF_TABLE.test(at) && !XREF_STREAM.test(at)) {
          findings.push({
            code: 'PDF_XREF_MISSING',
            message: `its startxref points at byte ${offset.toLocaleString('en-US')}, where no cross-reference table or stream starts (the file is ${size.toLocaleString('en-US')} bytes)`,
          });
        }
      }
    }
  }
  if (scanner.encrypted) {
    findings.push({
      code: 'PDF_ENCRYPTED',
      message:
        'it is encrypted (its trailer has an /Encrypt dictionary): a password or certificate is needed to open it',
    });
  }
  if (scanner.active.size > 0) {
    const names = [...scanner.active].map((n) => `/${n}`).join(', ');
    findings.push({
      code: 'PDF_ACTIVE_CONTENT',
      message: `it contains active content (${names}): scripts, launch actions or embedded files`,
    });
  }
  if (scanner.unscannable !== null) {
    findings.push({
      code: 'PDF_UNSCANNABLE',
      message: `it could not be checked for active content: ${scanner.unscannable}`,
    });
  }
  return findings;
}
