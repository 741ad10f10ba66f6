import { WireFormatError } from '@grantstream/errors';

/** Confluent wire format: magic byte 0, then the schema id as a big-endian uint32, then the Avro body. */
export const MAGIC_BYTE = 0;
/** Bytes before the Avro body. */
export const WIRE_HEADER_BYTES = 5;

/** A message split into its schema id and Avro body. */
export interface WireMessage {
  schemaId: number;
  body: Buffer;
}

/** Writes the wire header (magic byte, schema id) into the first bytes of `target`. */
export function writeWireHeader(target: Buffer, schemaId: number): void {
  target.writeUInt8(MAGIC_BYTE, 0);
  target.writeUInt32BE(schemaId, 1);
}

/**
 * Splits a message into schema id and body.
 * @throws WireFormatError for a null value, a message shorter than the header or a wrong magic byte.
 */
export function parseWire(value: Buffer | null): WireMessage {
  if (value === null) throw new WireFormatError('message has no value (null)');
  if (value.length < WIRE_HEADER_BYTES) {
    throw new WireFormatError(
      `message of ${value.length} byte(s) is shorter than the ${WIRE_HEADER_BYTES}-byte wire header`,
      { metadata: { length: value.length } },
    );
  }
  const magic = value.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new WireFormatError(`wrong magic byte ${magic}, expected ${MAGIC_BYTE}`, {
      metadata: { magic },
    });
  }
  return { schemaId: value.readUInt32BE(1), body: value.subarray(WIRE_HEADER_BYTES) };
}
