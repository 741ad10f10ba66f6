import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ERROR_CATEGORIES } from '@grantstream/errors';
import { registryAuthSchema, saslSchema, tlsSchema } from './security';

/** A string that compiles as a JavaScript regular expression (a topic pattern, say). */
export const regexSourceSchema = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

/** Host:port of a broker; loopback by default. */
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

/** How to reach Kafka. Shared by every service and tool. */
export const kafkaConnectionSchema = z
  .strictObject({
    brokers: z.array(hostPort).min(1),
    clientId: z.string().min(1),
    connectionTimeoutMs: z.number().int().positive(),
    requestTimeoutMs: z.number().int().positive(),
    retry: z.strictObject({
      retries: z.number().int().min(0),
      initialRetryTimeMs: z.number().int().positive(),
      maxRetryTimeMs: z.number().int().positive(),
    }),
    /** TLS to the brokers (null: plaintext); see docs/operations.md. */
    tls: tlsSchema.nullable().default(null),
    /** SASL authentication (null: none); credentials come from env or files, never from here. */
    sasl: saslSchema.nullable().default(null),
  })
  .refine((k) => !(k.sasl?.mechanism === 'plain' && k.tls === null), {
    message: 'SASL PLAIN sends the password as it is: it needs tls',
    path: ['sasl'],
  });

/** How to reach the Confluent-API schema registry. */
export const registryConnectionSchema = z.strictObject({
  url: z.url(),
  requestTimeoutMs: z.number().int().positive(),
  /** How long an unknown schema id stays cached as unknown, so a poison message cannot hammer the registry. */
  negativeCacheTtlMs: z.number().int().positive(),
  /**
   * What one Avro body may cost to decode, checked on its bytes before the
   * decoder allocates anything: a record whose block counts or lengths claim
   * more is dead-lettered SCHEMA_BODY_INVALID instead of exhausting the heap.
   */
  decodeLimits: z.strictObject({
    /** Largest body after the 5-byte wire header. */
    maxBodyBytes: z.number().int().positive(),
    /** Most array items plus map entries in one record, all nesting levels together. */
    maxItems: z.number().int().positive(),
    /** Longest string or bytes value. */
    maxStringBytes: z.number().int().positive(),
    /** Deepest nesting of records, arrays, maps and unions. */
    maxDepth: z.number().int().positive(),
  }),
  /** Credentials the registry asks for (null: none). */
  auth: registryAuthSchema.nullable().default(null),
  /** Trust for an https registry whose certificate a private CA signs (null: the system's CAs). */
  tls: tlsSchema.nullable().default(null),
});

/** Logging settings. */
export const loggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

/** How topic declarations are applied to a cluster. */
export const topicsSettingsSchema = z.strictObject({
  /** Caps each declared replication factor (a single-node stack has one broker). */
  maxReplicationFactor: z.number().int().min(1),
  /** Subject compatibility set when a topic's value schema is registered. */
  compatibility: z.enum(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']),
});

/** The fragments every process needs: broker, registry, logging, topic application. */
export const platformConfigSchema = z.object({
  kafka: kafkaConnectionSchema,
  registry: registryConnectionSchema,
  logging: loggingSchema,
  topics: topicsSettingsSchema,
});

/** Parsed {@link platformConfigSchema}. */
export type PlatformConfig = z.infer<typeof platformConfigSchema>;
/** Parsed {@link kafkaConnectionSchema}. */
export type KafkaConnectionConfig = z.infer<typeof kafkaConnectionSchema>;
/** Parsed {@link registryConnectionSchema}. */
export type RegistryConnectionConfig = z.infer<typeof registryConnectionSchema>;

/**
 * A stage's memory: its budget, the up-front bounds of what it holds in flight,
 * and the guard's marks (see memoryBudgetProblems and docs/runtime.md).
 */
export const stageMemorySchema = z.strictObject({
  /** The stage's memory budget: its container's limit. */
  budgetMb: z.number().int().positive(),
  /** RSS of the idle stage (code, clients, caches): not available to messages. */
  baselineMb: z.number().int().positive(),
  /** Pause every assigned partition when RSS exceeds this... */
  pauseAboveRssMb: z.number().int().positive(),
  /** ...and resume once it falls below this. */
  resumeBelowRssMb: z.number().int().positive(),
  /** Pause too when live memory (V8 heap in use plus external buffers) exceeds this. */
  pauseAboveHeapMb: z.number().int().positive(),
  /** Longest a pause waits on in-flight work or a high heap before letting one message through at a time. */
  maxPauseMs: z.number().int().positive(),
  checkIntervalMs: z.number().int().positive(),
  /** Raw bytes (key + value) of the messages handled at once; one message is always let in. */
  maxInFlightBytes: z.number().int().min(1024),
  /**
   * Raw input bytes of one chunk (one transaction) besides maxBatchMessages: a
   * chunk's results wait in memory for its commit. A chunk holds at least one message.
   */
  maxChunkBytes: z.number().int().min(1024),
  /** Memory a handled message's results take until its chunk commits, per raw input byte. */
  pendingBytesPerInputByte: z.number().int().min(1),
  /** Largest input record held in memory; a larger one is dead-lettered without being inflated. */
  maxInputRecordBytes: z.number().int().min(1024),
  /** Inflated bytes of a compressed batch kept in memory per compressed byte; the rest inflate one record at a time. */
  maxInflationRatio: z.number().int().min(1),
  /** Memory a message takes while handled (decoded value, checked copy, encoded outputs) per raw input byte. */
  handlingBytesPerInputByte: z.number().int().min(1),
});

/** Parsed {@link stageMemorySchema}. */
export type StageMemoryConfig = z.infer<typeof stageMemorySchema>;

/**
 * The stage runner: consumer group behaviour, batch and transaction bounds,
 * retries of transient failures, backpressure and shutdown.
 */
export const stageRunnerSchema = z.strictObject({
  /** The consumer group is the unit of scaling: partitions x replicas x partitionsConsumedConcurrently. */
  groupId: z.string().min(1),
  /** Prefix of the members' transactional ids (unique per stage). */
  transactionalIdPrefix: z.string().min(1),
  /**
   * This process's stable name (a pod name), part of its transactional id, so
   * a restarted process fences what its previous incarnation left open at
   * once. Unset: host and process id, unique but new on every restart.
   * Never shared by two live processes of a stage.
   */
  instanceId: z.string().min(1).optional(),
  sessionTimeoutMs: z.number().int().min(3000),
  rebalanceTimeoutMs: z.number().int().min(3000),
  heartbeatIntervalMs: z.number().int().positive(),
  /** Longest a fetch waits for data; kafkajs heartbeats between fetches, so keep it below the heartbeat interval. */
  maxWaitTimeMs: z.number().int().positive(),
  /** Partitions processed at once by one replica (bounded in-flight work). */
  partitionsConsumedConcurrently: z.number().int().min(1),
  /** Messages committed per transaction at most. */
  maxBatchMessages: z.number().int().min(1),
  /**
   * Messages of one chunk handled at once. 1 (in order, one at a time) suits
   * CPU-bound stages; a stage waiting on remote calls (funder portals) sets it
   * higher so one slow call does not hold up the rest of its chunk. Outputs
   * keep input order either way.
   */
  messageConcurrency: z.number().int().min(1),
  maxBytesPerPartition: z.number().int().min(1024),
  /** Largest output record a stage produces (key + value + headers); keep below the broker's message.max.bytes. */
  maxRecordBytes: z.number().int().min(1024),
  /** Bytes per produce request of a transaction; a chunk's outputs are split into requests of this size. */
  maxRequestBytes: z.number().int().min(1024),
  maxBytes: z.number().int().min(1024),
  /** Bounds how long a stuck transaction can stall read_committed readers downstream. */
  transactionTimeoutMs: z.number().int().min(1000),
  /**
   * Retries of the transactional producers. A transaction that starts right
   * after the previous commit often gets CONCURRENT_TRANSACTIONS until the
   * commit markers are written; a short first backoff keeps that from stalling
   * the partition for the client-wide retry time.
   */
  producerRetry: z.strictObject({
    retries: z.number().int().min(0),
    initialRetryTimeMs: z.number().int().positive(),
    maxRetryTimeMs: z.number().int().positive(),
  }),
  /**
   * After a commit whose outcome is unknown (the broker went away mid-commit),
   * how long the committed offset is re-read, every `pollMs`, for the commit
   * to show before the chunk is taken as aborted and processed again.
   */
  uncertainCommit: z.strictObject({
    settleMs: z.number().int().min(0),
    pollMs: z.number().int().positive(),
  }),
  /** Re-list topics this often so a new topic matching a pattern is consumed without a restart. */
  topicRefreshIntervalMs: z.number().int().positive(),
  retry: z.strictObject({
    /** Attempts of a handler failure marked retriable before it is dead-lettered. */
    maxAttempts: z.number().int().min(1),
    initialBackoffMs: z.number().int().positive(),
    maxBackoffMs: z.number().int().positive(),
  }),
  /** Memory bounds of the stage and its guard (see memoryBudgetProblems and docs/runtime.md). */
  memory: stageMemorySchema,
  /** Longest a readiness probe waits for the broker or the registry to answer. */
  readinessProbeTimeoutMs: z.number().int().positive(),
  /** Longest a metrics scrape waits for the broker's offsets to report consumer lag. */
  lagProbeTimeoutMs: z.number().int().positive(),
  /** How long a SIGTERM waits for the open batch to commit or abort before exiting. */
  shutdownGraceMs: z.number().int().positive(),
  /** Restart a crashed consumer after this long (broker outages). */
  restartBackoffMs: z.number().int().positive(),
  deadLetterTopic: z.string().min(1),
  /**
   * Where a dead letter too large for the broker (larger than maxRecordBytes)
   * keeps its value: one content-addressed file per value under `dir`, named
   * by its SHA-256. Every stage and `grantctl dlq` must see the same directory
   * (a shared volume in containers). `~/` is the home directory.
   */
  deadLetterStore: z.strictObject({
    dir: z
      .string()
      .min(1)
      .transform((p) => (p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : p)),
  }),
  /** Poison isolation: how a chunk whose transaction the broker refuses is split. */
  poison: z.strictObject({
    /**
     * Refused transactions a chunk may take while it is halved to find the
     * refused input(s); after that, the rest of the chunk goes one input per
     * transaction. Halving a chunk of maxBatchMessages to one input takes
     * about log2(maxBatchMessages) + 1 refusals (only the half holding it
     * is refused again).
     */
    maxRefusedTransactions: z.number().int().min(1),
  }),
});

/** Parsed {@link stageRunnerSchema}. */
export type StageRunnerConfig = z.infer<typeof stageRunnerSchema>;

/** Runner settings shared by every stage; each stage adds its own groupId and transactionalIdPrefix. */
export const runnerDefaultsSchema = stageRunnerSchema.omit({
  groupId: true,
  transactionalIdPrefix: true,
});

/** Parsed {@link runnerDefaultsSchema}. */
export type RunnerDefaults = z.infer<typeof runnerDefaultsSchema>;

/** `~` and `~/...` as the home directory; other paths as written. */
const homePath = (p: string): string =>
  p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : p;

/** How auditor commands read the audit topic (replay, verify, export). */
export const auditReadSchema = z.strictObject({
  /** Bytes per fetch: the scan's memory bound, whatever the topic's size. */
  maxBytesPerFetch: z.number().int().min(1024),
  maxWaitMs: z.number().int().positive(),
  /** Empty fetches in a row below a partition's end before the scan reports it stuck. */
  maxEmptyFetches: z.number().int().min(1),
  /** How `grantctl audit verify|prove|export` check the signed Merkle log over the audit topic. */
  log: z.strictObject({
    /** The log's origin (first line of every checkpoint); a checkpoint or batch of another log is refused. */
    origin: z.string().min(1),
    /**
     * Trusted verifier keys (`<name>+<key id>+<base64 key>`): the current one
     * and every retired one whose checkpoints are still kept. Empty: the log is
     * not checked, and verify says so.
     */
    verifierKeys: z.array(z.string().min(1)),
    /**
     * Files holding one verifier key each (the checkpointer writes
     * `<signing key>.pub`), read when a command uses them, so no key sits in
     * YAML; `~/` is the home directory. A missing file adds no key and is
     * named when the log is not checked.
     */
    verifierKeyFiles: z.array(z.string().min(1).transform(homePath)),
    /** The witness store's directory (write-once copies of every checkpoint), or null. */
    witnessDir: z.string().min(1).transform(homePath).nullable(),
    /** Most entries an order batch may hold; a larger one is refused unread. */
    maxBatchEntries: z.number().int().min(1),
    /** Largest checkpoint note accepted, in bytes, and most signature lines. */
    maxNoteBytes: z.number().int().min(256),
    maxSignatures: z.number().int().min(1),
    /** Most witness files read; more is itself refused (the store holds one per checkpoint). */
    maxWitnessFiles: z.number().int().min(1),
    /**
     * Audit records per spill bucket: verify spills records and checkpointed
     * leaves to temporary files bucketed by grant and checks one bucket at a
     * time, so its memory follows this number, not the topic's size.
     */
    bucketRecords: z.number().int().min(100),
    /** Bytes buffered per spill file before a write, and read back per read. */
    spillBufferBytes: z.number().int().min(4096),
    /** Findings listed in full per kind; the rest are counted (a whole topic deleted is millions). */
    maxFindingsListed: z.number().int().min(1),
  }),
});

/** Parsed {@link auditReadSchema}. */
export type AuditReadConfig = z.infer<typeof auditReadSchema>;

/** `grantctl dlq` settings (`dlq:` section). */
export const deadLetterToolSchema = z.strictObject({
  /**
   * Transactional id of `grantctl dlq redrive`: a redrive's messages and its
   * audit events commit together, and a second redrive started meanwhile
   * fences the first instead of interleaving with it.
   */
  redriveTransactionalId: z.string().min(1),
  /** Dead letters redriven per transaction. */
  redriveBatchSize: z.number().int().min(1).max(10_000),
  /**
   * Error categories a redrive refuses without --force: the message itself is
   * what failed, so sending it again can only fail again.
   */
  refuseCategories: z.array(z.enum(ERROR_CATEGORIES)),
});

/** Parsed {@link deadLetterToolSchema}. */
export type DeadLetterToolConfig = z.infer<typeof deadLetterToolSchema>;
