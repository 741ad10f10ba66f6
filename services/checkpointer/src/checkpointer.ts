import { EventEmitter } from 'node:events';
import {
  AuditCheckpointV1Avro,
  AuditEventV1Avro,
  AuditEventV1Schema,
  LogOrderBatchV1Avro,
} from '@grantstream/contracts';
import {
  auditLeafFieldsOf,
  checkpointKeyOf,
  checkpointNoteOfRecord,
  checkpointRecordOf,
  openCheckpoint,
  orderBatchKeyOf,
  orderBatchOfRecord,
  orderBatchRecordOf,
  signCheckpoint,
  type AuditLeafFields,
  type NoteSigner,
  type NoteVerifier,
} from '@grantstream/audit';
import {
  LogStateCorruptError,
  type PipelineError,
  SchemaViolationError,
  WitnessConflictError,
  WriterFencedError,
} from '@grantstream/errors';
import {
  FencedTransactionalWriter,
  PartitionLease,
  TopicScanner,
  type AvroSerde,
  type OutgoingMessage,
  type PlatformClients,
  type ReadMessage,
} from '@grantstream/kafka';
import type { GrantLogger } from '@grantstream/logging';
import type { WitnessStore } from '@grantstream/storage';
import type { CheckpointerSection } from './checkpointer.config';
import { LogState, type CommitPlan, type LastCheckpoint } from './domain/log-state';

/** Name of a checkpoint in the witness store: zero-padded size, so names sort by size. */
export function witnessNameOf(treeSize: number): string {
  return `checkpoint-${String(treeSize).padStart(20, '0')}.note`;
}

/** What the checkpointer reports (metrics, tests). */
export interface CheckpointerEvents {
  /** This replica became active and resumed the log at `size` leaves. */
  resumed: [{ size: number }];
  /** A transaction committed. */
  committed: [{ leaves: number; size: number; checkpoint?: number }];
  /** A record of the audit topic made no leaf (tombstone or undecodable value). */
  skipped: [{ partition: number; offset: string; reason: string }];
  /** The active session failed and will be started again (or stopped, when `final`). */
  failed: [{ error: unknown; final: boolean }];
}

/** What the checkpointer is built from (validated config and connected clients). */
export interface CheckpointerDeps {
  kafka: PlatformClients['kafka'];
  serde: AvroSerde;
  logger: GrantLogger;
  config: CheckpointerSection;
  signer: NoteSigner;
  verifier: NoteVerifier;
  witness: WitnessStore;
  now: () => number;
}

/**
 * The checkpointer: while this replica holds the lease, it appends every
 * committed audit record to the Merkle log in the order it reads them, writes
 * that order with the audit offsets in one transaction per batch, and signs
 * and publishes checkpoints (topic in the same transaction, witness store
 * right after). Each active session starts by initialising the shared
 * transactional id (fencing any earlier holder) and rebuilding the log from
 * the order topic, so a restart or a standby continues the same log.
 */
export class Checkpointer extends EventEmitter<CheckpointerEvents> {
  private readonly lease: PartitionLease;
  private active: Promise<void> | null = null;
  private session: AbortController | null = null;
  private stopping = false;
  /** Set when the log cannot be continued: the process should exit, not retry. */
  fatal: PipelineError | null = null;

  constructor(private readonly deps: CheckpointerDeps) {
    super();
    const c = deps.config;
    this.lease = new PartitionLease(deps.kafka, {
      groupId: c.leaseGroupId,
      topic: c.topics.order,
      sessionTimeoutMs: c.sessionTimeoutMs,
      heartbeatIntervalMs: c.heartbeatIntervalMs,
      rebalanceTimeoutMs: c.rebalanceTimeoutMs,
      maxWaitTimeMs: c.maxWaitMs,
      logger: deps.logger,
    });
    this.lease.on('acquired', () => this.activate());
    this.lease.on('lost', () => this.session?.abort());
  }

  /** Whether this replica holds the lease. */
  get leaseHeld(): boolean {
    return this.lease.held;
  }

  /** Joins the lease group; work starts when (and if) the lease is assigned. */
  async start(): Promise<void> {
    await this.lease.start();
  }

  /** Stops the active session (its open transaction is aborted) and leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.session?.abort();
    await this.active;
    await this.lease.stop();
  }

  private activate(): void {
    if (this.active || this.stopping) return;
    this.active = this.runWhileHeld().finally(() => {
      this.active = null;
      // The lease may have come back while the last session was ending.
      if (this.lease.held && !this.stopping && !this.fatal) this.activate();
    });
  }

  private async runWhileHeld(): Promise<void> {
    const { logger, config } = this.deps;
    while (this.lease.held && !this.stopping && !this.fatal) {
      const controller = new AbortController();
      this.session = controller;
      const writer = new FencedTransactionalWriter(this.deps.kafka, {
        transactionalId: config.transactionalId,
        transactionTimeoutMs: config.transactionTimeoutMs,
      });
      const scanner = new TopicScanner(this.deps.kafka);
      try {
        await this.runSession(writer, scanner, controller.signal);
      } catch (error) {
        const final =
          error instanceof LogStateCorruptError || error instanceof WitnessConflictError;
        if (final) this.fatal = error;
        this.emit('failed', { error, final });
        if (error instanceof WriterFencedError) {
          // Another replica initialised the id: it holds the lease now (or is
          // about to); starting over here would only fence it back.
          logger.warn({ err: error }, 'checkpointer fenced by another replica; standing by');
          controller.abort();
        } else if (!controller.signal.aborted) {
          logger.error({ err: error, final }, 'checkpointer session failed');
        }
      } finally {
        this.session = null;
        await writer.close();
        await scanner.close().catch(() => undefined);
      }
      if (this.lease.held && !this.stopping && !this.fatal) {
        await sleep(config.restartBackoffMs);
      }
    }
  }

  private async runSession(
    writer: FencedTransactionalWriter,
    scanner: TopicScanner,
    signal: AbortSignal,
  ): Promise<void> {
    const { config, logger, now } = this.deps;
    await writer.init();
    if (signal.aborted) return;
    // Fenced: what the topics hold now is final until this session writes.
    const last = await this.lastCheckpoint(scanner);
    const state = new LogState({
      maxBatchEntries: config.maxBatchEntries,
      policy: { everyLeaves: config.everyLeaves, everyMs: config.everyMs },
      startedAtMs: now(),
      ...(last ? { lastCheckpoint: last.checkpoint } : {}),
    });
    for await (const m of scanner.scan(config.topics.order, this.scanOptions())) {
      const batch = await this.orderBatchOf(m);
      if (!state.resumeBatch(batch)) break;
    }
    const committed = await writer.committedOffsets(config.offsetsGroupId, config.topics.audit);
    if (!state.finishResume(committed)) {
      throw new LogStateCorruptError(
        `the recorded log cannot be continued: ${JSON.stringify(state.problem)}`,
        { metadata: { problem: JSON.stringify(state.problem) } },
      );
    }
    // A crash between publishing a checkpoint and witnessing it is repaired here.
    if (last) await this.deps.witness.put(witnessNameOf(last.checkpoint.size), last.note);
    logger.info(
      { size: state.size, checkpointed: last?.checkpoint.size ?? 0 },
      'checkpointer resumed the log',
    );
    this.emit('resumed', { size: state.size });

    while (!signal.aborted) {
      let read = 0;
      for await (const m of scanner.scan(config.topics.audit, {
        ...this.scanOptions(),
        from: state.readPositions(),
      })) {
        read += 1;
        state.take({ partition: m.partition, offset: m.offset, ...(await this.leafOf(m)) });
        if (state.batchFull) await this.commit(writer, state, state.plan(now()));
        if (signal.aborted) return;
      }
      await this.commit(writer, state, state.plan(now()));
      if (read === 0) await sleep(config.idleMs, signal);
    }
  }

  private scanOptions() {
    const c = this.deps.config;
    return {
      maxBytesPerFetch: c.maxBytesPerFetch,
      maxWaitMs: c.maxWaitMs,
      maxEmptyFetches: c.maxEmptyFetches,
    };
  }

  /** The leaf of an audit record, or why it makes none; registry outages throw (the session retries). */
  private async leafOf(m: ReadMessage): Promise<{ leaf?: AuditLeafFields }> {
    const skip = (reason: string) => {
      this.emit('skipped', { partition: m.partition, offset: m.offset, reason });
      return {};
    };
    if (m.value === null) return skip('tombstone');
    if (m.key === null) return skip('no key');
    let event;
    try {
      const decoded = await this.deps.serde.decodeAs(m.value, AuditEventV1Avro);
      event = AuditEventV1Schema.parse(decoded.value);
    } catch (err) {
      if (err instanceof SchemaViolationError || (err as Error).name === 'ZodError') {
        return skip((err as Error).message);
      }
      throw err;
    }
    const fields = auditLeafFieldsOf(m.key.toString('utf8'), event);
    return { leaf: fields };
  }

  private async orderBatchOf(m: ReadMessage) {
    const { config } = this.deps;
    let decoded;
    try {
      decoded = await this.deps.serde.decodeAs(m.value, LogOrderBatchV1Avro);
    } catch (err) {
      if (!(err instanceof SchemaViolationError)) throw err;
      throw new LogStateCorruptError(
        `order record ${config.topics.order}/${m.partition}/${m.offset} does not decode: ${err.message}`,
        { cause: err },
      );
    }
    const result = orderBatchOfRecord(decoded.value, {
      maxBatchEntries: config.maxBatchEntries,
      origin: config.origin,
    });
    if (!result.ok) {
      throw new LogStateCorruptError(
        `order record ${config.topics.order}/${m.partition}/${m.offset} refused: ${result.reason} ${result.detail}`,
      );
    }
    return result.batch;
  }

  /** The last checkpoint on the checkpoint topic, checked with the log's own key. */
  private async lastCheckpoint(
    scanner: TopicScanner,
  ): Promise<{ checkpoint: LastCheckpoint; note: string } | undefined> {
    const { config } = this.deps;
    let lastRecord: ReadMessage | undefined;
    for await (const m of scanner.scan(config.topics.checkpoints, this.scanOptions()))
      lastRecord = m;
    if (!lastRecord) return undefined;
    const where = `${config.topics.checkpoints}/${lastRecord.partition}/${lastRecord.offset}`;
    const decoded = await this.deps.serde.decodeAs(lastRecord.value, AuditCheckpointV1Avro);
    const record = checkpointNoteOfRecord(decoded.value, where, config);
    const opened = record.ok
      ? openCheckpoint(record.note.note, [this.deps.verifier], {
          maxNoteBytes: config.maxNoteBytes,
          maxSignatures: 1,
          origin: config.origin,
        })
      : undefined;
    if (!record.ok || !opened?.ok) {
      throw new LogStateCorruptError(
        `the last checkpoint (${where}) does not open with the log's key`,
      );
    }
    const { size, rootHash, time } = opened.checkpoint;
    return {
      checkpoint: { size, rootHash, atMs: time?.getTime() ?? 0 },
      note: record.note.note,
    };
  }

  private async commit(
    writer: FencedTransactionalWriter,
    state: LogState,
    plan: CommitPlan | undefined,
  ): Promise<void> {
    if (!plan) return;
    const { config, serde, signer } = this.deps;
    const batches: { topic: string; messages: OutgoingMessage[] }[] = [];
    if (plan.batch) {
      batches.push({
        topic: config.topics.order,
        messages: [
          {
            key: orderBatchKeyOf(plan.batch.firstIndex),
            value: await serde.encode(
              config.topics.order,
              orderBatchRecordOf(config.origin, plan.batch),
            ),
          },
        ],
      });
    }
    let note: string | undefined;
    if (plan.checkpoint) {
      const { size, rootHash, atMs } = plan.checkpoint;
      note = signCheckpoint(
        { origin: config.origin, size, rootHash, time: new Date(atMs) },
        signer,
      );
      batches.push({
        topic: config.topics.checkpoints,
        messages: [
          {
            key: checkpointKeyOf(size),
            value: await serde.encode(config.topics.checkpoints, checkpointRecordOf(size, note)),
          },
        ],
      });
    }
    await writer.commit(batches, {
      groupId: config.offsetsGroupId,
      topic: config.topics.audit,
      partitions: [...plan.positions].map(([partition, offset]) => ({ partition, offset })),
    });
    state.committed(plan);
    if (plan.checkpoint && note !== undefined) {
      await this.deps.witness.put(witnessNameOf(plan.checkpoint.size), note);
    }
    this.emit('committed', {
      leaves: plan.batch?.entries.length ?? 0,
      size: state.size,
      ...(plan.checkpoint ? { checkpoint: plan.checkpoint.size } : {}),
    });
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
