import type { Readable } from 'node:stream';
import { AttachmentInvalidError, ConfigError } from '@grantstream/errors';

/** Options of {@link AttachmentStore.open}. */
export interface OpenOptions {
  /** Abandons opening (and reading): the stream, if any, is destroyed with an AbortError. */
  signal?: AbortSignal;
}

/** A byte range of an attachment: `length` bytes from offset `start` (fewer at the end). */
export interface ByteRange {
  start: number;
  length: number;
}

/**
 * Opens attachment bytes by URI. Attachments travel as claim-check references,
 * never as bytes in Kafka; a store turns a reference back into a stream. An
 * S3-compatible store implements the same interface.
 *
 * `open` rejects with AttachmentInvalidError when the reference itself is bad
 * (outside the store's confinement, missing, not a file: retrying cannot help)
 * and with AttachmentStorageError when the store failed in a way that may pass.
 */
export interface AttachmentStore {
  /** URL schemes this store serves, with the colon as `URL.protocol` has it, e.g. `file:`. */
  readonly schemes: readonly string[];
  open(uri: string, options?: OpenOptions): Promise<Readable>;
  /**
   * Opens one byte range of the attachment, confined and checked as `open`
   * is (S3 and HTTP serve this as a Range request). Optional: without it
   * {@link AttachmentStores.readRange} reads the whole stream again.
   */
  openRange?(uri: string, range: ByteRange, options?: OpenOptions): Promise<Readable>;
}

/** Reads a whole stream of at most `limit` bytes; more is a bug in the store, so it throws. */
export async function readBounded(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      length += bytes.length;
      if (length > limit) throw new RangeError(`a range read returned more than ${limit} bytes`);
      chunks.push(bytes);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, length);
}

/**
 * The configured stores behind one `open`, dispatching on the URI's scheme,
 * so a stage holds one object whatever mix of file and object storage it reads.
 */
export class AttachmentStores {
  private readonly byScheme = new Map<string, AttachmentStore>();

  /** Throws ConfigError when two stores claim the same scheme. */
  constructor(stores: readonly AttachmentStore[]) {
    const problems: string[] = [];
    for (const store of stores) {
      for (const scheme of store.schemes) {
        const key = scheme.toLowerCase();
        if (this.byScheme.has(key)) {
          problems.push(`attachment stores: scheme ${scheme} is served by more than one store`);
        }
        this.byScheme.set(key, store);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** URL schemes some store serves. */
  get schemes(): readonly string[] {
    return [...this.byScheme.keys()];
  }

  /**
   * Opens `uri` with the store serving its scheme. Rejects with
   * AttachmentInvalidError ATTACHMENT_URI_INVALID for a string that is not a
   * URL and ATTACHMENT_SCHEME_UNSUPPORTED for a scheme no store serves.
   */
  open(uri: string, options: OpenOptions = {}): Promise<Readable> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return Promise.reject(
        new AttachmentInvalidError([
          {
            code: 'ATTACHMENT_URI_INVALID',
            message: 'the URI is not an absolute URL',
            field: 'uri',
          },
        ]),
      );
    }
    const store = this.byScheme.get(url.protocol);
    if (!store) {
      const served = [...this.byScheme.keys()].join(', ') || 'none';
      return Promise.reject(
        new AttachmentInvalidError([
          {
            code: 'ATTACHMENT_SCHEME_UNSUPPORTED',
            message: `no attachment store serves ${url.protocol} URIs (served: ${served})`,
            field: 'uri',
          },
        ]),
      );
    }
    return store.open(uri, options);
  }

  /**
   * Reads one range of `uri` whole (ranges are small: a trailer, a central
   * directory) with the serving store's `openRange`; a store without it is
   * read again from the start, skipping to the range, which costs a second
   * pass but never more memory than the range. Rejects as `open` does.
   */
  async readRange(uri: string, range: ByteRange, options: OpenOptions = {}): Promise<Buffer> {
    let store: AttachmentStore | undefined;
    try {
      store = this.byScheme.get(new URL(uri).protocol);
    } catch {
      store = undefined;
    }
    if (store?.openRange) {
      return readBounded(await store.openRange(uri, range, options), range.length);
    }
    return sliceOf(await this.open(uri, options), range);
  }
}

/** The bytes of `range` from a stream of the whole content; the stream is destroyed at the end. */
async function sliceOf(stream: Readable, range: ByteRange): Promise<Buffer> {
  const out = Buffer.alloc(range.length);
  let filled = 0;
  let offset = 0;
  const end = range.start + range.length;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const from = Math.max(range.start, offset);
      const to = Math.min(end, offset + bytes.length);
      if (to > from) filled += bytes.copy(out, from - range.start, from - offset, to - offset);
      offset += bytes.length;
      if (offset >= end) break;
    }
  } finally {
    stream.destroy();
  }
  return out.subarray(0, filled);
}
