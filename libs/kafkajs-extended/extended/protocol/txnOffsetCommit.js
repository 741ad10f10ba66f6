'use strict'

// TxnOffsetCommit v3 (KIP-447): the transactional offset commit carries the
// consumer group metadata (generation id, member id, group instance id), so
// the group coordinator refuses the commit of a member that is no longer in
// the generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID):
// a zombie is fenced by the group, not by one transactional id per partition.

const Encoder = require('../../src/protocol/encoder')
const Decoder = require('../../src/protocol/decoder')
const { failure, createErrorFromCode } = require('../../src/protocol/error')
const { TxnOffsetCommit: apiKey } = require('../../src/protocol/requests/apiKeys')
const {
  flexibleRequest,
  skipTaggedFields,
  writeCompactArray,
  writeEmptyTaggedFields,
  readCompactArray,
} = require('./flexible')

/**
 * TxnOffsetCommit Request (Version: 3) => transactional_id group_id producer_id producer_epoch generation_id member_id group_instance_id [topics] TAG_BUFFER
 *   transactional_id => COMPACT_STRING
 *   group_id => COMPACT_STRING
 *   producer_id => INT64
 *   producer_epoch => INT16
 *   generation_id => INT32
 *   member_id => COMPACT_STRING
 *   group_instance_id => COMPACT_NULLABLE_STRING
 *   topics => name [partitions] TAG_BUFFER
 *     name => COMPACT_STRING
 *     partitions => partition_index committed_offset committed_leader_epoch committed_metadata TAG_BUFFER
 *       partition_index => INT32
 *       committed_offset => INT64
 *       committed_leader_epoch => INT32
 *       committed_metadata => COMPACT_NULLABLE_STRING
 */
const request = ({
  transactionalId,
  groupId,
  producerId,
  producerEpoch,
  generationId,
  memberId,
  groupInstanceId,
  topics,
}) =>
  flexibleRequest({
    apiKey,
    apiVersion: 3,
    apiName: 'TxnOffsetCommit',
    encodeBody: () => {
      const encoder = new Encoder()
        .writeUVarIntString(transactionalId)
        .writeUVarIntString(groupId)
        .writeInt64(producerId)
        .writeInt16(producerEpoch)
        .writeInt32(generationId)
        .writeUVarIntString(memberId)
        .writeUVarIntString(groupInstanceId == null ? null : groupInstanceId)
      writeCompactArray(encoder, topics, encodeTopic)
      return writeEmptyTaggedFields(encoder)
    },
  })

const encodeTopic = ({ topic, partitions }) => {
  const encoder = new Encoder().writeUVarIntString(topic)
  writeCompactArray(encoder, partitions, encodePartition)
  return writeEmptyTaggedFields(encoder)
}

const encodePartition = ({ partition, offset, leaderEpoch, metadata }) =>
  writeEmptyTaggedFields(
    new Encoder()
      .writeInt32(partition)
      .writeInt64(offset)
      .writeInt32(leaderEpoch == null ? -1 : leaderEpoch)
      .writeUVarIntString(metadata == null ? null : metadata)
  )

/**
 * TxnOffsetCommit Response (Version: 3) => throttle_time_ms [topics] TAG_BUFFER
 *   topics => name [partitions] TAG_BUFFER
 *     partitions => partition_index error_code TAG_BUFFER
 * preceded by the response header v1's tagged fields.
 */
const decode = async rawData => {
  const decoder = new Decoder(rawData)
  skipTaggedFields(decoder)
  const throttleTime = decoder.readInt32()
  const topics = readCompactArray(decoder, decodeTopic) || []
  skipTaggedFields(decoder)
  return { throttleTime, clientSideThrottleTime: throttleTime, topics }
}

const decodeTopic = decoder => {
  const topic = decoder.readUVarIntString()
  const partitions = readCompactArray(decoder, decodePartition) || []
  skipTaggedFields(decoder)
  return { topic, partitions }
}

const decodePartition = decoder => {
  const partition = decoder.readInt32()
  const errorCode = decoder.readInt16()
  skipTaggedFields(decoder)
  return { partition, errorCode }
}

const parse = async data => {
  for (const { partitions } of data.topics) {
    const failed = partitions.find(({ errorCode }) => failure(errorCode))
    if (failed) throw createErrorFromCode(failed.errorCode)
  }
  return data
}

module.exports = {
  versions: ['3'],
  protocol: ({ version }) => {
    if (Number(version) < 3) return null
    return params => ({ request: request(params), response: { decode, parse } })
  },
}
