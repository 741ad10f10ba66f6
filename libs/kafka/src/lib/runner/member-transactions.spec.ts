import { describe, expect, it } from 'vitest';
import type { StageRunnerConfig } from '@grantstream/config';
import type { ConsumerGroupMetadata } from '@grantstream/kafkajs-extended';
import {
  MemberTransactions,
  memberTransactionalId,
  type ChunkTransaction,
  type TransactionalClient,
} from './member-transactions';
import { classifyTransactionFailure } from './transaction-failure';

const config = {
  groupId: 'g',
  transactionalIdPrefix: 'grantstream.test',
  transactionTimeoutMs: 15000,
  maxRequestBytes: 1 << 20,
  producerRetry: { retries: 1, initialRetryTimeMs: 10, maxRetryTimeMs: 10 },
} as StageRunnerConfig;

const group: ConsumerGroupMetadata = {
  groupId: 'g',
  generationId: 4,
  memberId: 'm-1',
  groupInstanceId: null,
};

function protocolError(type: string, cause?: Error): Error {
  const e = new Error(type) as Error & { type: string; cause?: Error };
  e.name = 'KafkaJSProtocolError';
  e.type = type;
  if (cause) e.cause = cause;
  return e;
}

/** A fake client: records every call in order; `failOffsets` makes sendOffsets throw once. */
function fakeClient() {
  const calls: string[] = [];
  const offsetsMetadata: (ConsumerGroupMetadata | undefined)[] = [];
  let producers = 0;
  let failOffsets: Error | null = null;
  let openTransactions = 0;
  let maxOpen = 0;
  const client = {
    producer: ({ transactionalId }: { transactionalId: string }) => {
      producers += 1;
      const id = `${transactionalId}#${producers}`;
      return {
        connect: () => Promise.resolve(calls.push(`connect ${id}`)).then(() => undefined),
        disconnect: () => Promise.resolve(calls.push(`disconnect ${id}`)).then(() => undefined),
        transaction: () => {
          openTransactions += 1;
          maxOpen = Math.max(maxOpen, openTransactions);
          const end = (what: string) => async () => {
            // Let other queued work run if it could: it must not.
            await new Promise((r) => setTimeout(r, 5));
            openTransactions -= 1;
            calls.push(`${what} ${id}`);
          };
          return Promise.resolve({
            sendBatch: () => Promise.resolve(undefined),
            sendOffsets: (o: {
              topics: { topic: string }[];
              consumerGroupMetadata?: ConsumerGroupMetadata;
            }) => {
              offsetsMetadata.push(o.consumerGroupMetadata);
              calls.push(`offsets ${o.topics[0]?.topic} ${id}`);
              if (failOffsets) {
                const err = failOffsets;
                failOffsets = null;
                return Promise.reject(err);
              }
              return Promise.resolve();
            },
            commit: end('commit'),
            abort: end('abort'),
          });
        },
      };
    },
  } as unknown as TransactionalClient;
  return {
    client,
    calls,
    offsetsMetadata,
    producers: () => producers,
    maxOpen: () => maxOpen,
    failNextOffsets: (e: Error) => {
      failOffsets = e;
    },
  };
}

const chunk = (topic: string): ChunkTransaction => ({
  topic,
  partition: 0,
  outputs: new Map([['out', [{ key: 'k', value: Buffer.from('v') }]]]),
  nextOffset: '10',
  group,
});

describe('memberTransactionalId', () => {
  it('names the member by prefix, instance and runner count', () => {
    const counter = new Map<string, number>();
    const c = { transactionalIdPrefix: 'p', instanceId: 'pod-3' };
    expect(memberTransactionalId(c, counter)).toBe('p.pod-3.0');
    expect(memberTransactionalId(c, counter)).toBe('p.pod-3.1');
    expect(
      memberTransactionalId({ transactionalIdPrefix: 'q', instanceId: 'pod-3' }, counter),
    ).toBe('q.pod-3.0');
  });

  it('falls back to host and process id, unique per live process', () => {
    const id = memberTransactionalId({ transactionalIdPrefix: 'p' }, new Map());
    expect(id).toMatch(new RegExp(`^p\\..+\\.${process.pid}\\.0$`));
  });
});

describe('MemberTransactions', () => {
  it('runs one transaction at a time on one producer, offsets carrying the group metadata', async () => {
    const f = fakeClient();
    const t = new MemberTransactions(f.client, config, 'tx');
    const outcomes = await Promise.all([t.commit(chunk('a')), t.commit(chunk('b'))]);
    expect(outcomes).toEqual([{ kind: 'committed' }, { kind: 'committed' }]);
    expect(f.producers()).toBe(1);
    expect(f.maxOpen()).toBe(1);
    expect(f.offsetsMetadata).toEqual([group, group]);
    // The init transaction, then a's, then b's, in order.
    expect(f.calls.filter((c) => !c.startsWith('connect'))).toEqual([
      'abort tx#1',
      'offsets a tx#1',
      'commit tx#1',
      'offsets b tx#1',
      'commit tx#1',
    ]);
  });

  it('reports a commit refused for its generation as a lost partition and aborts it', async () => {
    const f = fakeClient();
    const t = new MemberTransactions(f.client, config, 'tx');
    const refusal = protocolError('ILLEGAL_GENERATION');
    const wrapped = new Error('retries exceeded') as Error & { cause?: Error };
    wrapped.name = 'KafkaJSNumberOfRetriesExceeded';
    wrapped.cause = refusal;
    f.failNextOffsets(wrapped);
    const outcome = await t.commit(chunk('a'));
    expect(outcome).toEqual({ kind: 'lost', type: 'ILLEGAL_GENERATION', error: refusal });
    expect(f.calls).toContain('abort tx#1');
    expect(f.calls).not.toContain('commit tx#1');
    // The next transaction starts on a freshly initialised producer of the same id.
    expect(await t.commit(chunk('b'))).toEqual({ kind: 'committed' });
    expect(f.calls).toContain('disconnect tx#1');
    expect(f.calls).toContain('commit tx#2');
  });

  it('reports a refused record and an outage apart', async () => {
    const f = fakeClient();
    const t = new MemberTransactions(f.client, config, 'tx');
    f.failNextOffsets(protocolError('MESSAGE_TOO_LARGE'));
    expect((await t.commit(chunk('a'))).kind).toBe('refused');
    const outage = new Error('connection closed');
    outage.name = 'KafkaJSConnectionError';
    f.failNextOffsets(outage);
    expect(await t.commit(chunk('a'))).toEqual({ kind: 'unknown', error: outage });
  });

  it('waits for queued transactions before closing', async () => {
    const f = fakeClient();
    const t = new MemberTransactions(f.client, config, 'tx');
    const committed = t.commit(chunk('a'));
    await t.close();
    expect(await committed).toEqual({ kind: 'committed' });
    expect(f.calls[f.calls.length - 1]).toBe('disconnect tx#1');
  });
});

describe('classifyTransactionFailure and the group', () => {
  it.each([['ILLEGAL_GENERATION'], ['UNKNOWN_MEMBER_ID'], ['FENCED_INSTANCE_ID']])(
    'takes %s for a lost partition',
    (type) => {
      expect(classifyTransactionFailure(protocolError(type))).toEqual({ kind: 'lost', type });
    },
  );
});
