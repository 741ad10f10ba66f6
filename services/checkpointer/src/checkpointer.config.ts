import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  loadConfigOrExit,
  metricsEndpointSchema,
  platformConfigSchema,
} from '@grantstream/config';

/** A path where `~/` is the home directory; relative paths resolve from the working directory. */
const pathSchema = z
  .string()
  .min(1)
  .transform((p) =>
    p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : resolve(p),
  );

/**
 * The checkpointer (services/checkpointer): the signed Merkle log over the
 * audit topic (docs/audit.md, "The checkpointer"). One replica is active, the
 * others wait in its lease group; every number here bounds something the
 * active one holds, waits for or writes.
 */
export const checkpointerSectionSchema = z.strictObject({
  metrics: metricsEndpointSchema,
  /**
   * The log's origin: the first line of every checkpoint and the signing
   * key's name. Must equal what auditors verify against (audit.log.origin).
   */
  origin: z.string().min(1),
  topics: z.strictObject({
    /** The audit topic the log covers. */
    audit: z.string().min(1),
    /** Where the leaf order goes (one partition; LogOrderBatch records). */
    order: z.string().min(1),
    /** Where signed checkpoints go (one partition; AuditCheckpoint records). */
    checkpoints: z.string().min(1),
  }),
  /**
   * The consumer group that holds the lease: it subscribes to the order topic,
   * and the member assigned its single partition is the active replica. Its
   * session timeout bounds how long a dead active replica keeps the lease.
   */
  leaseGroupId: z.string().min(1),
  /** The group the audit topic's positions are committed under, in each batch's transaction. */
  offsetsGroupId: z.string().min(1),
  /**
   * The transactional id every replica writes with: the one that takes the
   * lease initialises it, which aborts the previous holder's open transaction
   * and refuses its later writes, so a zombie cannot fork the log.
   */
  transactionalId: z.string().min(1),
  sessionTimeoutMs: z.int().positive(),
  heartbeatIntervalMs: z.int().positive(),
  rebalanceTimeoutMs: z.int().positive(),
  /** Longest a transaction may stay open before the broker aborts it. */
  transactionTimeoutMs: z.int().positive(),
  /** Most leaves in one order batch (and one transaction); auditors refuse larger batches. */
  maxBatchEntries: z.int().positive(),
  /** Bytes asked for per fetch of the audit and order topics: bounds memory. */
  maxBytesPerFetch: z.int().positive(),
  /** How long one fetch may wait for data. */
  maxWaitMs: z.int().positive(),
  /** Empty fetches in a row below a partition's end before the read gives up (and retries). */
  maxEmptyFetches: z.int().positive(),
  /** Pause between reads of the audit topic when the last one found nothing new. */
  idleMs: z.int().positive(),
  /** Pause before the active replica starts over after a failure (broker, registry). */
  restartBackoffMs: z.int().positive(),
  /** Longest a SIGTERM waits for the open transaction to finish. */
  shutdownGraceMs: z.int().positive(),
  /** When checkpoints are cut (`checkpointDue`): after this many new leaves ... */
  everyLeaves: z.int().positive(),
  /** ... or this long after the last one, when there is a new leaf. */
  everyMs: z.int().positive(),
  /** Longest checkpoint note accepted when read back (signatures included). */
  maxNoteBytes: z.int().positive(),
  signingKey: z.strictObject({
    /**
     * PKCS#8 PEM of the Ed25519 private key, read at start. A file path (a
     * mounted secret), never the key itself: the configuration is not secret.
     */
    file: pathSchema,
    /**
     * Create the key (and `<file>.pub`, its verifier key) when the file is
     * missing: for the local stack only. A deployment mounts its key and
     * keeps this false, so a missing secret stops the service instead of
     * silently starting a log under a key nobody trusts.
     */
    createIfMissing: z.boolean(),
  }),
  witness: z.strictObject({
    /** The write-once directory every checkpoint is copied to, outside Kafka. */
    dir: pathSchema,
  }),
});

/** Parsed {@link checkpointerSectionSchema}. */
export type CheckpointerSection = z.infer<typeof checkpointerSectionSchema>;

/** The checkpointer's whole configuration: the platform and its own section. */
export const checkpointerConfigSchema = platformConfigSchema.extend({
  checkpointer: checkpointerSectionSchema,
});

/** Parsed {@link checkpointerConfigSchema}. */
export type CheckpointerConfig = z.infer<typeof checkpointerConfigSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadCheckpointerConfig(
  env: Readonly<Record<string, string | undefined>>,
): CheckpointerConfig {
  return loadConfigOrExit({ schema: checkpointerConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}
