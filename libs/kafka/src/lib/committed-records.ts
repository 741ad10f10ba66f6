/** The record-batch facts of a fetched record that transaction filtering needs. */
export interface FetchedBatchContext {
  firstOffset: string;
  lastOffsetDelta: number;
  producerId: string;
  inTransaction: boolean;
  isControlBatch: boolean;
}

/** One record of a fetch response, as the wire decoder returns it. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  batchContext: FetchedBatchContext;
}

/** An aborted transaction a read_committed fetch response lists. */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** Key of an ABORT control record: version 0 (int16), type 0 = ABORT (int16). */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

/**
 * The records of one read_committed fetch a reader may see: no record of an
 * aborted transaction, no control record, nothing before `fetchedOffset`.
 *
 * Follows the Java consumer (CompletedFetch): aborted transactions are taken
 * in order of their first offset, and every one that starts at or before a
 * batch's last offset marks its producer aborted before the batch is judged;
 * the producer's ABORT marker ends it. The broker lists aborted transactions
 * in the order they ended, not began, so a reader that walks that list as
 * given, one entry per record (kafkajs's consumer Batch does), lets the first
 * records of a transaction that began before another one and ended after it
 * through: an aborted write then looks committed.
 */
export function committedRecords<R extends FetchedRecord>(
  fetchedOffset: string,
  records: readonly R[],
  abortedTransactions: readonly AbortedTransaction[] | null | undefined,
): R[] {
  const from = BigInt(fetchedOffset);
  const pending = [...(abortedTransactions ?? [])].sort((a, b) =>
    compareBig(BigInt(a.firstOffset), BigInt(b.firstOffset)),
  );
  const aborted = new Set<string>();
  const kept: R[] = [];
  let next = 0;
  for (const record of records) {
    const batch = record.batchContext;
    const lastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta);
    while (next < pending.length && BigInt(pending[next]!.firstOffset) <= lastOffset) {
      aborted.add(pending[next]!.producerId);
      next += 1;
    }
    if (batch.isControlBatch) {
      if (record.key !== null && ABORT_MARKER_KEY.equals(record.key)) {
        aborted.delete(batch.producerId);
      }
      continue;
    }
    if (batch.inTransaction && aborted.has(batch.producerId)) continue;
    if (BigInt(record.offset) < from) continue;
    kept.push(record);
  }
  return kept;
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
