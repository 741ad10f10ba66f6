import type { schema } from 'avsc';
import type { z } from 'zod';

/** One version of one Avro record in schemas/, with its generated counterparts. */
export interface RecordVersion {
  /** Record name without namespace, e.g. `GrantSubmission`. */
  readonly record: string;
  /** Avro full name, e.g. `org.grantstream.ingest.GrantSubmission`. */
  readonly fullName: string;
  /** Schema version, the `N` of `<Record>.v<N>.avsc`. */
  readonly version: number;
  /** Path relative to schemas/, e.g. `ingest/GrantSubmission.v1.avsc`. */
  readonly file: string;
  /** The parsed .avsc document; pass it to `avroTypeFor`. */
  readonly avro: schema.RecordType;
  /** zod schema of the decoded record (defaults applied, undeclared fields refused). */
  readonly zod: z.ZodType;
}

/** A topic as declared in schemas/topics.yaml. */
export interface TopicDeclaration {
  /** Key of the topic in `TOPICS`, e.g. `INGEST`. */
  readonly constant: string;
  /** Topic name, e.g. `grants.ingest.v1`. */
  readonly name: string;
  /** What flows on the topic. */
  readonly description: string;
  /** Stage that produces to the topic (`upstream` for ingest, `every` for audit and DLQ). */
  readonly ownerStage: string;
  /** What the message key is. */
  readonly key: string;
  /** Partition count; the unit of consumer-group concurrency. */
  readonly partitions: number;
  /** Production replication factor; the local stack caps it to its broker count. */
  readonly replicationFactor: number;
  /** Delay a retry tier stands for, in milliseconds; absent for non-retry topics. */
  readonly retryDelayMs?: number;
  /** Topic-level Kafka configuration, values as Kafka expects them (text). */
  readonly config: Readonly<Record<string, string>>;
  /** The value schema registered under `subject`; null for topics carrying foreign bytes (the DLQ). */
  readonly valueSchema: (RecordVersion & { readonly subject: string }) | null;
}

/** A header the dead-letter contract (schemas/dlq/dead-letter-headers.v1.json) defines. */
export interface DeadLetterHeaderDeclaration {
  /** Key of the header in `DLQ_HEADERS`. */
  readonly constant: string;
  /** Kafka header name. */
  readonly name: string;
  /** Logical type of the UTF-8 text value (string, int32, int64, error-category, timestamp-iso8601). */
  readonly type: string;
  /** Whether every dead letter carries it. */
  readonly required: boolean;
  /** Meaning of the header. */
  readonly description: string;
}
