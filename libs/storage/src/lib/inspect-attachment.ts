import { createHash } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import { AttachmentStorageError } from '@grantstream/errors';
import { PdfTokenScanner, pdfFindings } from './inspect/pdf';
import type { RangeReader, StructureFinding, StructureLimits } from './inspect/structure';
import { TailWindow } from './inspect/tail-window';
import { zipFindings } from './inspect/zip';
import { sniffMediaType } from './sniff-media-type';

/** What one pass over an attachment's bytes measured. */
export interface InspectedAttachment {
  /**
   * Lower-case hex SHA-256 of the bytes read: the whole content, or only the
   * bytes read before stopping when {@link exceeded_limit} is true.
   */
  sha256: string;
  /** Bytes read: the exact size, or a lower bound above the limit when {@link exceeded_limit} is true. */
  size_bytes: number;
  /** Media type sniffed from the leading bytes. */
  media_type: string;
  /** True when reading stopped because more than the allowed bytes arrived. */
  exceeded_limit: boolean;
  /**
   * Structural defects found by type (PDF, ZIP containers), in check order;
   * empty when no structure was asked for, the type has no structural check,
   * or reading was cut off (a partial file says nothing about its end).
   */
  findings: StructureFinding[];
  /**
   * The OOXML part names (lower-cased) a ZIP container holds, for the caller
   * to check against the type it claims; null for anything that is not a
   * readable ZIP.
   */
  package_parts: string[] | null;
}

/** Asks {@link inspectAttachment} to check structure by type, within these bounds. */
export interface StructureOptions {
  limits: StructureLimits;
  /** Reads a range of the same attachment, for a trailer pointing outside the kept head and tail. */
  readRange?: RangeReader;
}

/** How {@link inspectAttachment} reads. */
export interface InspectOptions {
  /** Largest size accepted; reading stops as soon as more than this has arrived. */
  maxBytes: number;
  /** How many leading bytes to keep for media type sniffing. */
  sniffBytes: number;
  /** Aborts reading: the stream is destroyed and the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Check the structure of PDFs and ZIP containers too; without it only the facts above are measured. */
  structure?: StructureOptions;
}

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const ZIP_MAGICS = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];

type Kind = 'pdf' | 'zip' | 'other';
/** Bytes enough to tell the kinds apart. */
const MAGIC_BYTES = 8;

/** The structure a file's first bytes promise; decided on the first chunk, before the tail is needed. */
function kindOf(first: Buffer): Kind {
  if (first.subarray(0, PDF_MAGIC.length).equals(PDF_MAGIC)) return 'pdf';
  if (ZIP_MAGICS.some((m) => first.subarray(0, m.length).equals(m))) return 'zip';
  return 'other';
}

function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Reads an attachment once, hashing, counting and keeping its first
 * `sniffBytes` for {@link sniffMediaType}. Memory stays at `sniffBytes` plus the
 * chunk in hand whatever the attachment's size: bytes are never buffered
 * whole, and an oversize attachment is cut off (the stream destroyed) as soon
 * as it passes `maxBytes` rather than read to the end for a size nobody needs.
 * Stream errors propagate unchanged; the stream is destroyed on every exit.
 *
 * With `structure`, the same pass also keeps a bounded tail and, for a PDF,
 * scans its names as they stream past; after the last byte the PDF trailer
 * or the ZIP central directory is checked (see pdfFindings, zipFindings).
 * Rejects with AttachmentStorageError (retriable: storage was slow) when the
 * whole inspection takes longer than `structure.limits.timeoutMs`.
 */
export async function inspectAttachment(
  stream: Readable,
  options: InspectOptions,
): Promise<InspectedAttachment> {
  const { maxBytes, sniffBytes, signal } = options;
  assertCount('maxBytes', maxBytes, 0);
  assertCount('sniffBytes', sniffBytes, 1);
  if (signal) addAbortSignal(signal, stream);

  const hash = createHash('sha256');
  const head = Buffer.alloc(sniffBytes);
  let headLength = 0;
  let size = 0;
  let exceeded = false;
  const structure = options.structure;
  const deadline = structure ? Date.now() + structure.limits.timeoutMs : Infinity;
  let kind: Kind | null = null;
  let tail: TailWindow | null = null;
  let pdf: PdfTokenScanner | null = null;
  // Leaving the loop early (break or throw) destroys the stream.
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const before = headLength;
    if (headLength < sniffBytes) {
      headLength += bytes.copy(head, headLength, 0, sniffBytes - headLength);
    }
    hash.update(bytes);
    size += bytes.length;
    if (size > maxBytes) {
      exceeded = true;
      break;
    }
    if (structure) {
      if (kind !== null) {
        tail?.push(bytes);
        pdf?.feed(bytes);
      } else if (headLength >= Math.min(MAGIC_BYTES, sniffBytes)) {
        // Every earlier chunk fitted in the head: the kind was not known yet.
        const sofar = Buffer.concat([head.subarray(0, before), bytes]);
        ({ kind, tail, pdf } = startScan(sofar, structure.limits));
      }
      if (Date.now() > deadline) throw timedOut(structure.limits.timeoutMs);
    }
  }
  const headBytes = head.subarray(0, headLength);
  if (structure && kind === null && !exceeded) {
    ({ kind, tail, pdf } = startScan(Buffer.from(headBytes), structure.limits));
  }
  let findings: StructureFinding[] = [];
  let parts: string[] | null = null;
  if (structure && tail && !exceeded) {
    if (pdf) {
      pdf.finish();
      findings = await pdfFindings({
        head: headBytes,
        tail: tail.tail(),
        size,
        scanner: pdf,
        readRange: structure.readRange,
        limits: structure.limits.pdf,
      });
    } else {
      const verdict = await zipFindings({
        tail: tail.tail(),
        size,
        readRange: structure.readRange,
        limits: structure.limits.zip,
      });
      findings = verdict.findings;
      parts = verdict.parts;
    }
    if (Date.now() > deadline) throw timedOut(structure.limits.timeoutMs);
  }
  return {
    sha256: hash.digest('hex'),
    size_bytes: size,
    media_type: sniffMediaType(headBytes),
    exceeded_limit: exceeded,
    findings,
    package_parts: parts,
  };
}

/** The scanners a kind needs, fed the bytes read so far. */
function startScan(
  sofar: Buffer,
  limits: StructureLimits,
): { kind: Kind; tail: TailWindow | null; pdf: PdfTokenScanner | null } {
  const kind = kindOf(sofar);
  if (kind === 'other') return { kind, tail: null, pdf: null };
  const tail = new TailWindow(kind === 'pdf' ? limits.pdf.tailBytes : limits.zip.tailBytes);
  tail.push(sofar);
  if (kind === 'zip') return { kind, tail, pdf: null };
  const pdf = new PdfTokenScanner(limits.pdf);
  pdf.feed(sofar);
  return { kind, tail, pdf };
}

function timedOut(ms: number): AttachmentStorageError {
  return new AttachmentStorageError(
    `inspecting the attachment took longer than ${ms.toLocaleString('en-US')} ms`,
  );
}
