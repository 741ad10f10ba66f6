'use strict'

// OffsetFetch v7 (KIP-447): require_stable asks the group coordinator to
// answer UNSTABLE_OFFSET_COMMIT for a partition while a transaction that
// holds offsets for it is still open, instead of the offset from before that
// transaction. After a commit whose outcome is unknown, only a stable read
// tells whether the commit landed.

const Encoder = require('../../src/protocol/encoder')
const Decoder = require('../../src/protocol/decoder')
const { failure, createErrorFromCode } = require('../../src/protocol/error')
const { OffsetFetch: apiKey } = require('../../src/protocol/requests/apiKeys')
const {
  flexibleRequest,
  skipTaggedFields,
  writeCompactArray,
  writeCompactInt32Array,
  writeEmptyTaggedFields,
  readCompactArray,
} = require('./flexible')

/**
 * OffsetFetch Request (Version: 7) => group_id [topics] require_stable TAG_BUFFER
 *   group_id => COMPACT_STRING
 *   topics => name [partition_indexes] TAG_BUFFER (COMPACT_NULLABLE_ARRAY: null = every partition)
 *     name => COMPACT_STRING
 *     partition_indexes => INT32
 *   require_stable => BOOLEAN
 */
const request = ({ groupId, topics, requireStable }) =>
  flexibleRequest({
    apiKey,
    apiVersion: 7,
    apiName: 'OffsetFetch',
    encodeBody: () => {
      const encoder = new Encoder().writeUVarIntString(groupId)
      writeCompactArray(encoder, topics == null ? null : topics, encodeTopic)
      encoder.writeBoolean(requireStable === true)
      return writeEmptyTaggedFields(encoder)
    },
  })

const encodeTopic = ({ topic, partitions }) => {
  const encoder = new Encoder().writeUVarIntString(topic)
  writeCompactInt32Array(
    encoder,
    partitions.map(p => (typeof p === 'number' ? p : p.partition))
  )
  return writeEmptyTaggedFields(encoder)
}

/**
 * OffsetFetch Response (Version: 7) => throttle_time_ms [topics] error_code TAG_BUFFER
 *   topics => name [partitions] TAG_BUFFER
 *     partitions => partition_index committed_offset committed_leader_epoch metadata error_code TAG_BUFFER
 * preceded by the response header v1's tagged fields. Offsets are strings, as
 * kafkajs returns them.
 */
const decode = async rawData => {
  const decoder = new Decoder(rawData)
  skipTaggedFields(decoder)
  const throttleTime = decoder.readInt32()
  const responses = readCompactArray(decoder, decodeTopic) || []
  const errorCode = decoder.readInt16()
  skipTaggedFields(decoder)
  return { throttleTime, clientSideThrottleTime: throttleTime, responses, errorCode }
}

const decodeTopic = decoder => {
  const topic = decoder.readUVarIntString()
  const partitions = readCompactArray(decoder, decodePartition) || []
  skipTaggedFields(decoder)
  return { topic, partitions }
}

const decodePartition = decoder => {
  const partition = decoder.readInt32()
  const offset = decoder.readInt64().toString()
  const leaderEpoch = decoder.readInt32()
  const metadata = decoder.readUVarIntString()
  const errorCode = decoder.readInt16()
  skipTaggedFields(decoder)
  return { partition, offset, leaderEpoch, metadata, errorCode }
}

/** Throws the group-level error, else the first partition error (UNSTABLE_OFFSET_COMMIT is retriable). */
const parse = async data => {
  if (failure(data.errorCode)) throw createErrorFromCode(data.errorCode)
  for (const { partitions } of data.responses) {
    const failed = partitions.find(({ errorCode }) => failure(errorCode))
    if (failed) throw createErrorFromCode(failed.errorCode)
  }
  return data
}

module.exports = {
  versions: ['7'],
  protocol: ({ version }) => {
    if (Number(version) < 7) return null
    return params => ({ request: request(params), response: { decode, parse } })
  },
}
