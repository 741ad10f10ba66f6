import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FunderGuard, type CircuitStateChange } from './funder-guard';
import type { PortalOutcome } from './outcomes';
import { RestFunderAdapter } from './rest-funder-adapter';

const request = { grantId: 'NSF-2026-00042', idempotencyKey: 'gs1-key', body: {} };

describe('FunderGuard around a local portal', () => {
  let hits = 0;
  /** What the portal answers next: an HTTP status, or 'hang' to never answer. */
  let answer: number | 'hang' = 503;
  let now = 1_000_000;
  let base = '';
  // A fresh server per test: a new port is a new origin, so fetch's connection pool never hands one
  // test a socket another test left behind.
  let server: Server;
  const startServer = () =>
    createServer((req, res) => {
      res.setHeader('Connection', 'close');
      req.resume();
      req.on('end', () => {
        hits += 1;
        if (answer === 'hang') return;
        res.writeHead(answer, { 'Content-Type': 'application/json' });
        res.end(
          answer < 300 ? JSON.stringify({ tracking_number: 'T1', status: 'RECEIVED' }) : '{}',
        );
      });
    });

  const settings = { consecutiveFailures: 3, halfOpenAfterMs: 30_000 };
  let guard: FunderGuard;
  let changes: CircuitStateChange[];
  let adapter: RestFunderAdapter;

  const submit = () => guard.wrap(adapter).submit(request);
  const failUntilOpen = async () => {
    answer = 503;
    for (let i = 0; i < settings.consecutiveFailures; i += 1) {
      expect(await submit()).toMatchObject({ kind: 'transient' });
    }
    expect(guard.state).toBe('open');
  };

  beforeEach(async () => {
    hits = 0;
    now = 1_000_000;
    server = startServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    adapter = new RestFunderAdapter({
      funderId: 'NSF',
      baseUrl: base,
      token: 't',
      timeoutMs: 2000,
    });
    guard = new FunderGuard({ funderId: 'NSF', circuit: settings, now: () => now });
    changes = [];
    guard.onStateChange((change) => changes.push(change));
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('opens after N consecutive failures and then short-circuits without calling the portal', async () => {
    expect(guard.state).toBe('closed');
    await failUntilOpen();
    expect(hits).toBe(3);
    now += 10_000;
    expect(await submit()).toEqual({ kind: 'circuit_open', retryAfterMs: 20_000 });
    expect(await guard.wrap(adapter).status('T1')).toEqual({
      kind: 'circuit_open',
      retryAfterMs: 20_000,
    });
    expect(await guard.wrap(adapter).lookup('gs1-key')).toMatchObject({ kind: 'circuit_open' });
    expect(hits).toBe(3);
    expect(changes).toEqual([{ funderId: 'NSF', from: 'closed', to: 'open', atMs: 1_000_000 }]);
  });

  it('opens on timeouts too', async () => {
    adapter = new RestFunderAdapter({ funderId: 'NSF', baseUrl: base, token: 't', timeoutMs: 50 });
    answer = 'hang';
    for (let i = 0; i < 3; i += 1) expect(await submit()).toEqual({ kind: 'timed_out' });
    expect(guard.state).toBe('open');
  });

  it('names when the next probe goes out: at the end of the open delay, now once half open, none while closed', async () => {
    expect(guard.nextProbeAtMs).toBeNull();
    await failUntilOpen();
    expect(guard.nextProbeAtMs).toBe(1_000_000 + settings.halfOpenAfterMs);
    now += settings.halfOpenAfterMs + 5;
    expect(guard.nextProbeAtMs).toBe(now);
    answer = 201;
    await submit();
    expect(guard.nextProbeAtMs).toBeNull();
  });

  it('half-opens after the delay and closes when the probe succeeds', async () => {
    await failUntilOpen();
    now += settings.halfOpenAfterMs;
    expect(guard.state).toBe('half_open');
    answer = 201;
    expect(await submit()).toMatchObject({ kind: 'accepted', trackingNumber: 'T1' });
    expect(guard.state).toBe('closed');
    expect(hits).toBe(4);
    expect(changes.map((c) => `${c.from}->${c.to}@${c.atMs - 1_000_000}`)).toEqual([
      'closed->open@0',
      'open->half_open@30000',
      'half_open->closed@30000',
    ]);
  });

  it('reopens for another full delay when the probe fails', async () => {
    await failUntilOpen();
    now += settings.halfOpenAfterMs;
    expect(await submit()).toMatchObject({ kind: 'transient', httpStatus: 503 });
    expect(guard.state).toBe('open');
    expect(await submit()).toEqual({ kind: 'circuit_open', retryAfterMs: 30_000 });
    expect(hits).toBe(4);
  });

  it('lets a single probe through while half open', async () => {
    await failUntilOpen();
    now += settings.halfOpenAfterMs;
    let release: (outcome: PortalOutcome) => void = () => undefined;
    const probe = guard.run(() => new Promise<PortalOutcome>((resolve) => (release = resolve)));
    expect(await submit()).toEqual({
      kind: 'circuit_open',
      retryAfterMs: settings.halfOpenAfterMs,
    });
    expect(hits).toBe(3);
    release({ kind: 'not_found' });
    expect(await probe).toEqual({ kind: 'not_found' });
    expect(guard.state).toBe('closed');
  });

  it('frees the probe slot when the probe throws, without deciding', async () => {
    await failUntilOpen();
    now += settings.halfOpenAfterMs;
    const aborted = new Error('aborted');
    await expect(guard.run(() => Promise.reject(aborted))).rejects.toBe(aborted);
    expect(guard.state).toBe('half_open');
    answer = 201;
    expect(await submit()).toMatchObject({ kind: 'accepted' });
    expect(guard.state).toBe('closed');
  });

  it.each([
    [201, 'accepted'],
    [429, 'rate_limited'],
    [422, 'rejected'],
  ])(
    'resets the failure count on an answer the portal gave in good health (%i)',
    async (status, kind) => {
      answer = 503;
      await submit();
      await submit();
      answer = status;
      expect(await submit()).toMatchObject({ kind });
      answer = 503;
      await submit();
      await submit();
      expect(guard.state).toBe('closed');
      await submit();
      expect(guard.state).toBe('open');
    },
  );

  it('does not let a call admitted before the circuit opened close it', async () => {
    let release: (outcome: PortalOutcome) => void = () => undefined;
    const slow = guard.run(() => new Promise<PortalOutcome>((resolve) => (release = resolve)));
    await failUntilOpen();
    release({ kind: 'not_found' });
    await slow;
    expect(guard.state).toBe('open');
  });

  it('keeps the outcome when a listener throws, and stops calling unsubscribed listeners', async () => {
    const seen: string[] = [];
    const unsubscribe = guard.onStateChange((change) => seen.push(change.to));
    const thrown: unknown[] = [];
    const onUncaught = (err: unknown) => thrown.push(err);
    process.on('uncaughtException', onUncaught);
    const unsubscribeBuggy = guard.onStateChange(() => {
      throw new Error('listener bug');
    });
    try {
      await failUntilOpen();
      await new Promise((resolve) => setImmediate(resolve));
      expect(thrown).toEqual([new Error('listener bug')]);
    } finally {
      unsubscribeBuggy();
      process.off('uncaughtException', onUncaught);
    }
    unsubscribe();
    now += settings.halfOpenAfterMs;
    expect(guard.state).toBe('half_open');
    expect(seen).toEqual(['open']);
  });

  it.each([
    [{ consecutiveFailures: 0, halfOpenAfterMs: 1 }],
    [{ consecutiveFailures: 1.5, halfOpenAfterMs: 1 }],
    [{ consecutiveFailures: 1, halfOpenAfterMs: -1 }],
  ])('refuses circuit settings %o', (circuit) => {
    expect(() => new FunderGuard({ funderId: 'NSF', circuit })).toThrow(RangeError);
  });
});
