const { KafkaJSMetadataNotLoaded } = require('../errors')
const { staleMetadata } = require('../protocol/error')
const groupMessagesPerPartition = require('./groupMessagesPerPartition')
const createTopicData = require('./createTopicData')
const responseSerializer = require('./responseSerializer')

const { keys } = Object

/**
 * @param {Object} options
 * @param {import("../../types").Logger} options.logger
 * @param {import("../../types").Cluster} options.cluster
 * @param {ReturnType<import("../../types").ICustomPartitioner>} options.partitioner
 * @param {import("./eosManager").EosManager} options.eosManager
 * @param {import("../retry").Retrier} options.retrier
 */
module.exports = ({ logger, cluster, partitioner, eosManager, retrier }) => {
  return async ({ acks, timeout, compression, topicMessages }) => {
    // grantstream: a send is tracked per partition, not per broker. kafkajs kept one
    // answer per broker across retries and retried while other brokers' requests
    // were still in flight: a request in flight was sent again (a second copy of the
    // same records, with the next sequence numbers, so the broker appended both), a
    // partition whose leader moved to a broker that had already answered was never
    // sent (a transaction committed without those records), and one that moved away
    // from it was sent twice. Now every attempt waits for all of its requests, a
    // partition once acknowledged is never sent again, and every other partition
    // goes to its current leader until it is acknowledged.
    /** @type {Map<string, any>} `${topic}|${partition}` -> its answer (null with acks 0) */
    const acknowledged = new Map()
    /** @type {Map<string, Record<string, any[]>>} a topic's messages by partition, chosen once */
    const messagesPerTopic = new Map()
    const keyOf = (topic, partition) => `${topic}|${partition}`

    const createProducerRequests = async () => {
      /** @type {Map<number, { topic: string, partitions: number[], messagesPerPartition: Record<string, any[]> }[]>} */
      const topicDataPerLeader = new Map()
      let unplaced = 0

      await cluster.refreshMetadataIfNecessary()

      for (const { topic, messages } of topicMessages) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic)

        if (partitionMetadata.length === 0) {
          logger.debug('Producing to topic without metadata', {
            topic,
            targetTopics: Array.from(cluster.targetTopics),
          })

          throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata')
        }

        // Chosen once: a partitioner without a key (round robin) would place a
        // retried message elsewhere, and the acknowledged partitions would not
        // cover it.
        if (!messagesPerTopic.has(topic)) {
          messagesPerTopic.set(
            topic,
            groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner })
          )
        }
        const messagesPerPartition = messagesPerTopic.get(topic)
        const pending = keys(messagesPerPartition).filter(
          partition => !acknowledged.has(keyOf(topic, partition))
        )
        const partitionsPerLeader = cluster.findLeaderForPartitions(topic, pending)
        for (const [leader, partitions] of Object.entries(partitionsPerLeader)) {
          const nodeId = Number(leader)
          const list = topicDataPerLeader.get(nodeId) || []
          list.push({ topic, partitions, messagesPerPartition })
          topicDataPerLeader.set(nodeId, list)
          unplaced -= partitions.length
        }
        unplaced += pending.length
      }

      if (unplaced > 0) {
        throw new KafkaJSMetadataNotLoaded('Producing to a partition without a known leader')
      }

      return Array.from(topicDataPerLeader.entries()).map(async ([nodeId, topicDataForBroker]) => {
        const broker = await cluster.findBroker({ nodeId })
        const topicData = createTopicData(topicDataForBroker)

        await eosManager.acquireBrokerLock(broker)
        try {
          if (eosManager.isTransactional()) {
            await eosManager.addPartitionsToTransaction(topicData)
          }

          topicData.forEach(({ topic, partitions }) => {
            partitions.forEach(entry => {
              entry['firstSequence'] = eosManager.getSequence(topic, entry.partition)
              eosManager.updateSequence(topic, entry.partition, entry.messages.length)
            })
          })

          let response
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional()
                ? eosManager.getTransactionalId()
                : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            })
          } catch (e) {
            topicData.forEach(({ topic, partitions }) => {
              partitions.forEach(entry => {
                eosManager.updateSequence(topic, entry.partition, -entry.messages.length)
              })
            })
            throw e
          }

          const expectResponse = acks !== 0
          const answers = expectResponse ? responseSerializer(response) : []
          topicData.forEach(({ topic, partitions }) => {
            partitions.forEach(({ partition }) => {
              const answer = answers.find(
                a => a.topicName === topic && Number(a.partition) === Number(partition)
              )
              acknowledged.set(keyOf(topic, partition), answer || null)
            })
          })
        } finally {
          await eosManager.releaseBrokerLock(broker)
        }
      })
    }

    /** Runs one attempt's requests to the end, all of them, before its first failure is thrown. */
    const settle = async requests => {
      const results = await Promise.allSettled(requests)
      const failed = results.find(r => r.status === 'rejected')
      if (failed) throw failed.reason
    }

    return retrier(async (bail, retryCount, retryTime) => {
      const topics = topicMessages.map(({ topic }) => topic)
      await cluster.addMultipleTargetTopics(topics)

      try {
        await settle(await createProducerRequests())
        return Array.from(acknowledged.values()).filter(answer => answer !== null)
      } catch (e) {
        if (e.name === 'KafkaJSConnectionClosedError') {
          cluster.removeBroker({ host: e.host, port: e.port })
        }

        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, {
            retryCount,
            retryTime,
          })
          await cluster.connect()
          await cluster.refreshMetadata()
          throw e
        }

        // This is necessary in case the metadata is stale and the number of partitions
        // for this topic has increased in the meantime
        if (
          staleMetadata(e) ||
          e.name === 'KafkaJSMetadataNotLoaded' ||
          e.name === 'KafkaJSConnectionError' ||
          e.name === 'KafkaJSConnectionClosedError' ||
          (e.name === 'KafkaJSProtocolError' && e.retriable)
        ) {
          logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime })
          await cluster.refreshMetadata()
          throw e
        }

        logger.error(`${e.message}`, { retryCount, retryTime })
        if (e.retriable) throw e
        bail(e)
      }
    })
  }
}
