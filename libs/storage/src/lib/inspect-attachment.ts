import { createHash } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
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
}

/** How {@link inspectAttachment} reads. */
export interface InspectOptions {
  /** Largest size accepted; reading stops as soon as more than this has arrived. */
  maxBytes: number;
  /** How many leading bytes to keep for media type sniffing. */
  sniffBytes: number;
  /** Aborts reading: the stream is destroyed and the promise rejects with an AbortError. */
  signal?: AbortSignal;
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
  // Leaving the loop early (break or throw) destroys the stream.
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (headLength < sniffBytes) {
      headLength += bytes.copy(head, headLength, 0, sniffBytes - headLength);
    }
    hash.update(bytes);
    size += bytes.length;
    if (size > maxBytes) {
      exceeded = true;
      break;
    }
  }
  return {
    sha256: hash.digest('hex'),
    size_bytes: size,
    media_type: sniffMediaType(head.subarray(0, headLength)),
    exceeded_limit: exceeded,
  };
}
