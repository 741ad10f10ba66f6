import { describe, expect, it } from 'vitest';
import { auditLeafHash } from './leaf';
import {
  checkpointDue,
  leafHashesOfBatches,
  resumeLogFromBatches,
  validateOrderBatches,
  type CheckpointPolicyState,
  type LogOrderBatch,
  type LogOrderEntry,
} from './leaf-order';
import { MerkleLog } from './merkle';

const LIMITS = { maxBatchEntries: 4 };

const entry = (i: number): LogOrderEntry => ({
  key: `G-${i % 3}:${i.toString(16).padStart(64, '0')}`,
  eventHash: (i + 1).toString(16).padStart(64, '0'),
  stableHash: (i + 1000).toString(16).padStart(64, '0'),
  partition: i % 2,
  offset: String(i),
});

function batchesOf(sizes: number[]): LogOrderBatch[] {
  let next = 0;
  return sizes.map((size) => {
    const batch = {
      firstIndex: next,
      entries: Array.from({ length: size }, (_, i) => entry(next + i)),
    };
    next += size;
    return batch;
  });
}

describe('order batch validation', () => {
  it('accepts contiguous batches and counts their leaves', () => {
    expect(validateOrderBatches(batchesOf([4, 1, 3]), LIMITS)).toEqual({ leaves: 8 });
  });

  it.each([
    ['a lost batch', batchesOf([2, 2, 2]).filter((_, i) => i !== 1), 'NOT_CONTIGUOUS', 2],
    [
      'a repeated batch',
      [...batchesOf([2, 2]), ...batchesOf([2, 2]).slice(1)],
      'NOT_CONTIGUOUS',
      4,
    ],
    ['an empty batch', [...batchesOf([2]), { firstIndex: 2, entries: [] }], 'EMPTY_BATCH', 2],
    ['an oversized batch', batchesOf([2, 5]), 'BATCH_TOO_LARGE', 2],
    [
      'an entry with a bad hash',
      [{ firstIndex: 0, entries: [entry(0), { ...entry(1), eventHash: 'zz' }] }],
      'MALFORMED_ENTRY',
      1,
    ],
    [
      'an entry with a negative offset',
      [{ firstIndex: 0, entries: [{ ...entry(0), offset: '-1' }] }],
      'MALFORMED_ENTRY',
      0,
    ],
  ])('stops at %s', (_name, batches, kind, leaves) => {
    const result = validateOrderBatches(batches, LIMITS);
    expect(result.problem?.kind).toBe(kind);
    expect(result.leaves).toBe(kind === 'MALFORMED_ENTRY' ? 0 : leaves);
    if (kind === 'MALFORMED_ENTRY') expect(result.problem?.leafIndex).toBe(leaves);
  });

  it('rebuilds the leaf hashes the checkpointer appended', () => {
    const batches = batchesOf([3, 4, 2]);
    const log = new MerkleLog();
    for (const batch of batches)
      for (const e of batch.entries) log.appendLeafHash(auditLeafHash(e));
    const rebuilt = leafHashesOfBatches(batches, LIMITS);
    expect(rebuilt.ok).toBe(true);
    const again = new MerkleLog();
    rebuilt.leafHashes.forEach((hash) => again.appendLeafHash(hash));
    expect(again.root().equals(log.root())).toBe(true);
  });

  it('returns the leaves before a problem along with it', () => {
    const rebuilt = leafHashesOfBatches(batchesOf([2, 2, 9]), LIMITS);
    expect(rebuilt.ok).toBe(false);
    expect(rebuilt.leafHashes).toHaveLength(4);
  });
});

describe('resuming the log from the recorded batches', () => {
  it('continues a killed checkpointer without a fork or a gap', () => {
    const all = Array.from({ length: 23 }, (_, i) => entry(i));
    const uninterrupted = new MerkleLog();
    all.forEach((e) => uninterrupted.appendLeafHash(auditLeafHash(e)));

    // Killed after committing two batches (leaves 0..7); the leaves it had
    // appended in memory past them were never committed, so the standby
    // reads those records again from the committed offsets.
    const committed = batchesOf([4, 4]);
    const resumed = resumeLogFromBatches(committed, LIMITS);
    if (!resumed.ok) throw new Error(resumed.problem.message);
    expect(resumed.log.size).toBe(8);
    all.slice(8).forEach((e) => resumed.log.appendLeafHash(auditLeafHash(e)));
    expect(resumed.log.root().equals(uninterrupted.root())).toBe(true);
  });

  it('refuses to resume over broken batches', () => {
    const resumed = resumeLogFromBatches(batchesOf([4, 4]).slice(1), LIMITS);
    expect(resumed).toMatchObject({ ok: false, problem: { kind: 'NOT_CONTIGUOUS' } });
  });
});

describe('checkpoint policy', () => {
  const policy = { everyLeaves: 100, everyMs: 10_000 };
  const state = (over: Partial<CheckpointPolicyState>): CheckpointPolicyState => ({
    treeSize: 50,
    checkpointedSize: 0,
    lastCheckpointAtMs: 1_000_000,
    nowMs: 1_001_000,
    ...over,
  });

  it.each([
    ['too few leaves, too soon', state({}), { cut: false }],
    ['enough leaves', state({ treeSize: 100 }), { cut: true, reason: 'LEAVES' }],
    [
      'enough leaves since the last cut',
      state({ treeSize: 250, checkpointedSize: 150 }),
      { cut: true, reason: 'LEAVES' },
    ],
    ['long enough with a new leaf', state({ nowMs: 1_010_000 }), { cut: true, reason: 'TIME' }],
    [
      'long enough without a new leaf',
      state({ treeSize: 50, checkpointedSize: 50, nowMs: 9_000_000 }),
      { cut: false },
    ],
  ])('%s', (_name, given, expected) => {
    expect(checkpointDue(given, policy)).toEqual(expected);
  });
});
