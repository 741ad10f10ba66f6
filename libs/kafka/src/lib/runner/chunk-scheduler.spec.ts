import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KafkaMessage } from '@grantstream/kafkajs-extended';
import { BatchReleasedError } from './bounded-inflate';
import { ChunkScheduler, type ChunkSchedulerOptions } from './chunk-scheduler';
import type { MemoryCheck, MemoryTransition } from './memory-guard';
import type { ProcessedMessage } from './message-processor';
import { Interrupted } from './runner-signals';
import type { StageHandler } from './stage-handler';

// Which message runs when, with a fake processor (results by offset), a
// pass-through memory admission and a consumer that records its calls.

const handler = { subscriptions: ['t'] } as unknown as StageHandler<unknown>;
const msg = (offset: number): KafkaMessage => ({
  key: null,
  value: Buffer.from(String(offset)),
  offset: String(offset),
  timestamp: '0',
  attributes: 0,
  headers: {},
});

function setup(opts: {
  results?: Record<string, ProcessedMessage | Promise<ProcessedMessage>>;
  admit?: () => Promise<never>;
  transition?: MemoryTransition;
  engaged?: boolean;
}) {
  const events: { event: string; args: unknown[] }[] = [];
  const calls: string[] = [];
  const handledOrder: string[] = [];
  const consumer = {
    pause: (t: unknown) => void calls.push(`pause ${JSON.stringify(t)}`),
    resume: (t: unknown) => void calls.push(`resume ${JSON.stringify(t)}`),
    seek: (t: { offset: string }) => void calls.push(`seek ${t.offset}`),
  };
  const options: ChunkSchedulerOptions = {
    config: { messageConcurrency: 2 },
    emit: (event, ...args) => events.push({ event, args }),
    memory: {
      engaged: opts.engaged ?? false,
      admitted: (m, _signal, process) => (opts.admit ? opts.admit() : process(m)),
      check: () =>
        ({
          transition: opts.transition ?? { kind: 'none' },
          reading: { rssBytes: 1, heapBytes: 2, inFlightBytes: 3 },
        }) as MemoryCheck,
    },
    processor: {
      process: async (_h, _t, _p, m) => {
        const r = await (opts.results?.[m.offset] ?? { records: [], deadLettered: false });
        handledOrder.push(m.offset);
        return r;
      },
      processOversized: () => Promise.reject(new Error('not in this spec')),
    },
    signal: new AbortController().signal,
    consumer: () => consumer,
    topics: () => ['a', 'b'],
    running: () => true,
  };
  return { scheduler: new ChunkScheduler(options), events, calls, handledOrder };
}

const ok = (tag: string): ProcessedMessage => ({
  records: [{ topic: 'out', message: { key: null, value: Buffer.from(tag), headers: {} } }],
  deadLettered: false,
});
const never = () => false;

afterEach(() => {
  vi.useRealTimers();
});

describe('ChunkScheduler.handleChunk', () => {
  it('returns results in input order whatever order they finish in', async () => {
    let release!: (r: ProcessedMessage) => void;
    const slow = new Promise<ProcessedMessage>((r) => (release = r));
    const { scheduler, handledOrder, events } = setup({
      results: { '1': slow, '2': ok('two'), '3': ok('three') },
    });
    const outcome = scheduler.handleChunk(
      handler,
      't',
      0,
      [msg(1), msg(2), msg(3)],
      () => true,
      never,
    );
    await vi.waitFor(() => expect(handledOrder).toEqual(['2', '3']));
    release(ok('one'));
    const { results, deferred } = await outcome;
    expect(results.map((r) => String(r.records[0]?.message.value))).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(deferred).toBeNull();
    expect(events.filter((e) => e.event === 'handled')).toHaveLength(3);
  });

  it('ends the chunk at the first message not due: the ones before commit, the rest wait', async () => {
    const { scheduler } = setup({
      results: { '2': { records: [], deadLettered: false, deferUntil: 99 } },
    });
    const { results, deferred } = await scheduler.handleChunk(
      handler,
      't',
      0,
      [msg(1), msg(2), msg(3), msg(4)],
      () => true,
      never,
    );
    expect(results).toHaveLength(1);
    expect(deferred).toEqual({ offset: '2', untilMs: 99 });
  });

  it('gives nothing to commit once a heartbeat failed (the group rebalances)', async () => {
    const { scheduler } = setup({});
    const outcome = await scheduler.handleChunk(
      handler,
      't',
      0,
      [msg(1)],
      () => true,
      () => true,
    );
    expect(outcome).toEqual({ results: [], deferred: null });
  });

  it('interrupts the chunk when its batch must be fetched again', async () => {
    const { scheduler } = setup({
      admit: () => Promise.reject(new BatchReleasedError()),
    });
    await expect(
      scheduler.handleChunk(handler, 't', 0, [msg(1)], () => true, never),
    ).rejects.toBeInstanceOf(Interrupted);
  });
});

describe('ChunkScheduler.defer', () => {
  const payload = () => {
    const paused: string[] = [];
    return {
      paused,
      batch: { topic: 't', partition: 3 } as never,
      pause: () => {
        paused.push('t-3');
        return () => undefined;
      },
    };
  };

  it('pauses the partition, rewinds to the waiting message and resumes it when due', () => {
    vi.useFakeTimers({ now: 1_000 });
    const { scheduler, calls, events } = setup({});
    const p = payload();
    scheduler.defer(p, '42', 1_500);
    expect(p.paused).toEqual(['t-3']);
    expect(calls).toEqual(['seek 42']);
    expect(events[0]).toMatchObject({
      event: 'deferred',
      args: [{ offset: '42', untilMs: 1_500 }],
    });
    vi.advanceTimersByTime(499);
    expect(calls).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(calls[1]).toBe('resume [{"topic":"t","partitions":[3]}]');
  });

  it('leaves the resume to the memory guard while it holds consumption', () => {
    vi.useFakeTimers({ now: 0 });
    const { scheduler, calls } = setup({ engaged: true });
    scheduler.defer(payload(), '1', 10);
    vi.advanceTimersByTime(10);
    expect(calls).toEqual(['seek 1']);
  });

  it('forgets pending resumes on clear (the runner stops)', () => {
    vi.useFakeTimers({ now: 0 });
    const { scheduler, calls } = setup({});
    scheduler.defer(payload(), '1', 10);
    scheduler.clear();
    vi.advanceTimersByTime(10);
    expect(calls).toEqual(['seek 1']);
  });
});

describe('ChunkScheduler.checkMemory', () => {
  it('pauses every subscribed topic when the guard pauses', () => {
    const { scheduler, calls, events } = setup({
      transition: { kind: 'pause', cause: 'rss', from: 'running' },
    });
    scheduler.checkMemory();
    expect(calls).toEqual(['pause [{"topic":"a"},{"topic":"b"}]']);
    expect(events[0]).toMatchObject({
      event: 'paused',
      args: [{ cause: 'rss', inFlightBytes: 3 }],
    });
  });

  it('resumes the topics after a pause, but not after a trickle (it never paused them)', () => {
    const resume = (from: 'paused' | 'trickle') =>
      setup({
        transition: { kind: 'resume', from, to: 'running', ended: 'cleared', lastedMs: 5 },
      });
    const afterPause = resume('paused');
    afterPause.scheduler.checkMemory();
    expect(afterPause.calls).toEqual(['resume [{"topic":"a"},{"topic":"b"}]']);
    const afterTrickle = resume('trickle');
    afterTrickle.scheduler.checkMemory();
    expect(afterTrickle.calls).toEqual([]);
    expect(afterTrickle.events.map((e) => e.event)).toEqual(['resumed']);
  });
});
