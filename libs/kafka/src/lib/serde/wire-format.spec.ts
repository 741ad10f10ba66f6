import { describe, expect, it } from 'vitest';
import { WireFormatError } from '@grantstream/errors';
import { WIRE_HEADER_BYTES, parseWire, writeWireHeader } from './wire-format';

describe('Confluent wire format', () => {
  it('frames and splits a body with its schema id', () => {
    const framed = Buffer.concat([Buffer.alloc(WIRE_HEADER_BYTES), Buffer.from('avro')]);
    writeWireHeader(framed, 0x01020304);
    expect([...framed.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect(parseWire(framed)).toEqual({ schemaId: 0x01020304, body: Buffer.from('avro') });
  });

  it.each([
    ['null value', null, /no value/],
    ['short message', Buffer.from([0, 1]), /shorter than/],
    ['wrong magic byte', Buffer.from([1, 0, 0, 0, 1, 2]), /wrong magic byte 1/],
  ])('refuses a %s with a typed error', (_name, value, message) => {
    expect(() => parseWire(value)).toThrow(WireFormatError);
    expect(() => parseWire(value)).toThrow(message);
  });
});
