import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../topic-io';
import { messageBytes, requestsOf } from './produce-requests';

const msg = (bytes: number, key = 'k'): OutgoingMessage => ({
  key,
  value: Buffer.alloc(bytes - key.length),
  headers: {},
});

describe('requestsOf', () => {
  it('keeps a small chunk in one request', () => {
    const outputs = new Map([
      ['a', [msg(100), msg(100)]],
      ['b', [msg(100)]],
    ]);
    const requests = requestsOf(outputs, 1000);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.map((t) => [t.topic, t.messages.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('splits so that no request passes the byte limit, keeping every message once and in order', () => {
    const a = Array.from({ length: 25 }, () => msg(100));
    const b = Array.from({ length: 10 }, () => msg(300));
    const requests = requestsOf(
      new Map([
        ['a', a],
        ['b', b],
      ]),
      1000,
    );
    for (const r of requests) {
      const bytes = r.flatMap((t) => t.messages).reduce((n, m) => n + messageBytes(m), 0);
      expect(bytes).toBeLessThanOrEqual(1000);
    }
    const flat = (topic: string) =>
      requests.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages));
    expect(flat('a')).toEqual(a);
    expect(flat('b')).toEqual(b);
  });

  it('sends a message larger than the limit alone rather than dropping it', () => {
    const big = msg(5000);
    const requests = requestsOf(new Map([['a', [msg(10), big, msg(10)]]]), 1000);
    expect(requests.map((r) => r[0]?.messages.length)).toEqual([1, 1, 1]);
    expect(requests[1]?.[0]?.messages[0]).toBe(big);
  });

  it('counts key, value and header bytes', () => {
    expect(
      messageBytes({
        key: 'abc',
        value: Buffer.alloc(10),
        headers: { h: 'xy', g: Buffer.alloc(4) },
      }),
    ).toBe(3 + 10 + 1 + 2 + 1 + 4);
  });

  it('makes no request for an empty chunk', () => {
    expect(requestsOf(new Map(), 1000)).toEqual([]);
  });
});
