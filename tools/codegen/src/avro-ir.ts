/**
 * A small intermediate form of Avro schemas: named references resolved to their
 * definitions and every named type given a structural key, so generation can
 * share one TypeScript name between identical definitions in different files.
 */

/** Avro primitive type names. */
export type PrimitiveName =
  | 'null'
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'bytes'
  | 'string';

/** A schema node. */
export type AvroNode =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName; readonly logicalType?: string }
  | { readonly kind: 'array'; readonly items: AvroNode }
  | { readonly kind: 'map'; readonly values: AvroNode; readonly logicalType?: string }
  | { readonly kind: 'union'; readonly branches: readonly AvroNode[] }
  | { readonly kind: 'named'; readonly def: NamedDef };

/** One field of a record. */
export interface FieldDef {
  readonly name: string;
  readonly doc: string | undefined;
  readonly type: AvroNode;
  /** Whether the field declares a default (which may itself be null). */
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
}

interface NamedBase {
  /** Name without namespace. */
  readonly name: string;
  readonly fullName: string;
  readonly doc: string | undefined;
  /** Structural identity: equal keys mean interchangeable definitions (docs aside). */
  readonly key: string;
  /** Version of the schema file the definition occurs in. */
  readonly fileVersion: number;
  /** Whether it is the file's top-level record. */
  readonly topLevel: boolean;
}

/** A named Avro type: record, enum or fixed. */
export type NamedDef =
  | (NamedBase & { readonly kind: 'record'; readonly fields: readonly FieldDef[] })
  | (NamedBase & { readonly kind: 'enum'; readonly symbols: readonly string[] })
  | (NamedBase & { readonly kind: 'fixed'; readonly size: number });

const PRIMITIVES: ReadonlySet<string> = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);

/** Thrown when a schema file is not something this generator can faithfully map. */
export class SchemaShapeError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'SchemaShapeError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural key of a node; named types contribute their own key so nesting is captured. */
function keyOf(node: AvroNode): unknown {
  switch (node.kind) {
    case 'primitive':
      return node.logicalType ? [node.name, node.logicalType] : node.name;
    case 'array':
      return { array: keyOf(node.items) };
    case 'map':
      return { map: keyOf(node.values), logicalType: node.logicalType ?? null };
    case 'union':
      return { union: node.branches.map(keyOf) };
    case 'named':
      return { named: node.def.key };
  }
}

/**
 * Parses one .avsc document into {@link AvroNode}s. `defs` receives every named
 * definition in dependency order (children before parents), which is the order
 * their zod schemas must be declared in.
 */
export function parseSchemaFile(
  file: string,
  document: unknown,
  fileVersion: number,
): { root: NamedDef; defs: NamedDef[] } {
  const byFullName = new Map<string, NamedDef>();
  const defs: NamedDef[] = [];

  const fullNameOf = (name: string, namespace: string | undefined): string =>
    name.includes('.') || !namespace ? name : `${namespace}.${name}`;

  const walk = (schema: unknown, namespace: string | undefined, topLevel: boolean): AvroNode => {
    if (typeof schema === 'string') {
      if (PRIMITIVES.has(schema)) return { kind: 'primitive', name: schema as PrimitiveName };
      const def = byFullName.get(fullNameOf(schema, namespace)) ?? byFullName.get(schema);
      if (!def) throw new SchemaShapeError(file, `unknown type reference '${schema}'`);
      return { kind: 'named', def };
    }
    if (Array.isArray(schema)) {
      return { kind: 'union', branches: schema.map((branch) => walk(branch, namespace, false)) };
    }
    if (!isObject(schema))
      throw new SchemaShapeError(file, `not a schema: ${JSON.stringify(schema)}`);
    const type = schema['type'];
    const logicalType =
      typeof schema['logicalType'] === 'string' ? schema['logicalType'] : undefined;
    if (typeof type === 'string' && PRIMITIVES.has(type)) {
      return logicalType
        ? { kind: 'primitive', name: type as PrimitiveName, logicalType }
        : { kind: 'primitive', name: type as PrimitiveName };
    }
    switch (type) {
      case 'array':
        return { kind: 'array', items: walk(schema['items'], namespace, false) };
      case 'map': {
        const values = walk(schema['values'], namespace, false);
        return logicalType ? { kind: 'map', values, logicalType } : { kind: 'map', values };
      }
      case 'record':
      case 'error':
      case 'enum':
      case 'fixed':
        return { kind: 'named', def: define(schema, type, namespace, topLevel) };
      default:
        // A nested type object such as {"type": "SomeNamedType"}.
        if (typeof type === 'string' || Array.isArray(type) || isObject(type)) {
          return walk(type, namespace, topLevel);
        }
        throw new SchemaShapeError(file, `unsupported schema ${JSON.stringify(schema)}`);
    }
  };

  const define = (
    schema: Record<string, unknown>,
    type: string,
    outerNamespace: string | undefined,
    topLevel: boolean,
  ): NamedDef => {
    const name = schema['name'];
    if (typeof name !== 'string') throw new SchemaShapeError(file, `${type} without a name`);
    const namespace =
      typeof schema['namespace'] === 'string' ? schema['namespace'] : outerNamespace;
    const fullName = fullNameOf(name, namespace);
    const ownNamespace = fullName.includes('.')
      ? fullName.slice(0, fullName.lastIndexOf('.'))
      : undefined;
    const shortName = fullName.slice(fullName.lastIndexOf('.') + 1);
    if (byFullName.has(fullName)) throw new SchemaShapeError(file, `${fullName} defined twice`);
    const doc = typeof schema['doc'] === 'string' ? schema['doc'] : undefined;
    const base = { name: shortName, fullName, doc, fileVersion, topLevel };
    let def: NamedDef;
    if (type === 'enum') {
      const symbols = schema['symbols'];
      if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string')) {
        throw new SchemaShapeError(file, `enum ${fullName} needs string symbols`);
      }
      def = { ...base, kind: 'enum', symbols, key: JSON.stringify({ enum: fullName, symbols }) };
    } else if (type === 'fixed') {
      const size = schema['size'];
      if (typeof size !== 'number')
        throw new SchemaShapeError(file, `fixed ${fullName} needs a size`);
      def = { ...base, kind: 'fixed', size, key: JSON.stringify({ fixed: fullName, size }) };
    } else {
      const rawFields = schema['fields'];
      if (!Array.isArray(rawFields))
        throw new SchemaShapeError(file, `record ${fullName} needs fields`);
      const fields = rawFields.map((raw): FieldDef => {
        if (!isObject(raw) || typeof raw['name'] !== 'string') {
          throw new SchemaShapeError(file, `record ${fullName} has a field without a name`);
        }
        if (typeof raw['doc'] !== 'string' || raw['doc'].trim() === '') {
          // House rule: the schema is the documentation upstream teams read.
          throw new SchemaShapeError(file, `field ${fullName}.${raw['name']} has no doc`);
        }
        return {
          name: raw['name'],
          doc: raw['doc'],
          type: walk(raw['type'], ownNamespace, false),
          hasDefault: 'default' in raw,
          defaultValue: raw['default'],
        };
      });
      const key = JSON.stringify({
        record: fullName,
        fields: fields.map((f) => [f.name, keyOf(f.type), f.hasDefault ? f.defaultValue : '~none']),
      });
      def = { ...base, kind: 'record', fields, key };
    }
    byFullName.set(fullName, def);
    defs.push(def);
    return def;
  };

  const root = walk(document, undefined, true);
  if (root.kind !== 'named' || root.def.kind !== 'record') {
    throw new SchemaShapeError(file, 'top-level schema must be a record');
  }
  return { root: root.def, defs };
}
