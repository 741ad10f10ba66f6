import type { AvroNode, NamedDef } from './avro-ir';

/** The TypeScript type and zod expression one Avro schema node maps to. */
export interface MappedType {
  readonly ts: string;
  readonly zod: string;
}

/** Resolves a named definition to the TypeScript name chosen for it. */
export type NameOf = (def: NamedDef) => string;

/**
 * Logical types with their own plain-JS shape. Unknown logical types fall back
 * to their underlying type, as the Avro spec requires of readers.
 */
const LOGICAL: Readonly<Record<string, MappedType>> = {
  // avsc decodes timestamp-millis as a plain number unless told otherwise; we
  // keep epoch milliseconds so values survive JSON and hashing unchanged.
  'timestamp-millis': { ts: 'number', zod: 'z.int()' },
  'grantstream-metadata': { ts: 'Record<string, MetadataValue>', zod: 'MetadataMapSchema' },
};

const PRIMITIVE: Readonly<Record<string, MappedType>> = {
  null: { ts: 'null', zod: 'z.null()' },
  boolean: { ts: 'boolean', zod: 'z.boolean()' },
  int: { ts: 'number', zod: 'z.int32()' },
  // avsc reads long as a JS number and refuses values beyond 2^53; z.int() has the same bounds.
  long: { ts: 'number', zod: 'z.int()' },
  float: { ts: 'number', zod: 'z.number()' },
  double: { ts: 'number', zod: 'z.number()' },
  string: { ts: 'string', zod: 'z.string()' },
  bytes: { ts: 'Buffer', zod: 'z.instanceof(Buffer)' },
};

/**
 * Maps an Avro node to the TypeScript and zod forms of the value avsc decodes.
 * Only unions of null and one other type are accepted: avsc wraps ambiguous
 * unions, and a wider union belongs behind a logical type like the metadata map.
 */
export function mapType(node: AvroNode, nameOf: NameOf): MappedType {
  switch (node.kind) {
    case 'primitive': {
      const logical = node.logicalType !== undefined ? LOGICAL[node.logicalType] : undefined;
      return logical ?? (PRIMITIVE[node.name] as MappedType);
    }
    case 'array': {
      const items = mapType(node.items, nameOf);
      const ts = /[|&]/.test(items.ts) ? `Array<${items.ts}>` : `${items.ts}[]`;
      return { ts, zod: `z.array(${items.zod})` };
    }
    case 'map': {
      if (node.logicalType !== undefined && LOGICAL[node.logicalType]) {
        return LOGICAL[node.logicalType] as MappedType;
      }
      const values = mapType(node.values, nameOf);
      return { ts: `Record<string, ${values.ts}>`, zod: `z.record(z.string(), ${values.zod})` };
    }
    case 'named': {
      if (node.def.kind === 'fixed') return PRIMITIVE['bytes'] as MappedType;
      const name = nameOf(node.def);
      return { ts: name, zod: `${name}Schema` };
    }
    case 'union': {
      const nonNull = node.branches.filter((b) => !(b.kind === 'primitive' && b.name === 'null'));
      const hasNull = nonNull.length < node.branches.length;
      const [only] = nonNull;
      if (nonNull.length !== 1 || only === undefined) {
        throw new Error(
          `unsupported union of ${node.branches.length} branches: only [null, T] unions map to plain values; put wider unions behind a logical type`,
        );
      }
      const inner = mapType(only, nameOf);
      return hasNull ? { ts: `${inner.ts} | null`, zod: `${inner.zod}.nullable()` } : inner;
    }
  }
}

/**
 * The zod modifier for a field default. Avro readers fill a missing field from
 * its default, so the zod schema does too; objects and arrays get a factory so
 * decoded records never share one mutable default.
 */
export function zodDefault(value: unknown): string {
  if (Array.isArray(value)) return `.default(() => ${tsLiteral(value)})`;
  if (value !== null && typeof value === 'object') {
    return `.default(() => (${tsLiteral(value)}))`;
  }
  return `.default(${tsLiteral(value)})`;
}

/**
 * A TypeScript string literal, single-quoted unless the text holds more single
 * than double quotes: the quote Prettier would pick, so its output is stable.
 */
export function quote(text: string): string {
  const singles = (text.match(/'/g) ?? []).length;
  const doubles = (text.match(/"/g) ?? []).length;
  if (singles > doubles) return JSON.stringify(text);
  return `'${text
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')}'`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key, quoted only when it has to be. */
export function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : quote(key);
}

/**
 * A TypeScript literal for a JSON value, laid out the way Prettier would at
 * print width 100: on one line when it fits, else one entry per line with
 * trailing commas. `used` is how much of the first line is already taken.
 */
export function tsLiteral(value: unknown, indent = 0, width = 100, used = indent): string {
  const inline = inlineLiteral(value);
  // +1 for the comma or semicolon that follows the literal.
  if (used + inline.length + 1 <= width || value === null || typeof value !== 'object') {
    return inline;
  }
  const pad = ' '.repeat(indent + 2);
  const close = ' '.repeat(indent);
  if (Array.isArray(value)) {
    const items = value.map((item) => `${pad}${tsLiteral(item, indent + 2, width)},`);
    return `[\n${items.join('\n')}\n${close}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => {
    if (typeof item === 'string') return stringProperty(indent + 2, key, item, width);
    const prefix = `${pad}${propertyKey(key)}: `;
    return `${prefix}${tsLiteral(item, indent + 2, width, prefix.length)},`;
  });
  return `{\n${entries.join('\n')}\n${close}}`;
}

/**
 * `key: 'text',` at `indent`. Like Prettier, a string too long for the line
 * moves below a key of five or more columns; shorter keys keep it alongside.
 */
export function stringProperty(indent: number, key: string, text: string, width = 100): string {
  const pad = ' '.repeat(indent);
  const printedKey = propertyKey(key);
  const value = quote(text);
  if (printedKey.length >= 5 && pad.length + printedKey.length + 2 + value.length + 1 > width) {
    return `${pad}${printedKey}:\n${pad}  ${value},`;
  }
  return `${pad}${printedKey}: ${value},`;
}

function inlineLiteral(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(inlineLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, v]) => `${propertyKey(k)}: ${inlineLiteral(v)}`).join(', ')} }`;
  }
  throw new Error(`not a JSON value: ${typeof value}`);
}

/** A JSDoc block for `text`, wrapped to fit the print width at `indent`. */
export function docComment(text: string | undefined, indent = 0, width = 100): string {
  const pad = ' '.repeat(indent);
  const clean = (text ?? '').replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim();
  if (clean === '') return '';
  const single = `${pad}/** ${clean} */`;
  if (single.length <= width) return `${single}\n`;
  const lines: string[] = [];
  let line = '';
  for (const word of clean.split(' ')) {
    if (line !== '' && pad.length + 3 + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return `${pad}/**\n${lines.map((l) => `${pad} * ${l}`).join('\n')}\n${pad} */\n`;
}
