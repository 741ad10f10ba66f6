import { createServer, type AddressInfo } from 'node:net';
import Bottleneck from 'bottleneck';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InfrastructureError } from '@grantstream/errors';
import { BottleneckRedis } from './bottleneck-redis';
import {
  FunderLimiter,
  minTimeOf,
  type FunderLimiterDeps,
  type FunderLimiterOptions,
} from './funder-limiter';

// The shared state lives in Redis in production; these tests run the same
// Bottleneck settings on its in-process datastore, so they need no server.
// test/integration/funder-limiter-cluster.test.ts proves the Redis side.
const local: FunderLimiterDeps['createBottleneck'] = (o) =>
  new Bottleneck({ id: o.id, minTime: o.minTime, maxConcurrent: o.maxConcurrent });

const open: FunderLimiter[] = [];
function limiter(
  overrides: Partial<FunderLimiterOptions> = {},
  deps: FunderLimiterDeps = { createBottleneck: local },
): FunderLimiter {
  const l = new FunderLimiter(
    {
      funderId: 'NSF',
      ratePerSecond: 1000,
      maxConcurrent: 10,
      redis: { host: '127.0.0.1', port: 6390 },
      onError: () => undefined,
      ...overrides,
    },
    deps,
  );
  open.push(l);
  return l;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

/** A promise and the functions that settle it, for calls the test ends when it wants. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `condition` holds (a busy machine may take longer than any guessed delay). */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('minTimeOf', () => {
  it.each([
    [20, 50],
    [3, 334],
    [0.5, 2000],
    [1000, 1],
    [5000, 1],
  ])('%s/s gives %s ms between starts, never less than the rate allows', (rate, expected) => {
    expect(minTimeOf(rate)).toBe(expected);
    expect(1000 / minTimeOf(rate)).toBeLessThanOrEqual(rate);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %s', (rate) => {
    expect(() => minTimeOf(rate)).toThrow(RangeError);
  });
});

describe('FunderLimiter construction', () => {
  it('clusters through Redis under a per-funder id, never wiping the shared state', () => {
    const seen: Bottleneck.ConstructorOptions[] = [];
    limiter(
      {
        funderId: 'BCF',
        ratePerSecond: 20,
        maxConcurrent: 4,
        redis: { host: 'redis.internal', port: 6391 },
        stateTtlMs: 120_000,
      },
      {
        createBottleneck: (o) => {
          seen.push(o);
          return local(o);
        },
      },
    );
    expect(seen).toEqual([
      {
        id: 'grantstream.funder.BCF',
        datastore: 'ioredis',
        clearDatastore: false,
        clientOptions: { host: 'redis.internal', port: 6391 },
        Redis: BottleneckRedis,
        timeout: 120_000,
        minTime: 50,
        maxConcurrent: 4,
      },
    ]);
  });

  it('shares an id only between processes calling the same portal', () => {
    const a = limiter({ portal: 'http://127.0.0.1:8090/funders/NSF' }).id;
    expect(a).toMatch(/^grantstream\.funder\.NSF\.[0-9a-f]{16}$/);
    expect(limiter({ portal: 'http://127.0.0.1:8090/funders/NSF' }).id).toBe(a);
    expect(limiter({ portal: 'http://127.0.0.1:18090/funders/NSF' }).id).not.toBe(a);
  });

  it('takes the id prefix from its options', () => {
    expect(limiter({ idPrefix: 'test.run42' }).id).toBe('test.run42.NSF');
  });

  it('adds the spacing margin to the minTime of the rate', () => {
    const seen: Bottleneck.ConstructorOptions[] = [];
    const l = limiter(
      { ratePerSecond: 20, spacingMarginMs: 2 },
      {
        createBottleneck: (o) => {
          seen.push(o);
          return local(o);
        },
      },
    );
    expect(l.minTime).toBe(52);
    expect(seen[0]?.minTime).toBe(52);
  });

  it.each<[string, Partial<FunderLimiterOptions>]>([
    ['no concurrency', { maxConcurrent: 0 }],
    ['fractional concurrency', { maxConcurrent: 1.5 }],
    ['no rate', { ratePerSecond: 0 }],
    ['keys expiring under a running call', { jobExpirationMs: 60_000, stateTtlMs: 60_000 }],
    ['no ready timeout', { readyTimeoutMs: 0 }],
    ['a negative spacing margin', { spacingMarginMs: -1 }],
    ['a fractional spacing margin', { spacingMarginMs: 0.5 }],
  ])('refuses %s', (_what, overrides) => {
    expect(() => limiter(overrides)).toThrow(RangeError);
  });
});

describe('FunderLimiter.schedule', () => {
  it('runs the call and returns its value with the time it waited', async () => {
    const l = limiter();
    await l.ready();
    const result = await l.schedule(() => Promise.resolve(42), { maxWaitMs: 1000 });
    expect(result).toEqual({ kind: 'ran', value: 42, waitedMs: expect.any(Number) });
    expect(result.waitedMs).toBeLessThan(500);
  });

  it('spaces call starts by minTime, in the order they were scheduled', async () => {
    const l = limiter({ ratePerSecond: 20 });
    const starts: { i: number; at: number }[] = [];
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        l.schedule(
          () => {
            starts.push({ i, at: performance.now() });
            return Promise.resolve(i);
          },
          { maxWaitMs: 5000 },
        ),
      ),
    );
    expect(results.map((r) => r.kind)).toEqual(Array(6).fill('ran'));
    expect(starts.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5]);
    // Unspaced, six calls would start within a few ms. A start that runs late
    // (a busy machine) shortens the gap after it, so single gaps are not
    // checked; the span loses at most the first start's lateness.
    const span = (starts[5]?.at ?? 0) - (starts[0]?.at ?? 0);
    expect(span).toBeGreaterThanOrEqual(5 * 50 - 25);
  });

  it('never has more than maxConcurrent calls in flight', async () => {
    const l = limiter({ maxConcurrent: 2 });
    const gate = deferred();
    let inFlight = 0;
    let most = 0;
    const all = Promise.all(
      Array.from({ length: 6 }, () =>
        l.schedule(
          async () => {
            inFlight += 1;
            most = Math.max(most, inFlight);
            await gate.promise;
            inFlight -= 1;
          },
          { maxWaitMs: 5000 },
        ),
      ),
    );
    // Held open, two calls run and the other four wait, however slow the machine.
    await until(() => l.counts().running === 2);
    await sleep(50);
    expect(l.counts()).toEqual({ queued: 4, running: 2 });
    gate.resolve();
    await all;
    expect(most).toBe(2);
  });

  it('answers throttled once maxWaitMs passes, and never calls fn afterwards', async () => {
    const l = limiter({ maxConcurrent: 1 });
    const blocker = deferred();
    const first = l.schedule(() => blocker.promise, { maxWaitMs: 1000 });
    await until(() => l.counts().running === 1);
    const late = vi.fn(() => Promise.resolve('late'));
    const started = performance.now();
    const second = l.schedule(late, { maxWaitMs: 40 });
    expect(l.counts()).toEqual({ queued: 1, running: 1 });

    const outcome = await second;
    expect(outcome.kind).toBe('throttled');
    expect(outcome.waitedMs).toBeGreaterThanOrEqual(39);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(l.counts()).toEqual({ queued: 0, running: 1 });

    blocker.resolve();
    await first;
    await sleep(50);
    expect(late).not.toHaveBeenCalled();
    expect(l.counts()).toEqual({ queued: 0, running: 0 });
  });

  it('spends no slot on callers that were throttled while waiting', async () => {
    // 2/s: every slot a throttled caller spent would delay the next call by 500 ms.
    const l = limiter({ ratePerSecond: 2, maxConcurrent: 1 });
    const blocker = deferred();
    const first = l.schedule(() => blocker.promise, { maxWaitMs: 1000 });
    await until(() => l.counts().running === 1);
    const never = vi.fn(() => Promise.resolve());
    const throttled = await Promise.all(
      Array.from({ length: 5 }, () => l.schedule(never, { maxWaitMs: 20 })),
    );
    expect(throttled.map((r) => r.kind)).toEqual(Array(5).fill('throttled'));
    await sleep(120);

    const next = l.schedule(() => Promise.resolve('next'), { maxWaitMs: 1000 });
    blocker.resolve();
    await first;
    const result = await next;
    expect(result.kind).toBe('ran');
    // Unspent, the next call waits out the rest of the first call's 500 ms slot;
    // five spent slots would add 2,500 ms. The margin is for a busy machine.
    expect(result.waitedMs).toBeLessThan(1500);
    expect(never).not.toHaveBeenCalled();
  });

  it('rejects with the error of the call', async () => {
    const l = limiter();
    const boom = new Error('portal exploded');
    await expect(l.schedule(() => Promise.reject(boom), { maxWaitMs: 1000 })).rejects.toBe(boom);
    expect(l.counts()).toEqual({ queued: 0, running: 0 });
  });

  it('rejects at once with the reason of a signal aborted before the call', async () => {
    const l = limiter();
    const reason = new Error('shutting down');
    const fn = vi.fn(() => Promise.resolve());
    await expect(
      l.schedule(fn, { maxWaitMs: 1000, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects a waiting call with the reason of its aborted signal and never runs it', async () => {
    const l = limiter({ maxConcurrent: 1 });
    const blocker = deferred();
    const first = l.schedule(() => blocker.promise, { maxWaitMs: 1000 });
    const controller = new AbortController();
    const fn = vi.fn(() => Promise.resolve());
    const waiting = l.schedule(fn, { maxWaitMs: 1000, signal: controller.signal });
    await until(() => l.counts().running === 1 && l.counts().queued === 1);
    const reason = new Error('rebalance');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(l.counts().queued).toBe(0);
    blocker.resolve();
    await first;
    await sleep(20);
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects a running call at once on abort; the call keeps its slot until it settles', async () => {
    const l = limiter({ maxConcurrent: 1 });
    const controller = new AbortController();
    const call = deferred();
    const running = l.schedule(() => call.promise, { maxWaitMs: 1000, signal: controller.signal });
    await until(() => l.counts().running === 1);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(l.counts()).toEqual({ queued: 0, running: 1 });
    call.resolve();
    await until(() => l.counts().running === 0);
    expect(l.counts()).toEqual({ queued: 0, running: 0 });
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxWaitMs %s', async (maxWaitMs) => {
    await expect(limiter().schedule(() => Promise.resolve(), { maxWaitMs })).rejects.toThrow(
      RangeError,
    );
  });

  it('reports a slot it could not claim and answers throttled instead of hanging', async () => {
    const onError = vi.fn();
    const l = limiter(
      { onError },
      {
        createBottleneck: (o) => {
          const b = local(o);
          // A limiter that refuses every job, as Bottleneck does when Redis refuses its script.
          void b.stop();
          return b;
        },
      },
    );
    const result = await l.schedule(() => Promise.resolve(), { maxWaitMs: 50 });
    expect(result.kind).toBe('throttled');
    expect(onError).toHaveBeenCalledWith(expect.any(InfrastructureError));
    expect(String(onError.mock.calls[0]?.[0])).toContain('could not claim a slot');
  });
});

describe('FunderLimiter.ready', () => {
  it('fails with an InfrastructureError naming Redis when it does not answer in time', async () => {
    const l = limiter(
      { readyTimeoutMs: 50, redis: { host: '127.0.0.1', port: 6999 } },
      {
        createBottleneck: (o) => {
          const b = local(o);
          b.ready = () => new Promise(() => undefined);
          return b;
        },
      },
    );
    const failure = l.ready();
    await expect(failure).rejects.toThrow(InfrastructureError);
    await expect(failure).rejects.toThrow('127.0.0.1:6999');
  });
});

describe('FunderLimiter.close', () => {
  it('rejects waiting callers, waits for calls in flight, then refuses new calls', async () => {
    const l = limiter({ maxConcurrent: 1 });
    const call = deferred<string>();
    const running = l.schedule(() => call.promise, { maxWaitMs: 1000 });
    await until(() => l.counts().running === 1);
    const waiting = l.schedule(() => Promise.resolve('never'), { maxWaitMs: 1000 });

    let closed = false;
    const closing = l.close().then(() => (closed = true));
    await expect(waiting).rejects.toThrow(InfrastructureError);
    await sleep(20);
    expect(closed).toBe(false);

    call.resolve('done');
    await closing;
    expect(await running).toMatchObject({ kind: 'ran', value: 'done' });
    expect(l.close()).toBe(l.close());
    await expect(l.schedule(() => Promise.resolve(), { maxWaitMs: 10 })).rejects.toThrow(
      InfrastructureError,
    );
  });
});

describe('FunderLimiter with Redis unreachable', () => {
  /** A loopback port nothing listens on: connections are refused at once. */
  async function refusedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }

  it('fails ready, throttles callers, reports the errors and still closes', async () => {
    const onError = vi.fn();
    const port = await refusedPort();
    // The real clustered Bottleneck and ioredis client, against a closed port.
    const l = limiter({ onError, readyTimeoutMs: 200, redis: { host: '127.0.0.1', port } }, {});
    await expect(l.ready()).rejects.toThrow(`127.0.0.1:${port}`);
    const fn = vi.fn(() => Promise.resolve());
    expect(await l.schedule(fn, { maxWaitMs: 100 })).toMatchObject({ kind: 'throttled' });
    expect(fn).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledWith(expect.any(InfrastructureError));
    expect(String(onError.mock.calls[0]?.[0])).toContain('ECONNREFUSED');

    const started = performance.now();
    await l.close();
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
