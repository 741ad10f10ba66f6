import { describe, expect, it } from 'vitest';
import type { Admin } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import { InfrastructureError } from '@grantstream/errors';
import { createLogger } from '@grantstream/logging';
import type { ChunkTransaction, TransactionOutcome } from './member-transactions';
import type { DeadLetterParts, ProcessedMessage } from './message-processor';
import {
  PartitionTransactions,
  type ChunkScope,
  type HandledInput,
  type PartitionTransactionsOptions,
} from './partition-transactions';
import { PartitionLost } from './runner-signals';

// How a chunk commits, with a fake member producer that refuses any
// transaction carrying a record valued "poison", or answers as told.

const config = {
  groupId: 'g',
  transactionTimeoutMs: 100,
  uncertainCommit: { settleMs: 50, pollMs: 1 },
  poison: { maxRefusedTransactions: 8 },
} as StageRunnerConfig;

const group = { groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null };

function setup(answer?: (t: ChunkTransaction) => TransactionOutcome) {
  const transactions: ChunkTransaction[] = [];
  const events: { event: string; args: unknown[] }[] = [];
  const calls = { settle: 0 };
  const defaultAnswer = (t: ChunkTransaction): TransactionOutcome =>
    [...t.outputs.values()].flat().some((m) => String(m.value) === 'poison')
      ? { kind: 'refused', type: 'MESSAGE_TOO_LARGE', error: new Error('too large') }
      : { kind: 'committed' };
  const options: PartitionTransactionsOptions = {
    kafka: { producer: () => ({}) as never },
    config,
    log: createLogger({ service: 'partition-transactions-spec', level: 'silent' }),
    emit: (event, ...args) => events.push({ event, args }),
    deadLetters: {
      deadLetterParts: (topic, partition, message, error, attempts) =>
        Promise.resolve({
          input: { key: message.key, value: message.value, headers: {} },
          context: {
            stage: 's',
            service: 's@1',
            topic,
            partition,
            offset: message.offset,
            attempts,
            error,
            failedAt: new Date(0),
          },
          extraHeaders: {},
          evidence: [],
        } satisfies DeadLetterParts),
      fitDeadLetter: (parts, atLeast) =>
        Promise.resolve({
          topic: 'dlq',
          message: { key: null, value: Buffer.from(atLeast ?? 'inline'), headers: {} },
        }),
    },
    offsets: {
      admin: () =>
        ({
          fetchOffsets: () =>
            Promise.resolve([{ topic: 't', partitions: [{ partition: 0, offset: '7' }] }]),
        }) as unknown as Admin,
      generation: () => 3,
      signal: new AbortController().signal,
      readStable: () => Promise.resolve(new Map([[0, '7']])),
    },
    transactions: {
      commit: (t) => {
        transactions.push(t);
        return Promise.resolve((answer ?? defaultAnswer)(t));
      },
      settle: () => {
        calls.settle += 1;
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    },
  };
  const resolved: string[] = [];
  let owned = true;
  const scope: ChunkScope = {
    topic: 't',
    partition: 0,
    group,
    owned: () => owned,
    resolveOffset: (o) => resolved.push(o),
    heartbeat: () => Promise.resolve(),
  };
  return {
    tx: new PartitionTransactions(options),
    transactions,
    events,
    resolved,
    scope,
    calls,
    disown: () => (owned = false),
  };
}

const input = (offset: number, ...values: string[]): HandledInput => ({
  message: {
    key: null,
    value: Buffer.from(`in-${offset}`),
    offset: String(offset),
    timestamp: '1000',
    headers: {},
    attributes: 0,
  },
  processed: {
    deadLettered: false,
    records: values.map((v) => ({
      topic: 'out',
      message: { key: null, value: Buffer.from(v), headers: {} },
    })),
  } satisfies ProcessedMessage,
});

const named = (events: { event: string }[]) => events.map((e) => e.event);

describe('PartitionTransactions', () => {
  it('commits a chunk in one transaction with its group metadata and the next offset', async () => {
    const { tx, transactions, events, resolved, scope } = setup();
    expect(await tx.commitChunk(scope, [input(10, 'a', 'b'), input(11, 'c')])).toBe(true);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]?.nextOffset).toBe('12');
    expect(transactions[0]?.group).toBe(group);
    expect(transactions[0]?.outputs.get('out')?.map((m) => String(m.value))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(resolved).toEqual(['11']);
    expect(events[0]).toMatchObject({
      event: 'committed',
      args: [{ inputs: 2, outputs: 3, deadLetters: 0, nextOffset: '12' }],
    });
  });

  it('splits a refused chunk and dead-letters the input whose output the broker refuses', async () => {
    const { tx, transactions, events, resolved, scope } = setup();
    expect(await tx.commitChunk(scope, [input(10, 'a'), input(11, 'poison')])).toBe(true);
    // refused whole, first half committed, second refused alone, its dead letter committed
    expect(transactions.map((t) => t.nextOffset)).toEqual(['12', '11', '12', '12']);
    const last = transactions[3];
    expect([...(last?.outputs.keys() ?? [])]).toEqual(['dlq']);
    expect(resolved).toEqual(['10', '11']);
    expect(named(events)).toEqual([
      'aborted',
      'split',
      'committed',
      'aborted',
      'committed',
      'isolated',
      'deadLettered',
    ]);
    expect(events[5]?.args[0]).toMatchObject({ offset: '11', outcome: 'dead_lettered' });
  });

  it('commits the offset alone when the broker refuses even the minimal dead letter', async () => {
    const { tx, transactions, events, scope } = setup((t) =>
      t.outputs.size > 0
        ? { kind: 'refused', type: 'POLICY_VIOLATION', error: new Error('refused') }
        : { kind: 'committed' },
    );
    expect(await tx.commitChunk(scope, [input(10, 'a')])).toBe(true);
    const last = transactions[transactions.length - 1];
    expect(last?.outputs.size).toBe(0);
    expect(last?.nextOffset).toBe('11');
    expect(events.find((e) => e.event === 'isolated')?.args[0]).toMatchObject({
      outcome: 'unrecorded',
    });
  });

  it('stops splitting once the partition is no longer owned: nothing more commits', async () => {
    const { tx, transactions, scope, disown } = setup(() => {
      disown();
      return { kind: 'refused', type: 'MESSAGE_TOO_LARGE', error: new Error('x') };
    });
    expect(await tx.commitChunk(scope, [input(10, 'a'), input(11, 'b')])).toBe(false);
    expect(transactions).toHaveLength(1);
  });

  it('drops the chunk when the coordinator fences this member (KIP-447): PartitionLost', async () => {
    const fenced = new Error('ILLEGAL_GENERATION');
    const { tx, scope, events, resolved } = setup(() => ({
      kind: 'lost',
      type: 'ILLEGAL_GENERATION',
      error: fenced,
    }));
    const err = await tx.commitChunk(scope, [input(10, 'a')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartitionLost);
    expect((err as PartitionLost).kafkaError).toBe(fenced);
    expect(resolved).toEqual([]);
    expect(named(events)).toEqual(['aborted']);
  });

  it('after a commit of unknown outcome fails the chunk and re-reads the offset stable before the next batch', async () => {
    const { tx, scope, calls } = setup(() => ({ kind: 'unknown', error: new Error('timeout') }));
    expect(await tx.offsets.prepare('t', 0)).toBe('7');
    await expect(tx.commitChunk(scope, [input(10, 'a')])).rejects.toBeInstanceOf(
      InfrastructureError,
    );
    expect(await tx.offsets.prepare('t', 0)).toBe('7');
    expect(calls.settle).toBe(1);
  });
});
