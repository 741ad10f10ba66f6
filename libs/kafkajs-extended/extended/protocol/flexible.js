'use strict'

// Flexible versions (KIP-482) of the requests added in extended/: request
// header v2 and response header v1 are v1/v0 plus a tagged-field buffer, and
// bodies use compact strings/arrays (unsigned varint length + 1) with a
// tagged-field buffer closing every structure. kafkajs 2.2.4 speaks no
// flexible version, so its connection writes header v1 and reads only the
// correlation id: the header's tagged fields are written and skipped here.

const Encoder = require('../../src/protocol/encoder')

/** An empty tagged-field buffer: zero fields. */
const writeEmptyTaggedFields = encoder => encoder.writeUVarInt(0)

/**
 * Skips a tagged-field buffer. Each field is tag (uvarint), size (uvarint,
 * the plain size: not size + 1 as compact bytes are), then size bytes.
 */
const skipTaggedFields = decoder => {
  const count = decoder.readUVarInt()
  for (let i = 0; i < count; i++) {
    decoder.readUVarInt()
    const size = decoder.readUVarInt()
    decoder.offset += size
  }
}

/** A compact array of INT32. */
const writeCompactInt32Array = (encoder, values) => {
  encoder.writeUVarInt(values.length + 1)
  for (const value of values) encoder.writeInt32(value)
  return encoder
}

/** A compact array of structures, each encoded by `encodeItem` into its own Encoder. */
const writeCompactArray = (encoder, items, encodeItem) => {
  if (items === null) return encoder.writeUVarInt(0)
  encoder.writeUVarInt(items.length + 1)
  for (const item of items) encoder.writeEncoder(encodeItem(item))
  return encoder
}

/** A compact array read with `readItem`; null for a null array. */
const readCompactArray = (decoder, readItem) => {
  const length = decoder.readUVarInt()
  if (length === 0) return null
  const items = new Array(length - 1)
  for (let i = 0; i < length - 1; i++) items[i] = readItem(decoder)
  return items
}

/**
 * A request in a flexible version: the body is preceded by the request
 * header's tagged fields (header v2 = header v1 + tagged fields; kafkajs
 * writes header v1 and then the body, so the tagged fields lead the body).
 */
const flexibleRequest = ({ apiKey, apiVersion, apiName, encodeBody }) => ({
  apiKey,
  apiVersion,
  apiName,
  encode: async () => {
    const encoder = new Encoder()
    writeEmptyTaggedFields(encoder)
    return encoder.writeEncoder(encodeBody())
  },
})

module.exports = {
  writeEmptyTaggedFields,
  skipTaggedFields,
  writeCompactInt32Array,
  writeCompactArray,
  readCompactArray,
  flexibleRequest,
}
