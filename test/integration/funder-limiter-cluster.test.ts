// Guarantee: a funder's rate limit holds across processes. Three separate
// processes, each with its own FunderLimiter for the same funder (one limit
// shared through the stack's Redis with Bottleneck's clustering), call a
// counting server as fast as they are let for 5 s, with far more callers than
// the rate. They share one schedule, slots minTime = 1000/rate apart: the
// median gap between starts is minTime, a portal allowing the rate with a
// small burst (for starts a stalled process ran late) refuses none of them,
// calls in flight never exceed maxConcurrent, and the backlog still gets at
// least 90% of the rate. Callers that waited too long get `throttled`, never
// reach the server, and cost the others no rate.
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minTimeOf } from '@grantstream/funders';
import { spawnTs, stallTolerantBurst, uniqueName, type TsProcess } from '@grantstream/testing';

const RATE = 20;
const MAX_CONCURRENT = 4;
const WORKERS = 3;
/** Per worker: 24 callers in all want far more than 20/s, so a backlog always exists. */
const CALLERS = 8;
const MAX_WAIT_MS = 1000;
const WINDOW_MS = 5000;
/** The server answers after this long, so calls overlap and maxConcurrent is exercised. */
const CALL_MS = 40;
interface Done {
  pid: number;
  starts: number[];
  ran: number;
  throttled: number;
  failed: number;
  errors: string[];
}

/** What one run measured; times are wall-clock ms with sub-ms precision. */
interface Run {
  done: Done[];
  /** Call starts in the workers, sorted. */
  starts: number[];
  /** Calls as the server received them, sorted. */
  arrivals: number[];
  mostInFlight: number;
  window: { startAt: number; stopAt: number };
}

/**
 * Calls a portal would refuse whose token bucket refills `rate` per second and
 * holds `burst` tokens (the simulator's rate limit, a strict one when burst is 1).
 */
function refusedByTokenBucket(times: readonly number[], rate: number, burst: number): number {
  let tokens = burst;
  let last = times[0] ?? 0;
  let refused = 0;
  for (const t of times) {
    tokens = Math.min(burst, tokens + ((t - last) * rate) / 1000);
    last = t;
    if (tokens >= 1) tokens -= 1;
    else refused += 1;
  }
  return refused;
}

/** The most entries of sorted `times` inside any half-open window of `ms`. */
function mostInAnyWindow(times: readonly number[], ms: number): number {
  let most = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && (times[j] ?? Infinity) < (times[i] ?? 0) + ms) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

const wallMs = () => performance.timeOrigin + performance.now();

describe('funder limiter across processes', () => {
  let arrivals: number[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  let waitingForGo: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/go') {
      waitingForGo.push(res);
      return;
    }
    arrivals.push(wallMs());
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    setTimeout(() => {
      inFlight -= 1;
      res.writeHead(201).end();
    }, CALL_MS);
  });
  let base = '';
  const workers: TsProcess[] = [];

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Three workers on one fresh funder id (no state of another run is shared), started together. */
  async function runCluster(): Promise<Run> {
    arrivals = [];
    mostInFlight = 0;
    waitingForGo = [];
    const funder = `IT${randomUUID().slice(0, 8).toUpperCase()}`;
    const idPrefix = uniqueName('test.limiter');
    const these = Array.from({ length: WORKERS }, () =>
      spawnTs('test/support/funder-limiter-worker.ts', [
        ...['--funder', funder, '--id-prefix', idPrefix],
        ...['--rate', String(RATE), '--max-concurrent', String(MAX_CONCURRENT)],
        ...['--base', base, '--callers', String(CALLERS), '--max-wait-ms', String(MAX_WAIT_MS)],
      ]),
    );
    workers.push(...these);
    await Promise.all(these.map((w) => w.waitFor((e) => e['event'] === 'ready', 60_000)));
    while (waitingForGo.length < WORKERS) await new Promise((r) => setTimeout(r, 20));
    const startAt = Date.now() + 300;
    const window = { startAt, stopAt: startAt + WINDOW_MS };
    for (const res of waitingForGo) res.writeHead(200).end(JSON.stringify(window));

    const done = (await Promise.all(
      these.map((w) => w.waitFor((e) => e['event'] === 'done', 60_000)),
    )) as unknown as Done[];
    expect(await Promise.all(these.map((w) => w.exited))).toEqual([0, 0, 0]);
    return {
      done,
      starts: done.flatMap((d) => d.starts).sort((a, b) => a - b),
      arrivals: [...arrivals].sort((a, b) => a - b),
      mostInFlight,
      window,
    };
  }

  /** Checks every run must pass, and the figures for the report. */
  function checkAndMeasure(run: Run, minTime: number) {
    const { done, starts } = run;
    expect(done.flatMap((d) => d.errors)).toEqual([]);
    expect(done.map((d) => d.failed)).toEqual([0, 0, 0]);
    const ran = done.reduce((n, d) => n + d.ran, 0);
    const throttled = done.reduce((n, d) => n + d.throttled, 0);
    // Every process got calls through: the limit is shared, not won by one.
    expect(done.every((d) => d.ran > 0)).toBe(true);
    // A throttled caller's function never runs: the server saw only calls that ran.
    expect(throttled).toBeGreaterThan(0);
    expect(run.arrivals).toHaveLength(ran);
    expect(starts).toHaveLength(ran);
    expect(run.mostInFlight).toBeLessThanOrEqual(MAX_CONCURRENT);

    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    const { startAt, stopAt } = run.window;
    const inWindow = run.arrivals.filter((t) => t >= startAt && t < stopAt).length;
    const figures = {
      minTime,
      ran,
      throttled,
      perWorker: done.map((d) => d.ran),
      smallestStartGapMs: Number(Math.min(...gaps).toFixed(2)),
      medianStartGapMs: Number(
        ([...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0).toFixed(2),
      ),
      mostStartsIn1s: mostInAnyWindow(starts, 1000),
      mostArrivalsIn1s: mostInAnyWindow(run.arrivals, 1000),
      mostArrivalsIn5s: mostInAnyWindow(run.arrivals, 5000),
      refusedByStrictPortal: refusedByTokenBucket(run.arrivals, RATE, 1),
      mostInFlight: run.mostInFlight,
      callsIn5s: inWindow,
      utilization: Number((inWindow / ((RATE * WINDOW_MS) / 1000)).toFixed(3)),
    };
    process.stdout.write(`funder-limiter-cluster ${JSON.stringify(figures)}\n`);
    expect(figures.utilization).toBeGreaterThanOrEqual(0.9);
    return figures;
  }

  it(
    'keeps three processes within one rate and uses at least 90% of it',
    { timeout: 120_000 },
    async () => {
      const minTime = minTimeOf(RATE);
      const run = await runCluster();
      const f = checkAndMeasure(run, minTime);
      // One shared schedule: three unshared limiters would start calls minTime / 3 apart.
      expect(f.medianStartGapMs).toBeGreaterThanOrEqual(minTime - 1);
      expect(f.medianStartGapMs).toBeLessThanOrEqual(minTime + 2);
      // Late starts are absorbed by a burst covering a stalled process; a limit not held is not.
      const burst = stallTolerantBurst(RATE);
      expect(refusedByTokenBucket(run.starts, RATE, burst)).toBe(0);
      expect(refusedByTokenBucket(run.arrivals, RATE, burst)).toBe(0);
      expect(f.mostArrivalsIn5s).toBeLessThanOrEqual(5 * RATE + burst - 1);
    },
  );
});
