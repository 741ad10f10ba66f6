import { Readable } from 'node:stream';
import { createUnzip } from 'node:zlib';

/** Chunk size of the inflater: the memory an extraction holds besides the key and headers. */
const CHUNK_BYTES = 64 * 1024;

/** Reads a stream of chunks as varints and byte runs, holding one chunk at a time. */
class ByteReader {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async fill(): Promise<void> {
    while (this.pos >= this.chunk.length) {
      const next = await this.chunks.next();
      if (next.done) throw new RangeError('the batch ended inside a record');
      this.chunk = next.value;
      this.pos = 0;
    }
  }

  async byte(): Promise<number> {
    await this.fill();
    const b = this.chunk[this.pos] as number;
    this.pos += 1;
    return b;
  }

  /** A zigzag varint (the record format's lengths and deltas). */
  async varint(): Promise<number> {
    let raw = 0;
    let factor = 1;
    for (let i = 0; i < 10; i += 1) {
      const b = await this.byte();
      raw += (b & 0x7f) * factor;
      factor *= 128;
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** Hands `n` bytes to `sink` in pieces, as they arrive. */
  async pipe(n: number, sink: (piece: Buffer) => void | Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      await this.fill();
      const piece = this.chunk.subarray(this.pos, this.pos + left);
      this.pos += piece.length;
      left -= piece.length;
      await sink(piece);
    }
  }

  /** `n` bytes whole when `n <= max`; otherwise skipped, and null. */
  async bytes(n: number, max: number): Promise<Buffer | null> {
    if (n > max) {
      await this.pipe(n, () => undefined);
      return null;
    }
    const parts: Buffer[] = [];
    await this.pipe(n, (p) => {
      parts.push(Buffer.from(p));
    });
    return Buffer.concat(parts, n);
  }
}

/** The parts of a record read back from its batch; the value went to the sink. */
export interface ExtractedRecord {
  /** Null when the record had none, or when it was longer than `maxKeyBytes`. */
  key: Buffer | null;
  headers: Record<string, Buffer>;
  /** Header bytes left out beyond `maxHeaderBytes` (0 when every header was kept). */
  droppedHeaderBytes: number;
  valueBytes: number;
  /** True for a null value (nothing was sent to the sink). */
  nullValue: boolean;
}

/** Bounds on what an extraction holds in memory (the value is only streamed). */
export interface ExtractionLimits {
  maxKeyBytes: number;
  maxHeaderBytes: number;
}

/**
 * Reads record `index` of a gzip-compressed record batch (the records part,
 * as the bounded codec retained it) without holding it whole: the batch is
 * inflated as a stream, earlier records are skipped by their lengths, the
 * record's value is handed to `valueSink` chunk by chunk (into the
 * dead-letter store), and its key and headers are kept within `limits`.
 * Memory: one inflate chunk plus the kept key and headers.
 */
export async function extractRecord(
  compressed: Buffer,
  index: number,
  valueSink: (piece: Buffer) => void | Promise<void>,
  limits: ExtractionLimits,
): Promise<ExtractedRecord> {
  const inflater = Readable.from([compressed]).pipe(createUnzip({ chunkSize: CHUNK_BYTES }));
  const iterator = (inflater as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const reader = new ByteReader(iterator);
  try {
    for (let i = 0; i < index; i += 1) {
      const length = await reader.varint();
      await reader.pipe(length, () => undefined);
    }
    await reader.varint(); // record length
    await reader.byte(); // attributes
    await reader.varint(); // timestamp delta
    await reader.varint(); // offset delta
    const keyLength = await reader.varint();
    const key = keyLength < 0 ? null : await reader.bytes(keyLength, limits.maxKeyBytes);
    const valueLength = await reader.varint();
    if (valueLength > 0) await reader.pipe(valueLength, valueSink);
    const headers: Record<string, Buffer> = {};
    let kept = 0;
    let dropped = 0;
    const count = await reader.varint();
    for (let h = 0; h < count; h += 1) {
      const nameLength = await reader.varint();
      const name = await reader.bytes(Math.max(0, nameLength), limits.maxHeaderBytes - kept);
      const size = await reader.varint();
      const room = limits.maxHeaderBytes - kept - (name?.length ?? 0);
      const value = size < 0 ? Buffer.alloc(0) : await reader.bytes(size, Math.max(0, room));
      if (name && value) {
        headers[name.toString()] = value;
        kept += name.length + value.length;
      } else {
        dropped += Math.max(0, nameLength) + Math.max(0, size);
      }
    }
    return {
      key,
      headers,
      droppedHeaderBytes: dropped,
      valueBytes: Math.max(0, valueLength),
      nullValue: valueLength < 0,
    };
  } finally {
    inflater.destroy();
  }
}
