import type { Schema } from 'avsc';
import {
  AVRO_LOGICAL_TYPES,
  INGEST_TOPIC_PATTERN,
  RECORD_VERSIONS,
  TOPIC_DECLARATIONS,
} from '@grantstream/contracts';

/**
 * The schemas our code was built with: what a writer encodes with, never
 * whatever version happens to be latest under a subject (another producer may
 * have registered its own compatible copy there).
 */
export interface WriterSchemas {
  /** Our schema for a topic's values, when the code declares the topic. */
  forTopic(topic: string): Schema | undefined;
  /**
   * Every schema of our contracts, every version. A topic the code does not
   * declare is written with the one of these named like the record its
   * subject carries; a registered schema with the same wire shape as one of
   * these is decoded with it, so its custom logical types apply.
   */
  readonly all: readonly Schema[];
}

/** The writer schemas generated from schemas/: each declared topic's value schema, every record version. */
export const DECLARED_WRITER_SCHEMAS: WriterSchemas = {
  forTopic(topic) {
    const declared = TOPIC_DECLARATIONS.find((d) => d.name === topic);
    if (declared) return declared.valueSchema?.avro;
    // Upstream teams add ingest topics at run time; they all carry the ingest contract.
    if (INGEST_TOPIC_PATTERN.test(topic)) {
      return TOPIC_DECLARATIONS.find((d) => d.constant === 'INGEST')?.valueSchema?.avro;
    }
    return undefined;
  },
  all: RECORD_VERSIONS.map((v) => v.avro),
};

/** Names of the custom logical types our schemas use (standard ones such as timestamp-millis excluded). */
export const CUSTOM_LOGICAL_TYPES: ReadonlySet<string> = new Set(Object.keys(AVRO_LOGICAL_TYPES));

/**
 * A schema as it is registered and compared: without our custom logical types.
 * They only change how our code sees a value (a metadata map of plain values
 * instead of wrapped union branches), never the bytes, so they are no part of
 * the public contract: a producer copying the registered schema owes us nothing
 * of them. Standard logical types stay.
 */
export function wireSchemaOf(schema: Schema, custom: ReadonlySet<string>): Schema {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'logicalType' && typeof value === 'string' && custom.has(value)) continue;
      out[key] = strip(value);
    }
    return out;
  };
  return strip(schema) as Schema;
}
