import { describe, expect, it } from 'vitest';
import { committedRecords, type FetchedRecord } from '@grantstream/kafkajs-extended';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** A one-record batch at `offset` written by `producer`. */
function rec(
  offset: number,
  producer: string,
  kind: 'data' | 'tx' | 'abort' | 'commit' = 'tx',
): FetchedRecord {
  const control = kind === 'abort' || kind === 'commit';
  return {
    offset: String(offset),
    key: kind === 'abort' ? ABORT : kind === 'commit' ? COMMIT : Buffer.from(`k${offset}`),
    batchContext: {
      firstOffset: String(offset),
      lastOffsetDelta: 0,
      producerId: producer,
      inTransaction: kind !== 'data',
      isControlBatch: control,
    },
  };
}

const offsets = (records: FetchedRecord[]) => records.map((r) => Number(r.offset));

describe('committedRecords', () => {
  it('keeps everything when no transaction was aborted, minus control records', () => {
    const records = [rec(0, 'p1'), rec(1, 'p1', 'commit'), rec(2, 'p2', 'data')];
    expect(offsets(committedRecords('0', records, []))).toEqual([0, 2]);
  });

  it('hides a transaction that began before another and was aborted after it', () => {
    // p1 begins (0), p2 begins (1), p2 aborts (2), p1 writes again (3) and aborts (4).
    // The broker lists aborted transactions in the order they ended: p2 first.
    const records = [
      rec(0, 'p1'),
      rec(1, 'p2'),
      rec(2, 'p2', 'abort'),
      rec(3, 'p1'),
      rec(4, 'p1', 'abort'),
      rec(5, 'p3'),
      rec(6, 'p3', 'commit'),
    ];
    const aborted = [
      { producerId: 'p2', firstOffset: '1' },
      { producerId: 'p1', firstOffset: '0' },
    ];
    expect(offsets(committedRecords('0', records, aborted))).toEqual([5]);
  });

  it('hides every aborted transaction that began before the fetch offset', () => {
    // A fetch that starts at 2, inside two aborted transactions that began at 0 and 1.
    const records = [rec(2, 'p2'), rec(3, 'p1'), rec(4, 'p1', 'abort'), rec(5, 'p2', 'abort')];
    const aborted = [
      { producerId: 'p1', firstOffset: '0' },
      { producerId: 'p2', firstOffset: '1' },
    ];
    expect(offsets(committedRecords('2', records, aborted))).toEqual([]);
  });

  it('lets a producer’s next, committed transaction through after its abort marker', () => {
    const records = [rec(0, 'p1'), rec(1, 'p1', 'abort'), rec(2, 'p1'), rec(3, 'p1', 'commit')];
    expect(
      offsets(committedRecords('0', records, [{ producerId: 'p1', firstOffset: '0' }])),
    ).toEqual([2]);
  });

  it('never hides a non-transactional record of an aborted producer id', () => {
    const records = [rec(0, 'p1'), rec(1, 'p1', 'data'), rec(2, 'p1', 'abort')];
    expect(
      offsets(committedRecords('0', records, [{ producerId: 'p1', firstOffset: '0' }])),
    ).toEqual([1]);
  });

  it('judges a multi-record batch by its last offset and drops records before the fetch offset', () => {
    const batch = (offset: number): FetchedRecord => ({
      offset: String(offset),
      key: null,
      batchContext: {
        firstOffset: '10',
        lastOffsetDelta: 2,
        producerId: 'p9',
        inTransaction: false,
        isControlBatch: false,
      },
    });
    expect(offsets(committedRecords('11', [batch(10), batch(11), batch(12)], null))).toEqual([
      11, 12,
    ]);
  });
});
