import { describe, expect, it } from 'vitest';
import type { LogOrderBatch } from '@grantstream/audit';
import { leavesOf, sizeCovering } from './checkpointer-catch-up';

const H = 'a'.repeat(64);
const entry = (key: string, partition: number, offset: number) => ({
  key,
  eventHash: H,
  stableHash: H,
  partition,
  offset: String(offset),
});
/** Leaves 100..104: partition 0 offsets 10, 12; partition 1 offsets 7, 9; partition 0 offset 15. */
const BATCHES: LogOrderBatch[] = [
  { firstIndex: 100, entries: [entry('NSF-1-R:e1', 0, 10), entry('NSF-1-R:e2', 0, 12)] },
  {
    firstIndex: 102,
    entries: [entry('BCF-2-R:e1', 1, 7), entry('OTHER-9:e1', 1, 9), entry('NSF-1-R:e3', 0, 15)],
  },
];

describe('sizeCovering', () => {
  it('is one past the highest leaf holding each partition’s last record', () => {
    expect(sizeCovering(new Map([[0, 12n]]), BATCHES)).toBe(102);
    expect(
      sizeCovering(
        new Map([
          [0, 12n],
          [1, 7n],
        ]),
        BATCHES,
      ),
    ).toBe(103);
    expect(sizeCovering(new Map([[0, 15n]]), BATCHES)).toBe(105);
  });

  it('takes the first leaf past a record that made none (a tombstone at 11)', () => {
    expect(sizeCovering(new Map([[0, 11n]]), BATCHES)).toBe(102);
  });

  it('is null while a partition’s last record is not a leaf yet', () => {
    expect(
      sizeCovering(
        new Map([
          [0, 12n],
          [1, 10n],
        ]),
        BATCHES,
      ),
    ).toBeNull();
    expect(sizeCovering(new Map([[2, 0n]]), BATCHES)).toBeNull();
  });

  it('needs nothing when the run wrote no audit record', () => {
    expect(sizeCovering(new Map(), [])).toBe(0);
  });
});

describe('leavesOf', () => {
  it('counts the leaves of the run’s grants below the checkpoint size', () => {
    const run = new Set(['NSF-1-R', 'BCF-2-R']);
    expect(leavesOf(BATCHES, run, 105)).toBe(4);
    expect(leavesOf(BATCHES, run, 103)).toBe(3);
    expect(leavesOf(BATCHES, new Set(['NSF-1']), 105)).toBe(0);
  });
});
