import * as avro from 'avsc';
import { z } from 'zod';

/**
 * One value of a GrantSubmission's `metadata` map, as application code sees it.
 * The Avro union behind it is null | boolean | long | double | string | array<string>.
 */
export type MetadataValue = null | boolean | number | string | string[];

/** zod twin of {@link MetadataValue}; generated record schemas use it for `grantstream-metadata` maps. */
export const MetadataValueSchema: z.ZodType<MetadataValue> = z.union([
  z.null(),
  z.boolean(),
  z.number(),
  z.string(),
  z.array(z.string()),
]);

/** zod schema of a whole `grantstream-metadata` map. */
export const MetadataMapSchema = z.record(z.string(), MetadataValueSchema);

/** The Avro logical type name carried by the metadata map schema. */
export const METADATA_LOGICAL_TYPE = 'grantstream-metadata';

type WrappedBranch = Record<string, unknown>;

function isPlainMetadataValue(value: unknown): value is MetadataValue {
  if (value === null) return true;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return true;
    case 'number':
      return true;
    case 'object':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    default:
      return false;
  }
}

/**
 * Turns a plain value into the branch avsc's wrapped union expects. Integers
 * that JS can hold exactly go to `long` so counts and amounts in minor units
 * stay integral for Java and Python readers; everything else numeric is `double`.
 */
function wrap(value: MetadataValue): WrappedBranch | null {
  if (value === null) return null;
  if (typeof value === 'boolean') return { boolean: value };
  if (typeof value === 'string') return { string: value };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { long: value } : { double: value };
  }
  return { array: value };
}

/**
 * Turns a wrapped branch (`{ long: 5 }`) back into its plain value. Plain values
 * pass through, so the same function serves a writer schema whose union avsc
 * could leave unwrapped (an older, narrower union) and a wrapped one.
 */
function unwrap(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  return (value as WrappedBranch)[keys[0] as string];
}

/**
 * avsc logical type for `{"type": "map", "logicalType": "grantstream-metadata"}`.
 *
 * The metadata union has two numeric branches (long and double), so avsc cannot
 * pick a branch from a JS number and would make every caller read and write
 * wrapped values such as `{ long: 5 }`. This type keeps the wire format plain
 * Avro while our code reads and writes `Record<string, MetadataValue>`. It is
 * ours, not the public contract's: the serde strips it from every schema it
 * registers or looks up, so other producers never need it, and applies it on
 * our side to any registered schema of the same wire shape.
 */
export class MetadataMapType extends avro.types.LogicalType {
  /** Decoded wrapped map -> plain map. */
  protected override _fromValue(val: unknown): Record<string, MetadataValue> {
    const out: Record<string, MetadataValue> = {};
    for (const [key, branch] of Object.entries(val as Record<string, unknown>)) {
      out[key] = unwrap(branch) as MetadataValue;
    }
    return out;
  }

  /**
   * Plain map -> wrapped map. Returns undefined for anything that is not a map of
   * plain metadata values, which avsc's `isValid` reports as invalid and its
   * encoder refuses.
   */
  protected override _toValue(val: unknown): Record<string, WrappedBranch | null> | undefined {
    if (val === null || typeof val !== 'object' || Array.isArray(val)) return undefined;
    const out: Record<string, WrappedBranch | null> = {};
    for (const [key, value] of Object.entries(val as Record<string, unknown>)) {
      if (!isPlainMetadataValue(value)) return undefined;
      out[key] = wrap(value);
    }
    return out;
  }

  /**
   * Schema resolution: reading data written with another version of the map.
   * A writer with the same logical type already yields plain values; a writer
   * with a plain Avro map yields (possibly wrapped) union values to unwrap.
   */
  protected override _resolve(type: avro.Type): ((val: unknown) => unknown) | undefined {
    if (type instanceof MetadataMapType) {
      return (val) => val;
    }
    if (avro.Type.isType(type, 'map')) {
      // Throws for a writer whose values the underlying union cannot read.
      this.underlyingType.createResolver(type);
      return (val) => this._fromValue(val);
    }
    return undefined;
  }
}

/**
 * Every custom avsc logical type our schemas use, keyed by logicalType name;
 * their names are what the serde strips from registered schemas.
 */
export const AVRO_LOGICAL_TYPES: Readonly<Record<string, typeof MetadataMapType>> = {
  [METADATA_LOGICAL_TYPE]: MetadataMapType,
};

/**
 * Parses an Avro schema with our logical types registered. Every avsc type in
 * the pipeline must come from here, or metadata maps decode as wrapped unions.
 */
export function avroTypeFor(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, {
    logicalTypes: { ...AVRO_LOGICAL_TYPES },
    // Decoded records then carry no enumerable helper methods (clone, toBuffer, ...),
    // so the generated strict zod schemas accept them as they are.
    omitRecordMethods: true,
  });
}
