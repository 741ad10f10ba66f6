import { describe, expect, it } from 'vitest';
import { commitIsolating, splitSizes, type SliceCommit, type SplitStep } from './poison-isolation';
import { classifyTransactionFailure } from './transaction-failure';

/** A broker stand-in: refuses any transaction holding a poison input; records what committed. */
function fakeBroker(poison: ReadonlySet<number>) {
  const committed: number[][] = [];
  const isolated: number[] = [];
  const splits: SplitStep[] = [];
  let transactions = 0;
  return {
    committed,
    isolated,
    splits,
    get transactions() {
      return transactions;
    },
    hooks: (maxRefusedTransactions: number) => ({
      maxRefusedTransactions,
      commit: (items: readonly number[]): Promise<SliceCommit> => {
        transactions += 1;
        if (items.some((i) => poison.has(i)))
          return Promise.resolve({ committed: false, refusal: 'MESSAGE_TOO_LARGE' });
        committed.push([...items]);
        return Promise.resolve({ committed: true });
      },
      isolate: (item: number) => {
        isolated.push(item);
        return Promise.resolve();
      },
      onSplit: (s: SplitStep) => {
        splits.push(s);
      },
    }),
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('splitSizes', () => {
  it.each([
    [2, 1, 10, [1, 1]],
    [5, 1, 10, [3, 2]],
    [1000, 3, 10, [500, 500]],
    [4, 10, 10, [1, 1, 1, 1]],
    [3, 11, 10, [1, 1, 1]],
  ])('splits %i inputs after %i refusals (budget %i) into %j', (size, refused, max, expected) => {
    expect(splitSizes(size, refused, max)).toEqual(expected);
  });
});

describe('commitIsolating', () => {
  it('commits a chunk the broker takes in one transaction', async () => {
    const broker = fakeBroker(new Set());
    const report = await commitIsolating(range(50), broker.hooks(24));
    expect(report).toEqual({ transactions: 1, refused: 0, isolated: 0, splits: 0 });
    expect(broker.committed).toEqual([range(50)]);
  });

  it.each([0, 7, 19, 999])(
    'isolates the one refused input at %i of 1000, committing every other once, in order',
    async (poison) => {
      const broker = fakeBroker(new Set([poison]));
      const report = await commitIsolating(range(1000), broker.hooks(24));
      expect(broker.isolated).toEqual([poison]);
      const flat = broker.committed.flat();
      expect(flat).toEqual(range(1000).filter((i) => i !== poison));
      // Halving: at most 2 refusals per level of a 1000-input chunk (10 levels).
      expect(report.refused).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1000)) + 1);
      expect(report.isolated).toBe(1);
    },
  );

  it('isolates several refused inputs and never commits one', async () => {
    const poison = new Set([3, 4, 50, 51, 52, 99]);
    const broker = fakeBroker(poison);
    await commitIsolating(range(100), broker.hooks(64));
    expect(broker.isolated).toEqual([...poison]);
    expect(broker.committed.flat()).toEqual(range(100).filter((i) => !poison.has(i)));
  });

  it('goes one input at a time once the refusal budget is spent, still bounded', async () => {
    const poison = new Set(range(40).filter((i) => i % 5 === 0));
    const broker = fakeBroker(poison);
    const report = await commitIsolating(range(40), broker.hooks(4));
    expect(broker.isolated).toEqual([...poison]);
    expect(broker.committed.flat()).toEqual(range(40).filter((i) => !poison.has(i)));
    expect(broker.splits.some((s) => s.singles)).toBe(true);
    // The budget, then at most one transaction per input.
    expect(report.transactions).toBeLessThanOrEqual(4 + 2 * 40);
  });

  it('stops at an outage: what committed before it stays, nothing after it is tried', async () => {
    let calls = 0;
    const committed: number[][] = [];
    const outage = new Error('connection lost');
    await expect(
      commitIsolating(range(8), {
        maxRefusedTransactions: 10,
        commit: (items) => {
          calls += 1;
          if (calls === 1) return Promise.resolve({ committed: false, refusal: 'INVALID_RECORD' });
          if (calls === 3) return Promise.reject(outage);
          committed.push([...items]);
          return Promise.resolve({ committed: true });
        },
        isolate: () => Promise.resolve(),
      }),
    ).rejects.toBe(outage);
    expect(committed).toEqual([[0, 1, 2, 3]]);
    expect(calls).toBe(3);
  });
});

/** kafkajs errors as they reach the runner (name, type, cause), without kafkajs. */
function kafkaError(name: string, type?: string, cause?: Error): Error {
  const e = new Error(`${name} ${type ?? ''}`) as Error & { type?: string; cause?: Error };
  e.name = name;
  if (type) e.type = type;
  if (cause) e.cause = cause;
  return e;
}

describe('classifyTransactionFailure', () => {
  it.each([
    ['MESSAGE_TOO_LARGE'],
    ['RECORD_LIST_TOO_LARGE'],
    ['INVALID_RECORD'],
    ['INVALID_TIMESTAMP'],
  ])('takes a broker %s for a refusal', (type) => {
    expect(classifyTransactionFailure(kafkaError('KafkaJSProtocolError', type))).toEqual({
      kind: 'refused',
      type,
    });
  });

  it('finds a refusal wrapped by a retrier', () => {
    const wrapped = kafkaError(
      'KafkaJSNumberOfRetriesExceeded',
      undefined,
      kafkaError('KafkaJSProtocolError', 'CORRUPT_MESSAGE'),
    );
    expect(classifyTransactionFailure(wrapped)).toEqual({
      kind: 'refused',
      type: 'CORRUPT_MESSAGE',
    });
  });

  it.each([
    kafkaError('KafkaJSConnectionError'),
    kafkaError('KafkaJSRequestTimeoutError'),
    kafkaError('KafkaJSProtocolError', 'NOT_COORDINATOR'),
    kafkaError('KafkaJSProtocolError', 'INVALID_PRODUCER_EPOCH'),
    kafkaError('KafkaJSProtocolError', 'UNKNOWN_TOPIC_OR_PARTITION'),
    kafkaError('KafkaJSNumberOfRetriesExceeded', undefined, kafkaError('KafkaJSConnectionError')),
    new Error('socket hang up'),
  ])('takes %s for infrastructure: the whole chunk is retried', (err) => {
    expect(classifyTransactionFailure(err)).toEqual({ kind: 'infrastructure' });
  });

  it('takes a record the client cannot encode for a refusal', () => {
    expect(classifyTransactionFailure(new TypeError('header value must be a string'))).toEqual({
      kind: 'refused',
      type: 'TypeError',
    });
  });
});
