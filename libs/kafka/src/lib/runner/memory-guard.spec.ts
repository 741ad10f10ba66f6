import { describe, expect, it } from 'vitest';
import {
  MemoryGuard,
  RUNNING,
  decideMemory,
  type MemoryLimits,
  type MemoryReading,
  type MemoryState,
  type MemoryTransition,
} from './memory-guard';
import { InFlight } from './in-flight';
import { chunksOf } from './memory-control';

const MB = 1024 * 1024;
const LIMITS: MemoryLimits = {
  pauseAboveRssBytes: 300 * MB,
  resumeBelowRssBytes: 240 * MB,
  pauseAboveHeapBytes: 150 * MB,
  maxPauseMs: 5_000,
};
const at = (
  mode: MemoryState['mode'],
  sinceMs = 0,
  cause: MemoryState['cause'] = null,
): MemoryState => ({
  mode,
  sinceMs,
  cause,
});
const reading = (r: Partial<MemoryReading>): MemoryReading => ({
  rssBytes: 200 * MB,
  heapBytes: 50 * MB,
  inFlightBytes: 0,
  inFlightMessages: 0,
  nowMs: 1_000,
  ...r,
});

describe('decideMemory', () => {
  const cases: [
    string,
    MemoryState,
    Partial<MemoryReading>,
    MemoryState['mode'],
    MemoryTransition,
  ][] = [
    ['running, below every mark: nothing', RUNNING, {}, 'running', { kind: 'none' }],
    [
      'running, RSS over its mark: pause for rss',
      RUNNING,
      { rssBytes: 310 * MB, inFlightMessages: 3, inFlightBytes: MB },
      'paused',
      { kind: 'pause', cause: 'rss', from: 'running' },
    ],
    [
      'running, heap over its mark: pause for heap',
      RUNNING,
      { heapBytes: 160 * MB },
      'paused',
      { kind: 'pause', cause: 'heap', from: 'running' },
    ],
    [
      'running, both over: heap is the cause',
      RUNNING,
      { rssBytes: 400 * MB, heapBytes: 160 * MB },
      'paused',
      { kind: 'pause', cause: 'heap', from: 'running' },
    ],
    [
      'paused, pressure with work in flight: stay paused',
      at('paused', 0, 'rss'),
      { rssBytes: 320 * MB, inFlightMessages: 2, inFlightBytes: 2 * MB },
      'paused',
      { kind: 'none' },
    ],
    [
      'paused, RSS between the marks with work in flight: stay paused (hysteresis)',
      at('paused', 0, 'rss'),
      { rssBytes: 260 * MB, inFlightMessages: 1 },
      'paused',
      { kind: 'none' },
    ],
    [
      'paused, RSS high with nothing in flight: trickle at once (freed pages V8 keeps)',
      at('paused', 0, 'rss'),
      { rssBytes: 400 * MB, nowMs: 1_200 },
      'trickle',
      { kind: 'resume', from: 'paused', to: 'trickle', ended: 'idle', lastedMs: 1_200 },
    ],
    [
      'paused, below the resume mark: resume fully',
      at('paused', 0, 'rss'),
      { rssBytes: 230 * MB, inFlightMessages: 1 },
      'running',
      { kind: 'resume', from: 'paused', to: 'running', ended: 'cleared', lastedMs: 1_000 },
    ],
    [
      'paused, RSS low but heap still high: stay paused',
      at('paused', 0, 'heap'),
      { rssBytes: 230 * MB, heapBytes: 160 * MB, inFlightMessages: 1 },
      'paused',
      { kind: 'none' },
    ],
    [
      'paused, heap high with nothing in flight: wait for the heap (GC) until the timeout',
      at('paused', 0, 'heap'),
      { heapBytes: 160 * MB, nowMs: 4_999 },
      'paused',
      { kind: 'none' },
    ],
    [
      'paused, heap high with nothing in flight, timeout reached: trickle',
      at('paused', 0, 'heap'),
      { heapBytes: 160 * MB, nowMs: 5_000 },
      'trickle',
      { kind: 'resume', from: 'paused', to: 'trickle', ended: 'timeout', lastedMs: 5_000 },
    ],
    [
      'paused, work in flight that never finishes, timeout reached: trickle',
      at('paused', 0, 'rss'),
      { rssBytes: 350 * MB, inFlightMessages: 1, nowMs: 6_000 },
      'trickle',
      { kind: 'resume', from: 'paused', to: 'trickle', ended: 'timeout', lastedMs: 6_000 },
    ],
    [
      'trickle, RSS still high: keep trickling',
      at('trickle', 0, 'rss'),
      { rssBytes: 400 * MB, inFlightMessages: 1 },
      'trickle',
      { kind: 'none' },
    ],
    [
      'trickle, memory cleared: run fully',
      at('trickle', 0, 'rss'),
      { rssBytes: 200 * MB },
      'running',
      { kind: 'resume', from: 'trickle', to: 'running', ended: 'cleared', lastedMs: 1_000 },
    ],
    [
      'trickle, heap over its mark with work in flight: pause again',
      at('trickle', 0, 'rss'),
      { rssBytes: 400 * MB, heapBytes: 160 * MB, inFlightMessages: 1 },
      'paused',
      { kind: 'pause', cause: 'heap', from: 'trickle' },
    ],
    [
      'trickle, heap over its mark with nothing in flight: keep trickling',
      at('trickle', 0, 'rss'),
      { rssBytes: 400 * MB, heapBytes: 160 * MB },
      'trickle',
      { kind: 'none' },
    ],
  ];

  it.each(cases)('%s', (_name, state, r, mode, transition) => {
    const decided = decideMemory(state, reading(r), LIMITS);
    expect(decided.state.mode).toBe(mode);
    expect(decided.transition).toEqual(transition);
  });

  it('never stays paused with nothing in flight once the heap is below its mark', () => {
    // Whatever RSS reads: a paused guard with no work cannot be waiting on anything.
    for (const rss of [250, 300, 384, 543, 4096]) {
      const d = decideMemory(at('paused', 0, 'rss'), reading({ rssBytes: rss * MB }), LIMITS);
      expect(d.state.mode).not.toBe('paused');
    }
  });
});

describe('MemoryGuard', () => {
  it('reads its probes and the work in flight', () => {
    let rss = 100 * MB;
    let work = { bytes: 0, messages: 0 };
    const guard = new MemoryGuard(
      { rss: () => rss, heap: () => 10 * MB },
      LIMITS,
      () => work,
      () => 0,
    );
    expect(guard.check().transition.kind).toBe('none');
    rss = 400 * MB;
    work = { bytes: MB, messages: 1 };
    expect(guard.check().transition).toMatchObject({ kind: 'pause', cause: 'rss' });
    expect(guard.engaged).toBe(true);
    work = { bytes: 0, messages: 0 };
    expect(guard.check().transition).toMatchObject({
      kind: 'resume',
      to: 'trickle',
      ended: 'idle',
    });
    expect(guard.engaged).toBe(false);
    expect(guard.mode).toBe('trickle');
  });

  it('refuses a resume mark above the pause mark', () => {
    expect(
      () =>
        new MemoryGuard(
          { rss: () => 0, heap: () => 0 },
          { ...LIMITS, resumeBelowRssBytes: 400 * MB },
          () => ({ bytes: 0, messages: 0 }),
        ),
    ).toThrow(RangeError);
  });
});

describe('InFlight', () => {
  const signal = new AbortController().signal;

  it('admits within the byte bound, and always one message when nothing is in flight', async () => {
    const gate = new InFlight(100);
    const big = await gate.admit(500, signal);
    expect(gate.bytes).toBe(500);
    let second = false;
    const waiting = gate.admit(10, signal).then((r) => {
      second = true;
      return r;
    });
    await Promise.resolve();
    expect(second).toBe(false);
    big();
    (await waiting)();
    expect(second).toBe(true);
    expect(gate.bytes).toBe(0);
    expect(gate.messages).toBe(0);
  });

  it('trickles one message at a time and admits nothing while paused', async () => {
    const gate = new InFlight(1_000_000);
    gate.setMode('trickle');
    const first = await gate.admit(1, signal);
    let admitted = 0;
    const second = gate.admit(1, signal).then((r) => ((admitted += 1), r));
    await Promise.resolve();
    expect(admitted).toBe(0);
    gate.setMode('paused');
    first();
    await Promise.resolve();
    expect(admitted).toBe(0);
    expect(gate.waiting).toBe(1);
    gate.setMode('running');
    (await second)();
    expect(admitted).toBe(1);
  });

  it('gives up waiting when the runner stops', async () => {
    const gate = new InFlight(1);
    gate.setMode('paused');
    const stop = new AbortController();
    const waiting = gate.admit(1, stop.signal);
    stop.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    expect(gate.waiting).toBe(0);
  });
});

describe('chunksOf', () => {
  const m = (bytes: number) => ({ key: null, value: Buffer.alloc(bytes) });
  it('cuts by messages and by bytes, each chunk holding at least one message', () => {
    const sizes = (chunks: { value: Buffer | null }[][]) =>
      chunks.map((c) => c.map((x) => x.value?.length ?? 0));
    expect(sizes([...chunksOf([m(1), m(1), m(1)], 2, 100)])).toEqual([[1, 1], [1]]);
    expect(sizes([...chunksOf([m(60), m(60), m(10), m(200), m(1)], 10, 100)])).toEqual([
      [60],
      [60, 10],
      [200],
      [1],
    ]);
    expect([...chunksOf([], 10, 100)]).toEqual([]);
  });
});
