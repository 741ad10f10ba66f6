/**
 * The few pieces of the Kafka wire protocol the fault tooling needs: frames
 * (a 4-byte size, then the message), request and response headers, and the
 * primitive types of the handful of requests the cluster probe sends. Every
 * request and response is a size-prefixed frame, so a proxy can relay whole
 * frames and read their headers without knowing any API's body.
 */

/** API keys the fault tooling names (Kafka's protocol numbering). */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  SyncGroup: 14,
  ApiVersions: 18,
  InitProducerId: 22,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  TxnOffsetCommit: 28,
  DescribeQuorum: 55,
} as const;

/** The header fields every request starts with, whatever its version. */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Bytes a frame needs before its header can be read: size, api key, version, correlation id. */
const REQUEST_HEADER_BYTES = 4 + 2 + 2 + 4;
const RESPONSE_HEADER_BYTES = 4 + 4;

/** The header of a request frame (size prefix included). */
export function readRequestHeader(frame: Buffer): RequestHeader {
  if (frame.length < REQUEST_HEADER_BYTES)
    throw new RangeError('request frame shorter than its header');
  return {
    apiKey: frame.readInt16BE(4),
    apiVersion: frame.readInt16BE(6),
    correlationId: frame.readInt32BE(8),
  };
}

/** The correlation id of a response frame (size prefix included). */
export function readResponseCorrelationId(frame: Buffer): number {
  if (frame.length < RESPONSE_HEADER_BYTES)
    throw new RangeError('response frame shorter than its header');
  return frame.readInt32BE(4);
}

/**
 * Cuts a byte stream into whole frames. Bytes arrive in any chunking (a frame
 * split over reads, several frames in one read); `push` returns the frames
 * completed so far, each with its size prefix, and keeps the rest.
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    let buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (size < 0 || size > this.maxFrameBytes)
        throw new RangeError(`frame of ${size} bytes is outside 0..${this.maxFrameBytes}`);
      if (buf.length < 4 + size) break;
      frames.push(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
    }
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
    return frames;
  }
}

/** Builds a request body field by field (big-endian, as Kafka writes). */
export class WireWriter {
  private readonly parts: Buffer[] = [];

  private fixed(bytes: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(bytes);
    write(b);
    this.parts.push(b);
    return this;
  }

  int8(v: number): this {
    return this.fixed(1, (b) => b.writeInt8(v));
  }
  int16(v: number): this {
    return this.fixed(2, (b) => b.writeInt16BE(v));
  }
  int32(v: number): this {
    return this.fixed(4, (b) => b.writeInt32BE(v));
  }
  int64(v: bigint): this {
    return this.fixed(8, (b) => b.writeBigInt64BE(v));
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  /** Unsigned varint (compact lengths, tagged-field counts). */
  uvarint(v: number): this {
    const bytes: number[] = [];
    let n = v >>> 0;
    while (n >= 0x80) {
      bytes.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(n);
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  /** STRING (int16 length) or NULLABLE_STRING when null. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    this.int16(b.length);
    this.parts.push(b);
    return this;
  }
  /** COMPACT_STRING (uvarint length + 1). */
  compactString(v: string): this {
    const b = Buffer.from(v, 'utf8');
    this.uvarint(b.length + 1);
    this.parts.push(b);
    return this;
  }
  /** An empty set of tagged fields (flexible versions). */
  noTags(): this {
    return this.uvarint(0);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Reads a response body field by field. */
export class WireReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  int8(): number {
    const v = this.buf.readInt8(this.offset);
    this.offset += 1;
    return v;
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buf.readUInt8(this.offset);
      this.offset += 1;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 28) throw new RangeError('varint longer than 5 bytes');
    }
  }
  /** STRING or NULLABLE_STRING. */
  string(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    const v = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return v;
  }
  /** COMPACT_STRING or COMPACT_NULLABLE_STRING. */
  compactString(): string | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    const v = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return v;
  }
  /** ARRAY (int32 count; -1 is null, read as empty). */
  array<T>(item: (r: WireReader) => T): T[] {
    const n = this.int32();
    return Array.from({ length: Math.max(n, 0) }, () => item(this));
  }
  /** COMPACT_ARRAY (uvarint count + 1). */
  compactArray<T>(item: (r: WireReader) => T): T[] {
    const n = this.uvarint() - 1;
    return Array.from({ length: Math.max(n, 0) }, () => item(this));
  }
  /** Skips a set of tagged fields. */
  skipTags(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i += 1) {
      this.uvarint();
      const size = this.uvarint();
      this.offset += size;
    }
  }
}

/**
 * A whole request frame: size, header (v1: client id as STRING; v2 adds
 * tagged fields, for flexible versions), body.
 */
export function requestFrame(
  header: RequestHeader & { clientId: string; flexible: boolean },
  body: Buffer,
): Buffer {
  const h = new WireWriter()
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .string(header.clientId);
  if (header.flexible) h.noTags();
  const head = h.toBuffer();
  const size = Buffer.alloc(4);
  size.writeInt32BE(head.length + body.length);
  return Buffer.concat([size, head, body]);
}

/**
 * The body of a response frame: after the size and correlation id, and after
 * the header's tagged fields when the response is flexible.
 */
export function responseBody(frame: Buffer, flexible: boolean): WireReader {
  const r = new WireReader(frame.subarray(RESPONSE_HEADER_BYTES));
  if (flexible) r.skipTags();
  return r;
}

/**
 * The body of a request frame, past its header (v1: client id; v2, for
 * flexible versions, also tagged fields).
 */
export function requestBody(frame: Buffer, flexible: boolean): WireReader {
  const r = new WireReader(frame.subarray(REQUEST_HEADER_BYTES));
  r.string();
  if (flexible) r.skipTags();
  return r;
}

/** EndTxn is flexible from version 3. */
const END_TXN_FIRST_FLEXIBLE = 3;

/**
 * Whether an EndTxn request commits (true) or aborts (false): a scenario that
 * loses commit answers must not spend its cuts on the aborts that follow them.
 */
export function endTxnCommits(frame: Buffer): boolean {
  const header = readRequestHeader(frame);
  if (header.apiKey !== ApiKey.EndTxn) throw new RangeError(`api ${header.apiKey} is not EndTxn`);
  const flexible = header.apiVersion >= END_TXN_FIRST_FLEXIBLE;
  const r = requestBody(frame, flexible);
  if (flexible) r.compactString();
  else r.string();
  r.int64();
  r.int16();
  return r.bool();
}
