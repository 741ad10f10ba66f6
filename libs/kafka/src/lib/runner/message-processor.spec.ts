import type { schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { KafkaMessage } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import { DLQ_HEADERS } from '@grantstream/contracts';
import {
  AttachmentStorageError,
  InfrastructureError,
  UnexpectedHandlerError,
} from '@grantstream/errors';
import { createLogger } from '@grantstream/logging';
import { MessageProcessor, type MessageProcessorOptions } from './message-processor';
import { Interrupted } from './runner-signals';
import {
  GaveUpError,
  RAW_INPUT,
  type HandlerResult,
  type InboundMessage,
  type StageHandler,
} from './stage-handler';

// The message seam alone: a fake serde (JSON for Avro), a fake dead-letter
// store, handlers written inline. No broker, no transactions.

const config = {
  deadLetterTopic: 'grants.dlq.v1',
  maxRecordBytes: 4000,
  retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1 },
  deadLetterStore: { dir: '/nonexistent' },
} as StageRunnerConfig;

const serde = {
  decodeAs: (value: Buffer | null) =>
    Promise.resolve({ value: JSON.parse(String(value)) as unknown, schemaId: 7 }),
  assertSubject: () => Promise.resolve(),
  encode: (_topic: string, value: unknown) => Promise.resolve(Buffer.from(JSON.stringify(value))),
} as unknown as MessageProcessorOptions['serde'];

const avro: schema.RecordType = { type: 'record', name: 'Grant', fields: [] };

function processor(over: Partial<MessageProcessorOptions> = {}) {
  const events: { event: string; args: unknown[] }[] = [];
  const stop = new AbortController();
  const p = new MessageProcessor({
    service: { stage: 'test', name: 'test-stage', version: '1.0.0' },
    config,
    serde,
    log: createLogger({ service: 'message-processor-spec', level: 'silent' }),
    signal: stop.signal,
    emit: (event, ...args) => events.push({ event, args }),
    deadLetterStore: {
      put: (bytes) => Promise.resolve({ uri: 'mem:1', sha256: 'x', size: bytes.length }),
    },
    ...over,
  });
  return { p, events, stop };
}

function handlerOf(
  handle: (m: InboundMessage<{ id: string }>, attempt: number) => Promise<HandlerResult>,
): StageHandler<unknown> {
  return {
    subscriptions: ['in'],
    input: { avro, zod: z.object({ id: z.string() }) },
    handle: (m, ctx) => handle(m as InboundMessage<{ id: string }>, ctx.attempt),
  };
}

const message = (value: unknown, offset = '5'): KafkaMessage => ({
  key: Buffer.from('k'),
  value: Buffer.from(JSON.stringify(value)),
  headers: { traceparent: Buffer.from('00-abc') },
  offset,
  timestamp: '1700000000000',
  attributes: 0,
});

const live = () => true;

describe('MessageProcessor', () => {
  it('decodes, hands the contract-checked value to the handler and encodes its records', async () => {
    const { p } = processor();
    const h = handlerOf((m) =>
      Promise.resolve({ records: [{ topic: 'out', key: m.key, value: { seen: m.value.id } }] }),
    );
    const r = await p.process(h, 'in', 0, message({ id: 'g-1' }), live);
    expect(r.deadLettered).toBe(false);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]?.topic).toBe('out');
    expect(String(r.records[0]?.message.value)).toBe('{"seen":"g-1"}');
  });

  it('dead-letters a value that breaks the contract without calling the handler', async () => {
    const { p, events } = processor();
    let called = false;
    const h = handlerOf(() => {
      called = true;
      return Promise.resolve({ records: [] });
    });
    const r = await p.process(h, 'in', 2, message({ other: 1 }), live);
    expect(called).toBe(false);
    expect(r.deadLettered).toBe(true);
    expect(r.records[0]?.topic).toBe('grants.dlq.v1');
    expect(r.records[0]?.message.headers?.[DLQ_HEADERS.ERROR_CATEGORY]?.toString()).toBe(
      'SCHEMA_VIOLATION',
    );
    expect(events.map((e) => e.event)).toEqual(['deadLettered']);
  });

  it('retries a retriable failure with the attempt count, then dead-letters at the budget', async () => {
    const { p } = processor();
    const attempts: number[] = [];
    const h = handlerOf((_m, attempt) => {
      attempts.push(attempt);
      return Promise.reject(new AttachmentStorageError('store down'));
    });
    const r = await p.process(h, 'in', 0, message({ id: 'g' }), live);
    expect(attempts).toEqual([1, 2, 3]);
    expect(r.deadLettered).toBe(true);
    expect(r.deadLetter?.context.attempts).toBe(3);
  });

  it('retries an infrastructure outage past the budget until it ends', async () => {
    const { p } = processor();
    let calls = 0;
    const h = handlerOf(() => {
      calls += 1;
      return calls < 5
        ? Promise.reject(new InfrastructureError('broker away'))
        : Promise.resolve({ records: [] });
    });
    const r = await p.process(h, 'in', 0, message({ id: 'g' }), live);
    expect(calls).toBe(5);
    expect(r.deadLettered).toBe(false);
  });

  it('stops retrying when the partition is no longer live: nothing of it commits', async () => {
    const { p } = processor();
    const h = handlerOf(() => Promise.reject(new InfrastructureError('broker away')));
    await expect(p.process(h, 'in', 0, message({ id: 'g' }), () => false)).rejects.toBeInstanceOf(
      Interrupted,
    );
  });

  it('reports a deferral with no records', async () => {
    const { p } = processor();
    const h = handlerOf(() => Promise.resolve({ records: [], deferUntil: 1234 }));
    expect(await p.process(h, 'in', 0, message({ id: 'g' }), live)).toEqual({
      records: [],
      deadLettered: false,
      deferUntil: 1234,
    });
  });

  it('dead-letters a result that defers and has records (a handler that cast its way past the type)', async () => {
    const { p } = processor();
    const illegal = { records: [{ topic: 'out', key: null, value: {} }], deferUntil: 1 };
    const h = handlerOf(() => Promise.resolve(illegal as unknown as HandlerResult));
    const r = await p.process(h, 'in', 0, message({ id: 'g' }), live);
    expect(r.deadLettered).toBe(true);
    expect(r.deadLetter?.context.error).toBeInstanceOf(UnexpectedHandlerError);
  });

  it('dead-letters an input whose output would be larger than the broker takes', async () => {
    const { p } = processor();
    const h = handlerOf(() =>
      Promise.resolve({ records: [{ topic: 'out', key: null, value: 'x'.repeat(5000) }] }),
    );
    const r = await p.process(h, 'in', 0, message({ id: 'g' }), live);
    expect(r.deadLettered).toBe(true);
    expect(r.deadLetter?.context.error.code).toBe('RECORD_TOO_LARGE');
    expect(r.records.every((x) => x.topic === 'grants.dlq.v1')).toBe(true);
  });

  it('keeps a giving-up handler records and trail head, and the stage hook sees that head', async () => {
    const seen: Record<string, Buffer | undefined>[] = [];
    const { p } = processor({
      onDeadLetter: (f) => {
        seen.push({ ...f.headers });
        return { records: [{ topic: 'audit', key: f.key, value: { dl: f.offset } }] };
      },
    });
    const h = handlerOf(() =>
      Promise.reject(
        new GaveUpError(
          new AttachmentStorageError('gave up'),
          [{ topic: 'audit', key: 'k', value: { attempt: 1 } }],
          { trail: 'head-2' },
          4,
        ),
      ),
    );
    const r = await p.process(h, 'in', 0, message({ id: 'g' }), live);
    expect(r.deadLettered).toBe(true);
    expect(r.records.map((x) => x.topic)).toEqual(['grants.dlq.v1', 'audit', 'audit']);
    expect(r.deadLetter?.context.attempts).toBe(4);
    expect(seen[0]?.['trail']?.toString()).toBe('head-2');
  });

  it('produces the dead letter without evidence when the stage hook throws', async () => {
    const { p } = processor({
      onDeadLetter: () => {
        throw new Error('hook bug');
      },
    });
    const r = await p.process(RAW_INPUT_HANDLER, 'in', 0, message({ id: 'g' }), live);
    expect(r.deadLettered).toBe(true);
    expect(r.records.map((x) => x.topic)).toEqual(['grants.dlq.v1']);
  });

  it('turns a stop while a handler runs into Interrupted, whatever the handler throws', async () => {
    const { p, stop } = processor();
    const h = handlerOf(() => {
      stop.abort();
      return Promise.reject(new Error('aborted read'));
    });
    await expect(p.process(h, 'in', 0, message({ id: 'g' }), live)).rejects.toBeInstanceOf(
      Interrupted,
    );
  });
});

/** A raw-bytes handler that fails for good: the dead-letter path with no decoding. */
const RAW_INPUT_HANDLER: StageHandler<unknown> = {
  subscriptions: ['in'],
  input: RAW_INPUT,
  handle: () => Promise.reject(new Error('permanent')),
};
