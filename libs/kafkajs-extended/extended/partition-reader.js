'use strict'

// Reads partitions by partition and offset WITHOUT a consumer group: it never
// joins, creates or commits for a group, so an auditor's replay or a
// dead-letter listing moves nobody's offsets. Reads are read_committed and
// filtered as the Java consumer filters them (committed-records.js): the
// broker answers up to the last stable offset and lists the aborted
// transactions in the range; their records and every control record are
// dropped here. A moved leader (NOT_LEADER_OR_FOLLOWER, a fenced or unknown
// leader epoch, a broker gone) refreshes metadata and retries within the
// reader's retry bounds.

const createRetry = require('../src/retry')
const ISOLATION_LEVEL = require('../src/protocol/isolationLevel')
const { committedRecords } = require('./committed-records')

const CONSUMER_REPLICA_ID = -1

const LEADER_MOVED = [
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'KAFKA_STORAGE_ERROR',
  'REPLICA_NOT_AVAILABLE',
]

const isConnectionError = e =>
  e.name === 'KafkaJSConnectionError' ||
  e.name === 'KafkaJSConnectionClosedError' ||
  e.name === 'KafkaJSRequestTimeoutError' ||
  e.code === 'ECONNREFUSED' ||
  e.code === 'ECONNRESET'

const headersOf = headers => {
  const result = {}
  for (const [name, value] of Object.entries(headers || {})) {
    if (value === undefined) continue
    result[name] = value
  }
  return result
}

/**
 * @param {object} args
 * @param {object} args.cluster a kafkajs cluster created read_committed
 * @param {object} args.logger
 * @param {object} args.retry retry bounds (kafkajs retry options)
 */
const createPartitionReader = ({ cluster, logger, retry }) => {
  const log = logger.namespace('PartitionReader')

  const withLeader = async (topic, fn) =>
    createRetry(retry)(async (bail, retryCount) => {
      try {
        await cluster.addTargetTopic(topic)
        return await fn()
      } catch (e) {
        if (LEADER_MOVED.includes(e.type) || isConnectionError(e)) {
          log.debug('Leader moved or unreachable, refreshing metadata', {
            topic,
            error: e.message,
            retryCount,
          })
          await cluster.refreshMetadata().catch(() => undefined)
          throw e
        }
        if (e.retriable === false) bail(e)
        throw e
      }
    })

  /** Partitions of `topic` with their current leaders. */
  const partitions = async topic => {
    await cluster.addTargetTopic(topic)
    return cluster
      .findTopicPartitionMetadata(topic)
      .map(p => ({ partition: p.partitionId, leader: p.leader }))
      .sort((a, b) => a.partition - b.partition)
  }

  /**
   * First offset and read_committed end (the last stable offset) of every
   * partition of `topic`: what a reader starting now can reach.
   */
  const offsets = async topic =>
    withLeader(topic, async () => {
      const list = (await partitions(topic)).map(({ partition }) => ({ partition }))
      const ask = async fromBeginning =>
        new Map(
          (
            (await cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions: list }]))[0] || {
              partitions: [],
            }
          ).partitions.map(p => [p.partition, p.offset])
        )
      const low = await ask(true)
      const high = await ask(false)
      return list.map(({ partition }) => ({
        partition,
        low: low.get(partition) || '0',
        high: high.get(partition) || '0',
      }))
    })

  /**
   * One read_committed fetch of one partition from `offset`. `nextOffset`
   * follows the last record batch the broker returned (aborted and control
   * batches included), so a caller loops on it; it equals `offset` when nothing was
   * returned (the partition's stable end, or an open transaction).
   */
  const fetch = async ({ topic, partition, offset, maxBytes, maxWaitMs }) =>
    withLeader(topic, async () => {
      const metadata = cluster
        .findTopicPartitionMetadata(topic)
        .find(p => p.partitionId === partition)
      if (!metadata) {
        const error = new Error(`${topic}[${partition}] has no metadata`)
        error.type = 'UNKNOWN_TOPIC_OR_PARTITION'
        throw error
      }
      const broker = await cluster.findBroker({ nodeId: metadata.leader })
      const response = await broker.fetch({
        replicaId: CONSUMER_REPLICA_ID,
        isolationLevel: ISOLATION_LEVEL.READ_COMMITTED,
        maxWaitTime: maxWaitMs,
        minBytes: 1,
        maxBytes,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes }] }],
      })
      const data = response.responses[0] && response.responses[0].partitions[0]
      if (!data) throw new Error(`no fetch response for ${topic}[${partition}]`)
      const last = data.messages[data.messages.length - 1]
      const records = committedRecords(String(offset), data.messages, data.abortedTransactions).map(
        m => ({
          topic,
          partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          timestamp: m.timestamp,
          headers: headersOf(m.headers),
        })
      )
      return {
        records,
        // The end of the last batch, not of its last record: compaction may
        // have removed a batch's tail records, and a fetch from inside the
        // gap would return the same batch again.
        nextOffset: last
          ? (
              BigInt(last.batchContext.firstOffset) +
              BigInt(last.batchContext.lastOffsetDelta) +
              1n
            ).toString()
          : String(offset),
        highWatermark: data.highWatermark,
        lastStableOffset: data.lastStableOffset,
      }
    })

  return {
    connect: () => cluster.connect(),
    disconnect: () => cluster.disconnect(),
    partitions,
    offsets,
    fetch,
  }
}

module.exports = { createPartitionReader }
