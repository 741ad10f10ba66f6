import * as avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroTypeFor, MetadataMapType, type MetadataValue } from './metadata';

const union = ['null', 'boolean', 'long', 'double', 'string', { type: 'array', items: 'string' }];
const logicalMap = {
  type: 'map',
  logicalType: 'grantstream-metadata',
  values: union,
} as avro.Schema;
const plainMap = { type: 'map', values: union } as avro.Schema;

const sample: Record<string, MetadataValue> = {
  nothing: null,
  flag: true,
  count: 42,
  negative: -7,
  rate: 0.525,
  huge: 1e20,
  title: 'Watershed sensing',
  people: ['Dana Ortiz', 'Lee Whitfield'],
  none: [],
};

describe('MetadataMapType', () => {
  const type = avroTypeFor(logicalMap);

  it('is the logical type avsc builds for the metadata map', () => {
    expect(type).toBeInstanceOf(MetadataMapType);
  });

  it('round-trips plain values of every kind through Avro binary', () => {
    expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
  });

  it('writes integers as long and other numbers as double on the wire', () => {
    // A reader without our logical type sees the plain Avro union, wrapped.
    const foreign = avro.Type.forSchema(plainMap);
    const wire = foreign.fromBuffer(type.toBuffer({ count: 42, rate: 0.5, huge: 1e20 })) as Record<
      string,
      unknown
    >;
    expect(JSON.parse(JSON.stringify(wire))).toEqual({
      count: { long: 42 },
      rate: { double: 0.5 },
      huge: { double: 1e20 },
    });
  });

  it('reads data written by a plain Avro writer of the same union', () => {
    const foreign = avro.Type.forSchema(plainMap);
    const bytes = foreign.toBuffer({
      n: { long: 5 },
      s: { string: 'x' },
      a: { array: ['y'] },
      z: null,
    });
    const resolver = type.createResolver(foreign);
    expect(type.fromBuffer(bytes, resolver)).toEqual({ n: 5, s: 'x', a: ['y'], z: null });
  });

  it('reads data written with the logical type through a resolver', () => {
    const writer = avroTypeFor(logicalMap);
    const resolver = type.createResolver(writer);
    expect(type.fromBuffer(writer.toBuffer(sample), resolver)).toEqual(sample);
  });

  it.each([
    ['an object value', { nested: { a: 1 } }],
    ['an array with a number', { list: ['a', 1] }],
    ['undefined', { missing: undefined }],
    ['a non-map', ['a']],
  ])('refuses %s', (_label, value) => {
    expect(type.isValid(value)).toBe(false);
    expect(() => type.toBuffer(value)).toThrow();
  });
});
