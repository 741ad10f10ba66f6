import { describe, expect, it, vi } from 'vitest';
import type { StageRunnerConfig } from '@grantstream/config';
import { createLogger } from '@grantstream/logging';
import { ConsumerLifecycle, type ConsumerLifecycleOptions } from './consumer-lifecycle';
import type { StageHandler } from './stage-handler';

// The consumer's life in its group, over a fake client: each consumer()
// call makes a fake consumer whose group events the spec fires by hand.

const config = {
  groupId: 'g',
  restartBackoffMs: 5,
  topicRefreshIntervalMs: 60_000,
  partitionsConsumedConcurrently: 2,
} as StageRunnerConfig;

type Listener = (e: { payload: Record<string, unknown> }) => void;

function fakeKafka(existing: string[]) {
  const log: string[] = [];
  const consumers: { listeners: Map<string, Listener>; config: Record<string, unknown> }[] = [];
  const kafka = {
    admin: () => ({
      connect: () => Promise.resolve(void log.push('admin.connect')),
      disconnect: () => Promise.resolve(void log.push('admin.disconnect')),
      listTopics: () => Promise.resolve(existing),
      fetchOffsets: () =>
        Promise.resolve([{ topic: 'a', partitions: [{ partition: 0, offset: '40' }] }]),
      fetchTopicOffsets: () => Promise.resolve([{ partition: 0, low: '0', high: '100' }]),
    }),
    consumer: (cfg: Record<string, unknown>) => {
      const n = consumers.length;
      const listeners = new Map<string, Listener>();
      consumers.push({ listeners, config: cfg });
      return {
        events: { GROUP_JOIN: 'join', CRASH: 'crash' },
        on: (event: string, listener: Listener) => void listeners.set(event, listener),
        connect: () => Promise.resolve(void log.push(`consumer${n}.connect`)),
        subscribe: (s: { topics: string[] }) =>
          Promise.resolve(void log.push(`consumer${n}.subscribe ${s.topics.join(',')}`)),
        run: () => Promise.resolve(void log.push(`consumer${n}.run`)),
        disconnect: () => Promise.resolve(void log.push(`consumer${n}.disconnect`)),
      };
    },
  } as unknown as ConsumerLifecycleOptions['kafka'];
  return { kafka, log, consumers };
}

function setup(subscriptions: (string | RegExp)[], existing: string[] = []) {
  const fake = fakeKafka(existing);
  const events: { event: string; args: unknown[] }[] = [];
  const calls = { running: 0, stopRunner: 0 };
  const lifecycle = new ConsumerLifecycle({
    kafka: fake.kafka,
    config,
    handlers: [{ subscriptions } as unknown as StageHandler<unknown>],
    log: createLogger({ service: 'consumer-lifecycle-spec', level: 'silent' }),
    emit: (event, ...args) => events.push({ event, args }),
    onBatch: () => Promise.resolve(),
    onRunning: () => void (calls.running += 1),
    stopRunner: () => Promise.resolve(void (calls.stopRunner += 1)),
  });
  const fire = (consumer: number, event: string, payload: Record<string, unknown>) =>
    fake.consumers[consumer]?.listeners.get(event)?.({ payload });
  return { lifecycle, events, calls, fire, ...fake };
}

describe('ConsumerLifecycle', () => {
  it('subscribes to named topics and the existing ones a pattern matches, never internal ones', async () => {
    const { lifecycle, log, events, calls, consumers } = setup(
      ['b', /^retry\./],
      ['retry.2', '__consumer_offsets', 'retry.1', 'other'],
    );
    await lifecycle.start();
    lifecycle.halt();
    expect(lifecycle.topics).toEqual(['b', 'retry.1', 'retry.2']);
    expect(log).toEqual([
      'admin.connect',
      'consumer0.connect',
      'consumer0.subscribe b,retry.1,retry.2',
      'consumer0.run',
    ]);
    // Other stages' outputs are read only once their transaction committed.
    expect(consumers[0]?.config['readUncommitted']).toBe(false);
    expect(events.map((e) => e.event)).toEqual(['subscribed']);
    expect(calls.running).toBe(1);
  });

  it('counts a generation per join and keeps the assignment for the lag', async () => {
    const { lifecycle, fire, events } = setup(['a']);
    await lifecycle.start();
    expect(lifecycle.generation).toBe(0);
    fire(0, 'join', { memberAssignment: { a: [0] } });
    fire(0, 'join', { memberAssignment: { a: [0] } });
    expect(lifecycle.generation).toBe(2);
    expect(events.at(-1)).toMatchObject({ event: 'groupJoined', args: [{ generation: 2 }] });
    expect(await lifecycle.consumerLag()).toEqual([{ topic: 'a', partition: 0, lag: 60 }]);
    lifecycle.halt();
    expect(await lifecycle.consumerLag()).toEqual([]);
  });

  it('brings a crashed consumer back when kafkajs will not', async () => {
    const { lifecycle, fire, log, events, consumers } = setup(['a']);
    await lifecycle.start();
    fire(0, 'crash', { error: new Error('boom'), restart: false });
    await vi.waitFor(() => expect(log).toContain('consumer1.run'));
    expect(log).toContain('consumer0.disconnect');
    expect(consumers).toHaveLength(2);
    expect(events.find((e) => e.event === 'crashed')?.args[0]).toMatchObject({
      restarting: true,
    });
    lifecycle.halt();
  });

  it('leaves a crash kafkajs restarts itself to kafkajs', async () => {
    const { lifecycle, fire, consumers } = setup(['a']);
    await lifecycle.start();
    fire(0, 'crash', { error: new Error('boom'), restart: true });
    await new Promise((r) => setTimeout(r, 3 * config.restartBackoffMs));
    expect(consumers).toHaveLength(1);
    lifecycle.halt();
  });

  it('stops the runner for good when the broker refuses the principal', async () => {
    const { lifecycle, fire, events, calls, consumers } = setup(['a']);
    await lifecycle.start();
    const refused = Object.assign(new Error('denied'), { type: 'TOPIC_AUTHORIZATION_FAILED' });
    fire(0, 'crash', { error: refused, restart: false });
    expect(events.map((e) => e.event)).toContain('fatal');
    expect(calls.stopRunner).toBe(1);
    await new Promise((r) => setTimeout(r, 3 * config.restartBackoffMs));
    expect(consumers).toHaveLength(1);
    lifecycle.halt();
  });

  it('closes in order: the consumer leaves, then the producer, then the admin', async () => {
    const { lifecycle, log } = setup(['a']);
    await lifecycle.start();
    lifecycle.halt();
    expect(lifecycle.running).toBe(false);
    await lifecycle.close(() => Promise.resolve(void log.push('producer.close')));
    expect(log.slice(-3)).toEqual(['consumer0.disconnect', 'producer.close', 'admin.disconnect']);
  });
});
