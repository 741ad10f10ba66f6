import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaFaultProxy } from './fault-proxy';
import { ApiKey, FrameSplitter, readRequestHeader, requestFrame } from './kafka-wire';

/** A loopback server that answers every request frame with its correlation id, like a broker. */
async function echoBroker(): Promise<{ server: Server; port: number; seen: number[] }> {
  const seen: number[] = [];
  const server = createServer((s) => {
    const split = new FrameSplitter(1 << 20);
    s.on('data', (chunk: Buffer) => {
      for (const f of split.push(chunk)) {
        const h = readRequestHeader(f);
        seen.push(h.apiKey);
        const answer = Buffer.alloc(12);
        answer.writeInt32BE(8, 0);
        answer.writeInt32BE(h.correlationId, 4);
        answer.writeInt32BE(h.apiKey, 8);
        s.write(answer);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** Sends requests over one connection; resolves with the answers' api keys and whether it was cut. */
function client(port: number, apiKeys: number[]): Promise<{ answered: number[]; cut: boolean }> {
  return new Promise((resolve) => {
    const answered: number[] = [];
    const split = new FrameSplitter(1 << 20);
    const s: Socket = connect({ host: '127.0.0.1', port }, () => {
      apiKeys.forEach((apiKey, i) =>
        s.write(
          requestFrame(
            { apiKey, apiVersion: 0, correlationId: i + 1, clientId: 't', flexible: false },
            Buffer.alloc(0),
          ),
        ),
      );
    });
    s.on('data', (chunk: Buffer) => {
      for (const f of split.push(chunk)) answered.push(f.readInt32BE(8));
      if (answered.length === apiKeys.length) {
        s.end();
        resolve({ answered, cut: false });
      }
    });
    s.on('close', () => resolve({ answered, cut: answered.length < apiKeys.length }));
    s.on('error', () => undefined);
  });
}

describe('KafkaFaultProxy', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function setUp() {
    const broker = await echoBroker();
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const proxy = new KafkaFaultProxy({
      host: '127.0.0.1',
      port,
      targetPort: broker.port,
      maxFrameBytes: 1 << 20,
    });
    await proxy.start();
    closers.push(
      () => proxy.close(),
      () => new Promise<void>((r) => broker.server.close(() => r())),
    );
    return { broker, proxy, port };
  }

  it('relays every request and answer while nothing is armed', async () => {
    const { proxy, port } = await setUp();
    const r = await client(port, [ApiKey.Metadata, ApiKey.EndTxn]);
    expect(r).toEqual({ answered: [ApiKey.Metadata, ApiKey.EndTxn], cut: false });
    expect(proxy.cuts).toBe(0);
    expect(proxy.requests.get(ApiKey.EndTxn)).toBe(1);
  });

  it('lets the request reach the broker and cuts the connection instead of relaying its answer', async () => {
    const { broker, proxy, port } = await setUp();
    const cuts: number[] = [];
    proxy.on('cut', (e) => cuts.push(e.request.correlationId));
    proxy.cutResponses(ApiKey.TxnOffsetCommit, 1);
    const r = await client(port, [ApiKey.Metadata, ApiKey.TxnOffsetCommit, ApiKey.EndTxn]);
    expect(r.cut).toBe(true);
    expect(r.answered).toEqual([ApiKey.Metadata]);
    expect(broker.seen).toContain(ApiKey.TxnOffsetCommit);
    expect(cuts).toEqual([2]);
    // Spent: the next connection goes through untouched.
    expect((await client(port, [ApiKey.TxnOffsetCommit])).cut).toBe(false);
  });

  it('cuts only the requests the filter picks, as many times as armed', async () => {
    const { proxy, port } = await setUp();
    proxy.cutResponses(ApiKey.EndTxn, 2, (h) => h.correlationId === 1);
    expect((await client(port, [ApiKey.Metadata, ApiKey.EndTxn])).cut).toBe(false);
    expect((await client(port, [ApiKey.EndTxn])).cut).toBe(true);
    expect((await client(port, [ApiKey.EndTxn])).cut).toBe(true);
    expect((await client(port, [ApiKey.EndTxn])).cut).toBe(false);
    expect(proxy.cuts).toBe(2);
  });
});
