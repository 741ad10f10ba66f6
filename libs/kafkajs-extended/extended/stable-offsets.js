'use strict'

// The committed offsets of a group read with require_stable (KIP-447). A
// coordinator that still applies a transaction holding offsets for a
// partition answers UNSTABLE_OFFSET_COMMIT: that answer is retried within the
// caller's retry bounds and never replaced by the offset from before the
// transaction. A coordinator that moved is looked up again.

const createRetry = require('../src/retry')

const COORDINATOR_MOVED = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']

/**
 * @param {object} args
 * @param {object} args.cluster a kafkajs cluster (the admin's)
 * @param {string} args.groupId
 * @param {{ topic: string, partitions: number[] }[]} args.topics
 * @param {{ retries?: number, initialRetryTime?: number, maxRetryTime?: number, factor?: number, multiplier?: number }} args.retry
 * @param {object} args.logger
 * @returns {Promise<{ topic: string, partitions: { partition: number, offset: string, leaderEpoch: number, metadata: string | null }[] }[]>}
 */
const fetchStableOffsets = async ({ cluster, groupId, topics, retry, logger }) => {
  const retrier = createRetry(retry)
  let attempts = 0
  return retrier(async (bail, retryCount, retryTime) => {
    attempts += 1
    try {
      const coordinator = await cluster.findGroupCoordinator({ groupId })
      const { responses } = await coordinator.offsetFetch({
        groupId,
        topics: topics.map(({ topic, partitions }) => ({ topic, partitions })),
        requireStable: true,
      })
      return responses.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partition, offset, leaderEpoch, metadata }) => ({
          partition,
          offset,
          leaderEpoch,
          metadata: metadata || null,
        })),
      }))
    } catch (e) {
      if (e.type === 'UNSTABLE_OFFSET_COMMIT') {
        logger.debug('Offsets held by an open transaction, retrying', {
          groupId,
          attempts,
          retryCount,
          retryTime,
        })
        throw e
      }
      if (COORDINATOR_MOVED.includes(e.type) || e.type === 'COORDINATOR_LOAD_IN_PROGRESS') {
        await cluster.refreshMetadata()
        throw e
      }
      if (e.retriable === false || e.name === 'KafkaJSNonRetriableError') bail(e)
      throw e
    }
  })
}

module.exports = { fetchStableOffsets }
