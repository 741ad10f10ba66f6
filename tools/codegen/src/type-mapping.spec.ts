import { describe, expect, it } from 'vitest';
import { parseSchemaFile, type AvroNode, type NamedDef } from './avro-ir';
import { docComment, mapType, tsLiteral, zodDefault } from './type-mapping';

const nameOf = (def: NamedDef): string => `${def.name}V${def.fileVersion}`;

/** Maps the type of field `t` in a one-field record. */
function mapField(type: unknown): { ts: string; zod: string } {
  const { root } = parseSchemaFile(
    'test.avsc',
    { type: 'record', name: 'T', namespace: 'org.test', fields: [{ name: 't', type, doc: 'd' }] },
    1,
  );
  if (root.kind !== 'record') throw new Error('not a record');
  return mapType((root.fields[0] as { type: AvroNode }).type, nameOf);
}

describe('mapType', () => {
  it.each([
    ['null', 'null', 'z.null()'],
    ['boolean', 'boolean', 'z.boolean()'],
    ['int', 'number', 'z.int32()'],
    ['long', 'number', 'z.int()'],
    ['float', 'number', 'z.number()'],
    ['double', 'number', 'z.number()'],
    ['string', 'string', 'z.string()'],
    ['bytes', 'Buffer', 'z.instanceof(Buffer)'],
  ])('maps %s', (avro, ts, zod) => {
    expect(mapField(avro)).toEqual({ ts, zod });
  });

  it('maps timestamp-millis to epoch milliseconds', () => {
    expect(mapField({ type: 'long', logicalType: 'timestamp-millis' })).toEqual({
      ts: 'number',
      zod: 'z.int()',
    });
  });

  it('falls back to the underlying type for unknown logical types, as Avro readers must', () => {
    expect(mapField({ type: 'string', logicalType: 'uuid' })).toEqual({
      ts: 'string',
      zod: 'z.string()',
    });
  });

  it('maps nullable unions either way round', () => {
    const expected = { ts: 'string | null', zod: 'z.string().nullable()' };
    expect(mapField(['null', 'string'])).toEqual(expected);
    expect(mapField(['string', 'null'])).toEqual(expected);
  });

  it('maps arrays, parenthesising union items', () => {
    expect(mapField({ type: 'array', items: 'string' })).toEqual({
      ts: 'string[]',
      zod: 'z.array(z.string())',
    });
    expect(mapField({ type: 'array', items: ['null', 'long'] }).ts).toBe('Array<number | null>');
  });

  it('maps maps to records keyed by string', () => {
    expect(mapField({ type: 'map', values: 'long' })).toEqual({
      ts: 'Record<string, number>',
      zod: 'z.record(z.string(), z.int())',
    });
  });

  it('maps the grantstream-metadata map to plain metadata values', () => {
    expect(
      mapField({
        type: 'map',
        logicalType: 'grantstream-metadata',
        values: ['null', 'boolean', 'long', 'double', 'string', { type: 'array', items: 'string' }],
      }),
    ).toEqual({ ts: 'Record<string, MetadataValue>', zod: 'MetadataMapSchema' });
  });

  it('maps enums and records to their generated names', () => {
    expect(mapField({ type: 'enum', name: 'Color', symbols: ['RED'] })).toEqual({
      ts: 'ColorV1',
      zod: 'ColorV1Schema',
    });
    expect(
      mapField({ type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'int', doc: 'x' }] }),
    ).toEqual({ ts: 'InnerV1', zod: 'InnerV1Schema' });
  });

  it('refuses unions avsc would wrap', () => {
    expect(() => mapField(['null', 'long', 'double'])).toThrow(/behind a logical type/);
  });
});

describe('parseSchemaFile', () => {
  it('resolves named references within the namespace and records dependencies first', () => {
    const { defs } = parseSchemaFile(
      'x.avsc',
      {
        type: 'record',
        name: 'Outer',
        namespace: 'org.test',
        fields: [
          { name: 'a', doc: 'a', type: { type: 'enum', name: 'E', symbols: ['X'] } },
          { name: 'b', doc: 'b', type: ['null', 'E'] },
        ],
      },
      2,
    );
    expect(defs.map((d) => [d.fullName, d.topLevel])).toEqual([
      ['org.test.E', false],
      ['org.test.Outer', true],
    ]);
  });

  it('gives identical definitions the same key regardless of docs', () => {
    const schema = (doc: string): unknown => ({
      type: 'record',
      name: 'R',
      namespace: 'org.test',
      doc,
      fields: [{ name: 'a', type: 'string', doc }],
    });
    expect(parseSchemaFile('a', schema('one'), 1).root.key).toBe(
      parseSchemaFile('b', schema('two'), 1).root.key,
    );
  });

  it('refuses unknown references', () => {
    expect(() =>
      parseSchemaFile(
        'x.avsc',
        { type: 'record', name: 'R', fields: [{ name: 'a', type: 'Missing', doc: 'a' }] },
        1,
      ),
    ).toThrow(/unknown type reference 'Missing'/);
  });
});

describe('literals and comments', () => {
  it('prints short literals on one line and long ones one entry per line', () => {
    expect(tsLiteral({ a: ['null', 'string'], b: "it's", c: 'say "hi"' })).toBe(
      `{ a: ['null', 'string'], b: "it's", c: 'say "hi"' }`,
    );
    const long = tsLiteral({ key: 'x'.repeat(90), other: 1 });
    expect(long).toBe(`{\n  key: '${'x'.repeat(90)}',\n  other: 1,\n}`);
    // Under a key of 5+ columns a too-long string moves to its own line, as Prettier does.
    expect(tsLiteral({ description: 'y'.repeat(95) })).toBe(
      `{\n  description:\n    '${'y'.repeat(95)}',\n}`,
    );
  });

  it('gives mutable defaults a factory', () => {
    expect(zodDefault(null)).toBe('.default(null)');
    expect(zodDefault([])).toBe('.default(() => [])');
    expect(zodDefault({})).toBe('.default(() => ({}))');
  });

  it('wraps long doc comments and neutralises comment terminators', () => {
    expect(docComment('short */ doc')).toBe('/** short *\\/ doc */\n');
    const wrapped = docComment('word '.repeat(40), 2);
    expect(wrapped.split('\n').every((l) => l.length <= 100)).toBe(true);
    expect(wrapped.startsWith('  /**\n')).toBe(true);
  });
});
