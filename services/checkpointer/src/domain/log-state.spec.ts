import { describe, expect, it } from 'vitest';
import { MerkleLog, auditLeafHash, type AuditLeafFields } from '@grantstream/audit';
import { LogState, type CommitPlan } from './log-state';

const leaf = (i: number): AuditLeafFields => ({
  key: `G-${i}:${i.toString(16).padStart(64, '0')}`,
  eventHash: (i + 1).toString(16).padStart(64, '0'),
  stableHash: (i + 7).toString(16).padStart(64, '0'),
});

const policy = { everyLeaves: 4, everyMs: 1000 };
const fresh = (extra: Partial<ConstructorParameters<typeof LogState>[0]> = {}) =>
  new LogState({ maxBatchEntries: 3, policy, startedAtMs: 0, ...extra });

/** Feeds records of partition p at offsets, one leaf each, and commits every plan. */
function run(state: LogState, records: { partition: number; offset: number; leaf?: number }[]) {
  const plans: CommitPlan[] = [];
  for (const r of records) {
    state.take({
      partition: r.partition,
      offset: String(r.offset),
      ...(r.leaf === undefined ? {} : { leaf: leaf(r.leaf) }),
    });
    if (state.batchFull) {
      const plan = state.plan(0);
      if (plan) {
        state.committed(plan);
        plans.push(plan);
      }
    }
  }
  const last = state.plan(0);
  if (last) {
    state.committed(last);
    plans.push(last);
  }
  return plans;
}

describe('LogState', () => {
  it('cuts batches of at most maxBatchEntries, contiguous from 0', () => {
    const plans = run(
      fresh(),
      [0, 1, 2, 3, 4].map((i) => ({ partition: i % 2, offset: i, leaf: i })),
    );
    expect(plans.map((p) => [p.batch?.firstIndex, p.batch?.entries.length])).toEqual([
      [0, 3],
      [3, 2],
    ]);
    expect(Object.fromEntries(plans[1]!.positions)).toEqual({ 0: '5', 1: '4' });
  });

  it('advances positions past records that make no leaf, and commits them without a batch', () => {
    const state = fresh();
    const plans = run(state, [{ partition: 2, offset: 9 }]);
    expect(plans).toEqual([{ positions: new Map([[2, '10']]) }]);
    expect(state.plan(0)).toBeUndefined();
  });

  it('signs a checkpoint after everyLeaves, or everyMs with a new leaf, never for an unchanged tree', () => {
    const state = fresh({ maxBatchEntries: 10 });
    run(
      state,
      [0, 1].map((i) => ({ partition: 0, offset: i, leaf: i })),
    );
    state.take({ partition: 0, offset: '2', leaf: leaf(2) });
    const timed = state.plan(1000);
    expect(timed?.checkpoint?.size).toBe(3);
    const log = new MerkleLog();
    for (const i of [0, 1, 2]) log.appendLeafHash(auditLeafHash(leaf(i)));
    expect(timed?.checkpoint?.rootHash.equals(log.root())).toBe(true);
    state.committed(timed!);
    expect(state.plan(5000)).toBeUndefined();
  });

  it('resumes after the later of the committed offset and the last recorded leaf', () => {
    const state = fresh();
    expect(
      state.resumeBatch({
        firstIndex: 0,
        entries: [
          { ...leaf(0), partition: 0, offset: '4' },
          { ...leaf(1), partition: 1, offset: '7' },
        ],
      }),
    ).toBe(true);
    // A stale committed offset for partition 0, a later one (past skipped records) for 1.
    const positions = state.finishResume(
      new Map([
        [0, '2'],
        [1, '9'],
      ]),
    );
    expect(Object.fromEntries(positions!)).toEqual({ 0: '5', 1: '9' });
    expect(state.size).toBe(2);
  });

  it('refuses to continue batches that are not contiguous', () => {
    const state = fresh();
    state.resumeBatch({ firstIndex: 0, entries: [{ ...leaf(0), partition: 0, offset: '0' }] });
    expect(
      state.resumeBatch({ firstIndex: 2, entries: [{ ...leaf(1), partition: 0, offset: '1' }] }),
    ).toBe(false);
    expect(state.finishResume(new Map())).toBeUndefined();
    expect(state.problem).toMatchObject({ kind: 'ORDER', problem: { kind: 'NOT_CONTIGUOUS' } });
  });

  it('refuses batches that do not reproduce the last checkpoint', () => {
    const state = fresh({
      lastCheckpoint: { size: 1, rootHash: Buffer.alloc(32, 9), atMs: 0 },
    });
    expect(
      state.resumeBatch({ firstIndex: 0, entries: [{ ...leaf(0), partition: 0, offset: '0' }] }),
    ).toBe(false);
    expect(state.problem).toEqual({ kind: 'ROOT_MISMATCH', size: 1 });
  });

  it('refuses a checkpoint larger than the recorded order', () => {
    const state = fresh({
      lastCheckpoint: { size: 5, rootHash: Buffer.alloc(32), atMs: 0 },
    });
    expect(state.finishResume(new Map())).toBeUndefined();
    expect(state.problem).toEqual({ kind: 'CHECKPOINT_PAST_ORDER', size: 5, leaves: 0 });
  });
});
