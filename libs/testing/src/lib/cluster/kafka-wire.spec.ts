import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  endTxnCommits,
  FrameSplitter,
  WireReader,
  WireWriter,
  readRequestHeader,
  readResponseCorrelationId,
  requestFrame,
  responseBody,
} from './kafka-wire';

const frame = (correlationId: number, apiKey: number = ApiKey.EndTxn) =>
  requestFrame(
    { apiKey, apiVersion: 3, correlationId, clientId: 'c', flexible: true },
    Buffer.from([1, 2, 3]),
  );

describe('FrameSplitter', () => {
  it('returns whole frames whatever the chunking: split, joined, byte by byte', () => {
    const a = frame(1);
    const b = frame(2, ApiKey.TxnOffsetCommit);
    const stream = Buffer.concat([a, b]);
    for (const step of [1, 3, 7, stream.length]) {
      const s = new FrameSplitter(1024);
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step)
        out.push(...s.push(stream.subarray(i, i + step)));
      expect(out.map((f) => readRequestHeader(f).correlationId)).toEqual([1, 2]);
      expect(Buffer.concat(out).equals(stream)).toBe(true);
    }
  });

  it('refuses a size that no Kafka frame has', () => {
    const s = new FrameSplitter(16);
    expect(() => s.push(Buffer.from([0x7f, 0, 0, 0]))).toThrow(RangeError);
  });
});

describe('headers', () => {
  it('reads the api key, version and correlation id of a request', () => {
    expect(readRequestHeader(frame(42, ApiKey.TxnOffsetCommit))).toEqual({
      apiKey: 28,
      apiVersion: 3,
      correlationId: 42,
    });
  });

  it('reads the correlation id of a response and skips a flexible header', () => {
    const body = new WireWriter().int16(7).toBuffer();
    const head = Buffer.alloc(8);
    head.writeInt32BE(4 + 1 + body.length, 0);
    head.writeInt32BE(99, 4);
    const f = Buffer.concat([head, Buffer.from([0]), body]);
    expect(readResponseCorrelationId(f)).toBe(99);
    expect(responseBody(f, true).int16()).toBe(7);
  });
});

describe('WireWriter and WireReader', () => {
  it('round-trip every primitive the probe uses', () => {
    const b = new WireWriter()
      .int8(-3)
      .int16(-2)
      .int32(123456)
      .bool(true)
      .uvarint(300)
      .string('topic')
      .string(null)
      .compactString('__cluster_metadata')
      .noTags()
      .toBuffer();
    const r = new WireReader(b);
    expect([r.int8(), r.int16(), r.int32(), r.bool(), r.uvarint()]).toEqual([
      -3,
      -2,
      123456,
      true,
      300,
    ]);
    expect([r.string(), r.string(), r.compactString()]).toEqual([
      'topic',
      null,
      '__cluster_metadata',
    ]);
    expect(() => r.skipTags()).not.toThrow();
  });

  it('reads arrays, a null array as empty', () => {
    const b = new WireWriter().int32(2).int32(5).int32(6).int32(-1).uvarint(3).int32(1).int32(2);
    const r = new WireReader(b.toBuffer());
    expect(r.array((x) => x.int32())).toEqual([5, 6]);
    expect(r.array((x) => x.int32())).toEqual([]);
    expect(r.compactArray((x) => x.int32())).toEqual([1, 2]);
  });
});

describe('endTxnCommits', () => {
  const endTxn = (apiVersion: number, commit: boolean) => {
    const flexible = apiVersion >= 3;
    const body = new WireWriter();
    if (flexible) body.compactString('tx.a.0');
    else body.string('tx.a.0');
    body.int64(7n).int16(2).bool(commit);
    if (flexible) body.noTags();
    return requestFrame(
      { apiKey: ApiKey.EndTxn, apiVersion, correlationId: 5, clientId: 'p', flexible },
      body.toBuffer(),
    );
  };

  it('tells a commit from an abort, in the plain and the flexible versions', () => {
    for (const version of [0, 1, 3, 5]) {
      expect(endTxnCommits(endTxn(version, true))).toBe(true);
      expect(endTxnCommits(endTxn(version, false))).toBe(false);
    }
  });
});
