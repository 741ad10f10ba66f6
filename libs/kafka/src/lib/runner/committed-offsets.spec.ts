import { describe, expect, it } from 'vitest';
import type { Admin } from '@grantstream/kafkajs-extended';
import { createLogger } from '@grantstream/logging';
import { CommittedOffsets, type CommittedOffsetsOptions } from './committed-offsets';

// Where a partition resumes after a join or a failed commit, with a fake
// admin (plain OffsetFetch answers in order) and a fake stable read.

const config = {
  groupId: 'g',
  transactionTimeoutMs: 100,
  uncertainCommit: { settleMs: 200, pollMs: 1 },
};

function offsetsWith(opts: {
  plain?: string[];
  stable?: () => Promise<Map<number, string>>;
  prepare?: () => void;
}) {
  const plain = [...(opts.plain ?? [])];
  const calls = { settle: 0, prepare: 0, plain: 0, stable: 0 };
  let generation = 1;
  const admin = {
    fetchOffsets: () => {
      calls.plain += 1;
      const offset = (plain.length > 1 ? plain.shift() : plain[0]) ?? '-1';
      return Promise.resolve([{ topic: 't', partitions: [{ partition: 0, offset }] }]);
    },
  } as unknown as Admin;
  const options: CommittedOffsetsOptions = {
    config,
    log: createLogger({ service: 'committed-offsets-spec', level: 'silent' }),
    admin: () => admin,
    generation: () => generation,
    settle: () => {
      calls.settle += 1;
      return Promise.resolve();
    },
    preparePartition: () => {
      calls.prepare += 1;
      opts.prepare?.();
      return Promise.resolve();
    },
    signal: new AbortController().signal,
    readStable: () => {
      calls.stable += 1;
      return opts.stable ? opts.stable() : Promise.resolve(new Map([[0, '10']]));
    },
  };
  return {
    offsets: new CommittedOffsets(options),
    calls,
    join: () => (generation += 1),
  };
}

const unstable = () => Promise.reject(new Error('UNSTABLE_OFFSET_COMMIT until the end'));

describe('CommittedOffsets', () => {
  it('prepares a partition once per generation: stable read, then the stage reloads', async () => {
    const { offsets, calls, join } = offsetsWith({});
    expect(await offsets.prepare('t', 0)).toBe('10');
    expect(await offsets.prepare('t', 0)).toBeNull();
    join();
    expect(await offsets.prepare('t', 0)).toBe('10');
    expect(calls).toMatchObject({ stable: 2, prepare: 2, settle: 0 });
  });

  it('prepares again after a failed transaction, in the same generation', async () => {
    const { offsets, calls } = offsetsWith({});
    await offsets.prepare('t', 0);
    offsets.failed('t', 0);
    expect(await offsets.prepare('t', 0)).toBe('10');
    expect(calls.prepare).toBe(2);
    expect(calls.settle).toBe(0);
  });

  it('after a commit of unknown outcome settles its own transaction and takes the stable answer', async () => {
    const { offsets, calls } = offsetsWith({ stable: () => Promise.resolve(new Map([[0, '20']])) });
    offsets.failed('t', 0, '20');
    expect(await offsets.prepare('t', 0)).toBe('20');
    expect(calls.settle).toBe(1);
    expect(calls.plain).toBe(0);
  });

  it('without a stable answer polls until the uncertain commit shows', async () => {
    const { offsets, calls } = offsetsWith({ stable: unstable, plain: ['10', '10', '20'] });
    offsets.failed('t', 0, '20');
    expect(await offsets.prepare('t', 0)).toBe('20');
    expect(calls.plain).toBe(3);
  });

  it('without a stable answer takes the chunk as aborted once the settle window ran out', async () => {
    const { offsets } = offsetsWith({ stable: unstable, plain: ['10'] });
    offsets.failed('t', 0, '20');
    const started = Date.now();
    expect(await offsets.prepare('t', 0)).toBe('10');
    expect(Date.now() - started).toBeGreaterThanOrEqual(config.uncertainCommit.settleMs);
  });

  it('reads null when the group has committed nothing', async () => {
    const { offsets } = offsetsWith({ stable: () => Promise.resolve(new Map([[0, '-1']])) });
    expect(await offsets.prepare('t', 0)).toBeNull();
  });

  it('does not count a preparation that a rejoin overtook', async () => {
    let joined = false;
    const ctx = offsetsWith({
      prepare: () => {
        if (!joined) {
          joined = true;
          ctx.join();
        }
      },
    });
    await ctx.offsets.prepare('t', 0);
    expect(await ctx.offsets.prepare('t', 0)).toBe('10');
    expect(ctx.calls.prepare).toBe(2);
  });
});
