import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createUnzip, gzip } from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from '@grantstream/kafkajs-extended';

/**
 * Bounded inflation of gzip record batches.
 *
 * kafkajs inflates a compressed record batch whole, and gzip has no inflation
 * limit: about 200 KB on the wire can be 200 MB of records in one batch, all
 * in memory at once before the first is handled. The broker's size limits and
 * the consumer's fetch sizes count compressed bytes, so they bound none of it.
 *
 * This codec inflates a batch as a stream and keeps at most `maxInflationRatio`
 * times its compressed size in memory. Each record beyond that is handed to
 * kafkajs as a stand-in: its key and headers as they are, its value replaced by
 * a short reference (a per-process random marker, the batch and the record's
 * position). {@link materializeValue} turns a reference back into the value
 * when the record is handled, inflating the batch again as a stream up to that
 * record, so at most one such value is in memory per message in flight. A record
 * larger than `maxInputRecordBytes` is never inflated into memory: its reference
 * materializes as oversized, and the runner dead-letters it.
 *
 * kafkajs's codecs are process-wide: once installed, every reader in the process
 * may see references, so every reader of compressed topics must pass values
 * through {@link materializeValue} (the stage runner does).
 */

/** Settings of the bounded codec (from the stage's memory configuration). */
export interface InflationLimits {
  /** Inflated bytes of a batch kept in memory per compressed byte; the rest is inflated per record. */
  maxInflationRatio: number;
  /** Largest record (key, value and headers) inflated into memory. */
  maxInputRecordBytes: number;
  /** Compressed bytes of batches kept for their references; the oldest batch beyond it is released. */
  maxRetainedBytes: number;
}

/** A value ready for handling, or the fact that it is too large to hold. */
export type MaterializedValue =
  | { oversized: false; value: Buffer | null }
  | { oversized: true; value: null; recordBytes: number };

/**
 * Raised by {@link materializeValue} when the batch a reference points into was
 * released (more batches arrived than the retained bound holds): the message
 * must be fetched again, never dead-lettered.
 */
export class BatchReleasedError extends Error {
  constructor() {
    super('the compressed batch of this record was released; it must be fetched again');
    this.name = 'BatchReleasedError';
  }
}

const MARKER = randomBytes(16);
const KIND_DEFERRED = 0;
const KIND_OVERSIZED = 1;
/** Marker, batch id (u32), record index (u32), kind (u8), size (f64). */
const REFERENCE_BYTES = MARKER.length + 4 + 4 + 1 + 8;
/** Enough of an oversized record to read its attributes, timestamp and offset deltas. */
const HEAD_BYTES = 32;
const CHUNK_BYTES = 64 * 1024;

let limits: InflationLimits | null = null;
let nextBatchId = 1;
const batches = new Map<number, LazyBatch>();
let retainedBytes = 0;

// ---------------------------------------------------------------- varints

/** A zigzag varint at `pos`: its value and the position after it; null when the bytes end first. */
export function readVarint(buf: Buffer, pos: number): { value: number; next: number } | null {
  let raw = 0;
  let factor = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i += 1) {
    const byte = buf[i] as number;
    raw += (byte & 0x7f) * factor;
    factor *= 128;
    if ((byte & 0x80) === 0) {
      const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      return { value, next: i + 1 };
    }
  }
  if (buf.length - pos >= 10) throw new RangeError('varint longer than 10 bytes');
  return null;
}

/** Encodes a zigzag varint. */
export function writeVarint(value: number): Buffer {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (raw >= 0x80) {
    bytes.push(raw % 128 | 0x80);
    raw = Math.floor(raw / 128);
  }
  bytes.push(raw);
  return Buffer.from(bytes);
}

function varintAt(buf: Buffer, pos: number): { value: number; next: number } {
  const v = readVarint(buf, pos);
  if (!v) throw new RangeError('record ends inside a varint');
  return v;
}

// ---------------------------------------------------------------- frames

/** One record of a batch as the splitter found it: whole, or only its head when too large. */
export type RecordFrame =
  | { kind: 'whole'; body: Buffer }
  | { kind: 'oversized'; head: Buffer; bodyBytes: number };

/**
 * Splits inflated batch bytes into record frames (each a varint length and a
 * body), chunk by chunk. Frames longer than `maxFrameBytes` are skipped,
 * keeping only their first bytes, so no single record is held whole.
 */
export class FrameSplitter {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private bodyBytes: number | null = null;
  private skipHead: Buffer[] | null = null;
  private skipHeadBytes = 0;
  private skipRemaining = 0;
  private skipTotal = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds inflated bytes; returns the frames they complete. */
  push(chunk: Buffer): RecordFrame[] {
    const frames: RecordFrame[] = [];
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    for (;;) {
      if (this.skipHead) {
        if (!this.skipStep(frames)) return frames;
        continue;
      }
      if (this.bodyBytes === null) {
        const peek = this.peek(10);
        const v = readVarint(peek, 0);
        if (!v) return frames;
        if (v.value < 0) throw new RangeError(`record length ${v.value}`);
        this.take(v.next);
        if (v.value > this.maxFrameBytes) {
          this.skipHead = [];
          this.skipHeadBytes = 0;
          this.skipRemaining = v.value;
          this.skipTotal = v.value;
          continue;
        }
        this.bodyBytes = v.value;
      }
      if (this.partsBytes < this.bodyBytes) return frames;
      frames.push({ kind: 'whole', body: this.take(this.bodyBytes) });
      this.bodyBytes = null;
    }
  }

  /** Asserts the bytes ended on a record boundary. */
  end(): void {
    if (this.bodyBytes !== null || this.skipHead || this.partsBytes > 0)
      throw new RangeError('inflated batch ends inside a record');
  }

  private skipStep(frames: RecordFrame[]): boolean {
    const head = this.skipHead as Buffer[];
    const n = Math.min(this.partsBytes, this.skipRemaining);
    if (n === 0) return false;
    const taken = this.take(n);
    if (this.skipHeadBytes < HEAD_BYTES) {
      const keep = taken.subarray(0, HEAD_BYTES - this.skipHeadBytes);
      head.push(Buffer.from(keep));
      this.skipHeadBytes += keep.length;
    }
    this.skipRemaining -= n;
    if (this.skipRemaining > 0) return false;
    frames.push({ kind: 'oversized', head: Buffer.concat(head), bodyBytes: this.skipTotal });
    this.skipHead = null;
    return true;
  }

  private peek(n: number): Buffer {
    const first = this.parts[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.parts, Math.min(n, this.partsBytes)).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.parts[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      this.partsBytes -= n;
      return out;
    }
    const pieces: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const part = this.parts[0] as Buffer;
      if (part.length <= need) {
        pieces.push(part);
        this.parts.shift();
        need -= part.length;
      } else {
        pieces.push(part.subarray(0, need));
        this.parts[0] = part.subarray(need);
        need = 0;
      }
    }
    this.partsBytes -= n;
    return Buffer.concat(pieces, n);
  }
}

/** Where a whole record body's value lies. */
export function valueSpan(body: Buffer): { lengthAt: number; start: number; end: number } {
  let pos = 1; // attributes
  pos = varintAt(body, pos).next; // timestamp delta
  pos = varintAt(body, pos).next; // offset delta
  const key = varintAt(body, pos);
  pos = key.next + Math.max(0, key.value);
  const value = varintAt(body, pos);
  const start = value.next;
  const end = start + Math.max(0, value.value);
  if (end > body.length) throw new RangeError('record value runs past its record');
  return { lengthAt: pos, start, end };
}

/** A framed record whose value is `value` and whose other fields are `body`'s. */
function withValue(body: Buffer, value: Buffer): Buffer {
  const span = valueSpan(body);
  const rebuilt = Buffer.concat([
    body.subarray(0, span.lengthAt),
    writeVarint(value.length),
    value,
    body.subarray(span.end),
  ]);
  return Buffer.concat([writeVarint(rebuilt.length), rebuilt]);
}

/** A framed record of an oversized one: its head's attributes and deltas, no key, `value`, no headers. */
function standIn(head: Buffer, value: Buffer): Buffer {
  let pos = 1;
  pos = varintAt(head, pos).next;
  pos = varintAt(head, pos).next;
  const body = Buffer.concat([
    head.subarray(0, pos),
    writeVarint(-1),
    writeVarint(value.length),
    value,
    writeVarint(0),
  ]);
  return Buffer.concat([writeVarint(body.length), body]);
}

function reference(batchId: number, index: number, kind: number, size: number): Buffer {
  const ref = Buffer.alloc(REFERENCE_BYTES);
  MARKER.copy(ref, 0);
  ref.writeUInt32BE(batchId, 16);
  ref.writeUInt32BE(index, 20);
  ref.writeUInt8(kind, 24);
  ref.writeDoubleBE(size, 25);
  return ref;
}

function parseReference(
  value: Buffer | null,
): { batchId: number; index: number; kind: number; size: number } | null {
  if (!value || value.length !== REFERENCE_BYTES) return null;
  if (!value.subarray(0, 16).equals(MARKER)) return null;
  return {
    batchId: value.readUInt32BE(16),
    index: value.readUInt32BE(20),
    kind: value.readUInt8(24),
    size: value.readDoubleBE(25),
  };
}

async function* framesOf(compressed: Buffer, maxFrameBytes: number): AsyncGenerator<RecordFrame> {
  const splitter = new FrameSplitter(maxFrameBytes);
  const inflater = Readable.from([compressed]).pipe(createUnzip({ chunkSize: CHUNK_BYTES }));
  try {
    for await (const chunk of inflater) {
      for (const frame of splitter.push(chunk as Buffer)) yield frame;
    }
    splitter.end();
  } finally {
    inflater.destroy();
  }
}

// ---------------------------------------------------------------- batches

/** A batch some of whose records are references: its compressed bytes and a forward-only cursor. */
class LazyBatch {
  private cursor: { next: number; frames: AsyncGenerator<RecordFrame> } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly compressed: Buffer,
    private readonly lastReference: number,
    private readonly maxFrameBytes: number,
  ) {}

  /** The value of record `index`, read in call order (messages of a chunk are asked for in order). */
  read(index: number): Promise<Buffer | null> {
    const result = this.queue.then(() => this.readNow(index));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    const cursor = this.cursor;
    this.cursor = null;
    await cursor?.frames.return(undefined);
  }

  private async readNow(index: number): Promise<Buffer | null> {
    if (!this.cursor || this.cursor.next > index) {
      await this.close();
      this.cursor = { next: 0, frames: framesOf(this.compressed, this.maxFrameBytes) };
    }
    const cursor = this.cursor;
    for (;;) {
      const step = await cursor.frames.next();
      if (step.done) throw new RangeError(`batch ${this.id} has no record ${index}`);
      const at = cursor.next;
      cursor.next += 1;
      if (at < index) continue;
      if (step.value.kind !== 'whole') throw new RangeError(`record ${index} is oversized`);
      const span = valueSpan(step.value.body);
      const value =
        readVarint(step.value.body, span.lengthAt)?.value === -1
          ? null
          : Buffer.from(step.value.body.subarray(span.start, span.end));
      if (index >= this.lastReference) release(this.id);
      return value;
    }
  }
}

function retain(batch: LazyBatch, maxRetainedBytes: number): void {
  batches.set(batch.id, batch);
  retainedBytes += batch.compressed.length;
  // The oldest first: a batch whose chunk was abandoned (a pause, a rebalance)
  // is never read to its end; its records are fetched and inflated again.
  for (const [id] of batches) {
    if (retainedBytes <= maxRetainedBytes || batches.size <= 1) break;
    release(id);
  }
}

function release(id: number): void {
  const batch = batches.get(id);
  if (!batch) return;
  batches.delete(id);
  retainedBytes -= batch.compressed.length;
  void batch.close();
}

/** Compressed bytes currently kept for references (for the in-flight gauge and tests). */
export function retainedCompressedBytes(): number {
  return retainedBytes;
}

// ---------------------------------------------------------------- codec

/**
 * Inflates one compressed batch as kafkajs's gzip codec would, keeping at most
 * `maxInflationRatio` times its compressed size: records beyond that come back
 * as references. Exported for tests; kafkajs calls it through the installed codec.
 */
export async function inflateBounded(compressed: Buffer, l: InflationLimits): Promise<Buffer> {
  const keep = l.maxInflationRatio * compressed.length;
  const out: Buffer[] = [];
  let outBytes = 0;
  let index = 0;
  let lastReference = -1;
  const batchId = nextBatchId;
  for await (const frame of framesOf(compressed, l.maxInputRecordBytes)) {
    if (frame.kind === 'oversized') {
      // Retained so the dead-letter path can stream the record into the dead-letter store.
      lastReference = index;
      const framed = standIn(
        frame.head,
        reference(batchId, index, KIND_OVERSIZED, frame.bodyBytes),
      );
      out.push(framed);
      outBytes += framed.length;
    } else if (outBytes + frame.body.length + 5 <= keep) {
      out.push(writeVarint(frame.body.length), frame.body);
      outBytes += frame.body.length + 5;
    } else {
      const span = valueSpan(frame.body);
      const framed = withValue(
        frame.body,
        reference(batchId, index, KIND_DEFERRED, span.end - span.start),
      );
      out.push(framed);
      outBytes += framed.length;
      lastReference = index;
    }
    index += 1;
  }
  if (lastReference >= 0) {
    nextBatchId = (nextBatchId % 0xffffffff) + 1;
    retain(
      new LazyBatch(batchId, Buffer.from(compressed), lastReference, l.maxInputRecordBytes),
      l.maxRetainedBytes,
    );
  }
  return Buffer.concat(out);
}

const gzipAsync = promisify(gzip);

/**
 * Installs the bounded gzip codec in kafkajs for this process (idempotent; the
 * latest limits apply). Compression is kafkajs's own (plain gzip).
 */
export function installBoundedInflation(settings: InflationLimits): void {
  limits = settings;
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: async (encoder: { buffer: Buffer }) => gzipAsync(encoder.buffer),
    decompress: async (buffer: Buffer) => inflateBounded(buffer, limits ?? settings),
  });
}

/**
 * Bytes a value stands for: its length, or for a reference the length of the
 * value it points to (what handling the message will hold).
 */
export function declaredValueBytes(value: Buffer | null): number {
  const ref = parseReference(value);
  return ref ? ref.size : (value?.length ?? 0);
}

/**
 * The compressed batch and position of a record the codec left out as
 * oversized, while the batch is retained: the dead-letter path streams the
 * record from it (see oversized-record.ts) so its key, headers and value
 * bytes are kept by reference. Null for any other value, or once released.
 */
export function oversizedRecordSource(
  value: Buffer | null,
): { compressed: Buffer; index: number } | null {
  const ref = parseReference(value);
  if (!ref || ref.kind !== KIND_OVERSIZED) return null;
  const batch = batches.get(ref.batchId);
  return batch ? { compressed: batch.compressed, index: ref.index } : null;
}

/**
 * The value a consumed record really holds: the value itself, or, for a
 * reference made by the bounded codec, its bytes inflated again from the
 * retained batch (oversized when the record is larger than the input bound).
 * Throws {@link BatchReleasedError} when that batch was released.
 */
export async function materializeValue(value: Buffer | null): Promise<MaterializedValue> {
  const ref = parseReference(value);
  if (!ref) return { oversized: false, value };
  if (ref.kind === KIND_OVERSIZED) return { oversized: true, value: null, recordBytes: ref.size };
  const batch = batches.get(ref.batchId);
  if (!batch) throw new BatchReleasedError();
  return { oversized: false, value: await batch.read(ref.index) };
}
