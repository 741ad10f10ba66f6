'use strict'

// The records of one read_committed fetch a reader may see: no record of an
// aborted transaction, no control record, nothing before the fetched offset.
//
// Follows the Java consumer (CompletedFetch): aborted transactions are taken
// in order of their first offset, and every one that starts at or before a
// batch's last offset marks its producer aborted before the batch is judged;
// the producer's ABORT marker ends it. The broker lists aborted transactions
// in the order they ended, not began, so walking that list as given (one
// entry per record, as kafkajs's consumer Batch does) lets the first records
// of a transaction that began before another one and ended after it through.

/** Key of an ABORT control record: version 0 (int16), type 0 = ABORT (int16). */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0])

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * @param {string} fetchedOffset
 * @param {{ offset: string, key: Buffer | null, batchContext: { firstOffset: string, lastOffsetDelta: number, producerId: string, inTransaction: boolean, isControlBatch: boolean } }[]} records
 * @param {{ producerId: string, firstOffset: string }[] | null | undefined} abortedTransactions
 */
const committedRecords = (fetchedOffset, records, abortedTransactions) => {
  const from = BigInt(fetchedOffset)
  const pending = [...(abortedTransactions || [])].sort((a, b) =>
    compare(BigInt(a.firstOffset), BigInt(b.firstOffset))
  )
  const aborted = new Set()
  const kept = []
  let next = 0
  for (const record of records) {
    const batch = record.batchContext
    const lastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)
    while (next < pending.length && BigInt(pending[next].firstOffset) <= lastOffset) {
      aborted.add(String(pending[next].producerId))
      next += 1
    }
    if (batch.isControlBatch) {
      if (record.key !== null && ABORT_MARKER_KEY.equals(record.key)) {
        aborted.delete(String(batch.producerId))
      }
      continue
    }
    if (batch.inTransaction && aborted.has(String(batch.producerId))) continue
    if (BigInt(record.offset) < from) continue
    kept.push(record)
  }
  return kept
}

module.exports = { committedRecords }
