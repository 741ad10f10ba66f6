import { EventEmitter, setMaxListeners } from 'node:events';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type ConsumerGroupMetadata,
  type KafkaMessage,
} from '@grantstream/kafkajs-extended';
import { DLQ_HEADERS } from '@grantstream/contracts';
import {
  InfrastructureError,
  RecordRefusedError,
  type ErrorCategory,
  type PipelineError,
} from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import type { OutgoingMessage } from '../topic-io';
import { within } from '../within';
import { MemberTransactions, memberTransactionalId } from './member-transactions';
import { commitIsolating, type SliceCommit } from './poison-isolation';
import { kafkaSecurityFailureOf } from '../kafka-client';
import { readStableOffsets } from '../extended-kafka';
import { BatchReleasedError } from './bounded-inflate';
import { MemoryControl, chunksOf } from './memory-control';
import type { MemoryMode } from './memory-guard';
import { MessageProcessor, type ProcessedMessage } from './message-processor';
import {
  HeartbeatFailed,
  Interrupted,
  PartitionLost,
  TransactionRefused,
  sleep,
  tpKey,
  withHeartbeats,
} from './runner-signals';
import { matchesSubscription, subscribes, type StageHandler } from './stage-handler';
import type {
  PartitionLag,
  RunnerEmit,
  StageRunnerEvents,
  StageRunnerOptions,
} from './stage-runner-types';

export type {
  PartitionLag,
  ServiceIdentity,
  StageRunnerEvents,
  StageRunnerOptions,
} from './stage-runner-types';

/** A chunk's handled prefix, and the message it stopped at because it is not due. */
interface ChunkOutcome {
  results: ProcessedMessage[];
  deferred: { offset: string; untilMs: number } | null;
}

/**
 * Consumes a stage's input topics and, per chunk of at most
 * `maxBatchMessages` messages of one partition, produces every output, every
 * dead letter and the input offset commit in ONE Kafka transaction.
 *
 * Zombie fencing (KIP-447): the member has ONE transactional producer (see
 * MemberTransactions), and every offset commit carries the consumer's group
 * metadata as it was when the batch was fetched; the coordinator refuses a
 * commit from a past generation or an evicted member, and the runner drops
 * that chunk. On the first batch of a partition in each generation the
 * committed offset is read again with require_stable, which waits out a
 * previous owner's commit still completing, so messages it committed are
 * skipped rather than processed twice.
 */
export class StageRunner extends EventEmitter<StageRunnerEvents> {
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  /** The member's transactional producer, shared by its partitions. */
  private readonly transactions: MemberTransactions;
  /** Per input partition, the generation it was last prepared in (state reloaded, offset re-read). */
  private readonly prepared = new Map<string, number>();
  private readonly memory: MemoryControl;
  private memoryTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly deferTimers = new Map<string, NodeJS.Timeout>();
  /** Per input partition, the next offset of a commit that failed with an unknown outcome. */
  private readonly uncertainCommits = new Map<string, string>();
  private generation = 0;
  /** This member's partitions in the current generation. */
  private assignment: Record<string, number[]> = {};
  private topics: string[] = [];
  private running = false;
  private restarting: Promise<void> | null = null;
  private readonly stopController = new AbortController();
  private readonly log: GrantLogger;
  /** Decode, contract, handle, encode and dead letters of one message. */
  private readonly processor: MessageProcessor;

  /**
   * The runner's units report through the runner's own events. EventEmitter's
   * typed emit cannot take a generic key's tuple; RunnerEmit ties them.
   */
  private readonly relay: RunnerEmit = (event, ...args) => {
    (this as unknown as EventEmitter).emit(event, ...args);
  };

  constructor(private readonly options: StageRunnerOptions) {
    super();
    this.log = options.logger.child({
      stage: options.service.stage,
      group: options.config.groupId,
    });
    this.processor = new MessageProcessor({
      service: options.service,
      config: options.config,
      serde: options.serde,
      log: this.log,
      signal: this.stopController.signal,
      emit: this.relay,
      ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
      ...(options.deadLetterStore ? { deadLetterStore: options.deadLetterStore } : {}),
    });
    this.transactions = new MemberTransactions(
      options.kafka,
      options.config,
      memberTransactionalId(options.config),
    );
    this.memory = new MemoryControl({
      memory: options.config.memory,
      maxBytes: options.config.maxBytes,
      logger: this.log,
      ...(options.rssProbe ? { rssProbe: options.rssProbe } : {}),
      ...(options.heapProbe ? { heapProbe: options.heapProbe } : {}),
    });
    // Every handler in flight may listen for the stop (a portal call, a limiter
    // wait): a few listeners per message handled at once, not a leak.
    const { messageConcurrency, partitionsConsumedConcurrently } = options.config;
    setMaxListeners(
      4 * messageConcurrency * partitionsConsumedConcurrently + 10,
      this.stopController.signal,
    );
  }

  /** The consumer group this runner belongs to. */
  get groupId(): string {
    return this.options.config.groupId;
  }

  /** Topics currently subscribed (patterns resolved). */
  get subscribedTopics(): readonly string[] {
    return this.topics;
  }

  /** True while the memory guard holds consumption paused. */
  get memoryPaused(): boolean {
    return this.memory.engaged;
  }

  /** The memory guard's mode: running, paused, or trickle (one message at a time). */
  get memoryMode(): MemoryMode {
    return this.memory.mode;
  }

  /** Raw bytes (key + value) of the messages being handled now. */
  inFlightBytes(): number {
    return this.memory.inFlight.bytes;
  }

  /** Partitions currently paused: deferred until a message is due, or held by the memory guard. */
  pausedPartitionCount(): number {
    return (this.consumer?.paused() ?? []).reduce((n, t) => n + t.partitions.length, 0);
  }

  /**
   * The lag of every partition assigned to this member: the partition's end
   * minus the group's committed offset (its start when nothing is committed).
   * Asks the broker; empty when not consuming.
   */
  async consumerLag(): Promise<PartitionLag[]> {
    const admin = this.admin;
    const topics = Object.keys(this.assignment).filter(
      (t) => (this.assignment[t] ?? []).length > 0,
    );
    if (!admin || !this.running || topics.length === 0) return [];
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: this.groupId, topics }),
      Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic))),
    ]);
    const lags: PartitionLag[] = [];
    topics.forEach((topic, i) => {
      const groupOffsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const partition of this.assignment[topic] ?? []) {
        const end = ends[i]?.find((e) => e.partition === partition);
        if (!end) continue;
        const at = groupOffsets.find((p) => p.partition === partition)?.offset ?? '-1';
        const from = at === '-1' ? BigInt(end.low) : BigInt(at);
        const lag = BigInt(end.high) - from;
        lags.push({ topic, partition, lag: lag > 0n ? Number(lag) : 0 });
      }
    });
    return lags;
  }

  /** Connects, subscribes and starts consuming; resolves once the consumer runs. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    await this.startConsumer();
    this.memoryTimer = setInterval(
      () => this.checkMemory(),
      this.options.config.memory.checkIntervalMs,
    );
    if (this.options.handlers.some((h) => h.subscriptions.some((s) => s instanceof RegExp))) {
      this.refreshTimer = setInterval(
        () => void this.refreshTopics(),
        this.options.config.topicRefreshIntervalMs,
      );
    }
  }

  /**
   * Stops consuming: the open chunk either commits or aborts (never half), the
   * consumer leaves its group, producers disconnect. Bounded by shutdownGraceMs.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort();
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const timer of this.deferTimers.values()) clearTimeout(timer);
    this.deferTimers.clear();
    const grace = this.options.config.shutdownGraceMs;
    const work = (async () => {
      await this.restarting?.catch(() => undefined);
      await this.consumer?.disconnect();
      await this.transactions.close().catch(() => undefined);
      this.prepared.clear();
      await this.admin?.disconnect();
    })();
    const outcome = await within(
      work.then(() => 'done' as const),
      grace,
      'timeout' as const,
    );
    if (outcome === 'timeout') this.log.warn({ graceMs: grace }, 'shutdown grace period ran out');
    else this.log.info('stage runner stopped');
  }

  private async resolveTopics(): Promise<string[]> {
    const existing = (await this.admin?.listTopics()) ?? [];
    const names = new Set<string>();
    for (const h of this.options.handlers) {
      for (const s of h.subscriptions) {
        if (typeof s === 'string') names.add(s);
        else
          for (const t of existing)
            if (!t.startsWith('__') && matchesSubscription(s, t)) names.add(t);
      }
    }
    return [...names].sort();
  }

  private async startConsumer(): Promise<void> {
    const c = this.options.config;
    this.topics = await this.resolveTopics();
    const consumer = this.options.kafka.consumer({
      groupId: c.groupId,
      sessionTimeout: c.sessionTimeoutMs,
      rebalanceTimeout: c.rebalanceTimeoutMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      maxWaitTimeInMs: c.maxWaitTimeMs,
      maxBytesPerPartition: c.maxBytesPerPartition,
      maxBytes: c.maxBytes,
      // Outputs of other stages are read only once their transaction committed.
      readUncommitted: false,
      retry: {
        restartOnFailure: (e) =>
          Promise.resolve(
            this.running && !(e instanceof TypeError) && kafkaSecurityFailureOf(e) === null,
          ),
      },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Synchronous with the join: every partition is prepared again (offset
      // re-read, state reloaded) before its first batch of this generation.
      this.generation += 1;
      this.assignment = payload.memberAssignment;
      this.emit('groupJoined', {
        generation: this.generation,
        assignment: payload.memberAssignment,
      });
      this.log.info(
        { generation: this.generation, assignment: payload.memberAssignment },
        'joined consumer group',
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const security = kafkaSecurityFailureOf(payload.error);
      if (security) {
        this.fail(security);
        return;
      }
      const restarting = this.running && !payload.restart;
      this.log.error({ err: payload.error, kafkajsRestarts: payload.restart }, 'consumer crashed');
      this.emit('crashed', { error: payload.error, restarting: this.running });
      if (restarting) this.scheduleRestart();
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    this.emit('subscribed', { topics: this.topics });
    this.log.info({ topics: this.topics }, 'subscribed');
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: c.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
    if (this.memory.engaged) this.pauseAll();
  }

  /**
   * Stops for good on a security failure: the broker refused the principal
   * (an ACL) or its credentials. Retrying would loop on the same refusal, and
   * dead-lettering would drain every input into the dead-letter topic for a
   * fault none of them has; an operator must fix the ACLs or the configuration.
   */
  private fail(error: PipelineError): void {
    if (!this.running) return;
    this.log.fatal(
      { err: error.toJSON(), groupId: this.options.config.groupId },
      `stopping: ${error.message}`,
    );
    this.emit('fatal', { error });
    void this.stop();
  }

  /** Recreates the consumer (after a crash kafkajs will not recover from, or a new matching topic). */
  private scheduleRestart(delayMs = this.options.config.restartBackoffMs): void {
    if (this.restarting || !this.running) return;
    this.restarting = (async () => {
      await sleep(delayMs);
      try {
        await this.consumer?.disconnect().catch(() => undefined);
        if (this.running) await this.startConsumer();
      } catch (err) {
        const security = kafkaSecurityFailureOf(err);
        if (security) {
          this.restarting = null;
          this.fail(security);
          return;
        }
        this.log.error({ err }, 'consumer restart failed; trying again');
        this.restarting = null;
        this.scheduleRestart();
        return;
      }
      this.restarting = null;
    })();
  }

  private async refreshTopics(): Promise<void> {
    if (!this.running || this.restarting) return;
    try {
      const topics = await this.resolveTopics();
      if (topics.join('\n') !== this.topics.join('\n')) {
        this.log.info({ topics }, 'subscription changed; resubscribing');
        this.scheduleRestart(0);
      }
    } catch (err) {
      this.log.warn({ err }, 'topic refresh failed');
    }
  }

  /** One memory check (see MemoryControl): pauses or resumes every partition as the guard says. */
  private checkMemory(): void {
    const { transition: t, reading } = this.memory.check();
    const { rssBytes, heapBytes } = reading;
    if (t.kind === 'pause') {
      this.pauseAll();
      this.emit('paused', {
        rssBytes,
        heapBytes,
        cause: t.cause,
        inFlightBytes: reading.inFlightBytes,
      });
    } else if (t.kind === 'resume') {
      // Trickling consumes (admission lets one message in at a time): only a
      // pause holds the partitions.
      if (t.from === 'paused') this.consumer?.resume(this.topics.map((topic) => ({ topic })));
      this.emit('resumed', {
        rssBytes,
        heapBytes,
        from: t.from,
        to: t.to,
        ended: t.ended,
        lastedMs: t.lastedMs,
      });
    }
  }

  private pauseAll(): void {
    this.consumer?.pause(this.topics.map((topic) => ({ topic })));
  }

  private handlerFor(topic: string): StageHandler<unknown> | undefined {
    return this.options.handlers.find((h) => subscribes(h, topic));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const resolveOffset = (offset: string) => payload.resolveOffset(offset);
    const heartbeat = () => payload.heartbeat();
    const handler = this.handlerFor(topic);
    const live = () =>
      payload.isRunning() && !payload.isStale() && this.running && !this.memory.engaged;
    if (!handler || batch.messages.length === 0 || !live()) return;

    // The membership the batch was fetched in: a commit carrying it is
    // refused once the group has moved on (KIP-447). Taken before anything
    // awaits, so a rejoin meanwhile cannot lend the batch a newer generation.
    const generation = this.generation;
    const group = this.consumer?.groupMetadata() ?? null;
    if (group === null) return;
    let committedOffset: string | null;
    try {
      // A stable read may wait out a previous owner's commit: the member stays in its group meanwhile.
      committedOffset = await withHeartbeats(
        this.options.config.heartbeatIntervalMs,
        heartbeat,
        () => this.preparedPartition(topic, partition),
      );
    } catch (err) {
      if (err instanceof HeartbeatFailed) throw err.kafkaError;
      throw err;
    }
    if (generation !== this.generation || payload.isStale()) return;
    let messages = batch.messages;
    if (committedOffset !== null) {
      // A previous owner may have committed past what this consumer fetched from.
      const skip = messages.filter((m) => BigInt(m.offset) < BigInt(committedOffset));
      if (skip.length > 0) {
        this.log.warn(
          { topic, partition, committedOffset, skipped: skip.length },
          'skipping messages committed by the previous owner',
        );
        messages = messages.filter((m) => BigInt(m.offset) >= BigInt(committedOffset));
        const last = skip[skip.length - 1];
        if (last) resolveOffset(last.offset);
      }
    }

    const { maxBatchMessages, memory } = this.options.config;
    // Bounded by bytes too: a chunk's results (outputs, dead letters with their
    // inputs' values) stay in memory until its transaction commits.
    for (const chunk of chunksOf(messages, maxBatchMessages, memory.maxChunkBytes)) {
      if (!live()) return;
      let handled: ChunkOutcome;
      try {
        // One heartbeat timer for the whole chunk, not one per message.
        handled = await withHeartbeats(
          this.options.config.heartbeatIntervalMs,
          heartbeat,
          (beatFailed) => this.handleChunk(handler, topic, partition, chunk, live, beatFailed),
        );
      } catch (err) {
        if (err instanceof Interrupted) return;
        if (err instanceof HeartbeatFailed) throw err.kafkaError;
        throw err;
      }
      // A finished chunk commits even when stopping or under memory pressure:
      // its work is done, and the coordinator refuses it if the partition moved.
      if (payload.isStale()) return;
      const { results, deferred } = handled;
      if (results.length > 0) {
        let committed: boolean;
        try {
          committed = await this.commitChunk(
            payload,
            chunk.slice(0, results.length),
            results,
            generation,
            group,
          );
        } catch (err) {
          // kafkajs rejoins its group on the coordinator's own error.
          if (err instanceof PartitionLost) throw err.kafkaError;
          throw err;
        }
        if (!committed) return;
      }
      if (deferred) {
        this.deferPartition(payload, deferred.offset, deferred.untilMs);
        return;
      }
      await heartbeat();
    }
  }

  /**
   * Handles a chunk's messages, `messageConcurrency` at a time, and returns
   * their results in input order up to the first message that is not due yet
   * (see {@link HandlerResult.deferUntil}). Work started on later messages
   * is discarded: it is done again once the partition resumes, which the
   * handlers that defer (retry tiers, polling) make safe.
   */
  private async handleChunk(
    handler: StageHandler<unknown>,
    topic: string,
    partition: number,
    chunk: KafkaMessage[],
    live: () => boolean,
    beatFailed: () => boolean,
  ): Promise<ChunkOutcome> {
    const results: (ProcessedMessage | undefined)[] = new Array<ProcessedMessage | undefined>(
      chunk.length,
    );
    let firstDeferred = chunk.length;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < firstDeferred && !beatFailed()) {
        const index = next;
        next += 1;
        const message = chunk[index] as KafkaMessage;
        const started = performance.now();
        const processed = await this.memory
          .admitted(
            message,
            this.stopController.signal,
            (m) => {
              // A value inflated from a reference stands in the chunk from now
              // on: a dead letter made at commit (isolation) carries its bytes.
              chunk[index] = m;
              return this.processor.process(handler, topic, partition, m, live);
            },
            (m, tooLarge) =>
              this.processor.processOversized(tooLarge, topic, partition, message, m, live),
          )
          .catch((err: unknown) => {
            // A stop while waiting for admission, or a batch to be fetched again: nothing commits.
            if (err instanceof BatchReleasedError || this.stopController.signal.aborted)
              throw new Interrupted();
            throw err;
          });
        this.emit('handled', {
          topic,
          partition,
          outcome:
            processed.deferUntil !== undefined
              ? 'deferred'
              : processed.deadLettered
                ? 'dead_lettered'
                : 'processed',
          durationMs: performance.now() - started,
        });
        results[index] = processed;
        if (processed.deferUntil !== undefined && index < firstDeferred) firstDeferred = index;
      }
    };
    const workers = Math.min(this.options.config.messageConcurrency, chunk.length);
    await Promise.all(Array.from({ length: workers }, () => worker()));
    // withHeartbeats then rethrows the heartbeat's error, so kafkajs rejoins.
    if (beatFailed()) return { results: [], deferred: null };
    const done: ProcessedMessage[] = [];
    for (let i = 0; i < firstDeferred; i += 1) done.push(results[i] as ProcessedMessage);
    const deferredMessage = chunk[firstDeferred];
    const untilMs = results[firstDeferred]?.deferUntil;
    return {
      results: done,
      deferred:
        deferredMessage && untilMs !== undefined
          ? { offset: deferredMessage.offset, untilMs }
          : null,
    };
  }

  /**
   * Parks a partition whose next message is not due: pauses it, rewinds the
   * fetch position to that message and resumes at its due time. A paused
   * partition holds no slot of partitionsConsumedConcurrently, so waiting
   * messages (retry tiers, status polls) never block other partitions.
   */
  private deferPartition(payload: EachBatchPayload, offset: string, untilMs: number): void {
    const { topic, partition } = payload.batch;
    const consumer = this.consumer;
    if (!consumer) return;
    payload.pause();
    consumer.seek({ topic, partition, offset });
    const key = tpKey(topic, partition);
    const existing = this.deferTimers.get(key);
    if (existing) clearTimeout(existing);
    const delay = Math.max(0, untilMs - Date.now());
    this.deferTimers.set(
      key,
      setTimeout(() => {
        this.deferTimers.delete(key);
        // Under memory pressure the guard resumes everything once it clears.
        if (this.running && !this.memory.engaged)
          consumer.resume([{ topic, partitions: [partition] }]);
      }, delay),
    );
    this.emit('deferred', { topic, partition, offset, untilMs });
  }

  /**
   * Prepares an input partition on its first batch of the current generation
   * (or after a failed transaction): settles this member's own failed
   * transaction on the coordinator, re-reads the committed offset (stable:
   * a previous owner's commit still completing is waited for) and then
   * reloads the stage's state for it. Returns the committed offset, or null
   * when already prepared or nothing is committed.
   */
  private async preparedPartition(topic: string, partition: number): Promise<string | null> {
    const key = tpKey(topic, partition);
    const generation = this.generation;
    if (this.prepared.get(key) === generation) return null;
    this.prepared.delete(key);
    // A transaction of ours cut off by a failure is completed or aborted by
    // initialising the producer again; the stable read then sees its outcome.
    if (this.uncertainCommits.has(key)) await this.transactions.settle();
    const committed = await this.settledCommittedOffset(topic, partition);
    // Nothing a previous owner left open can commit offsets any more, so state
    // restored now is final.
    await this.options.preparePartition?.({ topic, partition }, this.stopController.signal);
    if (generation === this.generation) this.prepared.set(key, generation);
    return committed;
  }

  /**
   * The group's committed offset of a partition. When this process's last
   * commit for it failed with an unknown outcome, the transaction may still
   * complete on the broker after the fence, and the offset it commits appears
   * only then: re-read it for a while before taking the chunk as aborted, so
   * a chunk that did commit is not processed a second time.
   */
  private async settledCommittedOffset(topic: string, partition: number): Promise<string | null> {
    const c = this.options.config;
    const read = async () => {
      const offsets = await this.admin?.fetchOffsets({ groupId: c.groupId, topics: [topic] });
      const o = offsets?.[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return o === '-1' ? null : o;
    };
    const key = tpKey(topic, partition);
    const uncertain = this.uncertainCommits.get(key);
    // A previous owner's commit (or ours, cut off) may be completing right
    // after the fence: a stable read waits for it, a plain one may not.
    const stable = await this.stableCommittedOffset(topic, partition);
    if (stable !== undefined) {
      if (uncertain === undefined) return stable;
      this.uncertainCommits.delete(key);
      this.log.info(
        { topic, partition, committed: stable, uncertainNextOffset: uncertain, stable: true },
        stable !== null && BigInt(stable) >= BigInt(uncertain)
          ? 'the commit cut off by the failure had completed'
          : 'the commit cut off by the failure did not complete; the chunk is processed again',
      );
      return stable;
    }
    let committed = await read();
    if (uncertain === undefined) return committed;
    const deadline = Date.now() + c.uncertainCommit.settleMs;
    while ((committed === null || BigInt(committed) < BigInt(uncertain)) && Date.now() < deadline) {
      await sleep(c.uncertainCommit.pollMs);
      committed = await read();
    }
    this.uncertainCommits.delete(key);
    this.log.info(
      { topic, partition, committed, uncertainNextOffset: uncertain },
      committed !== null && BigInt(committed) >= BigInt(uncertain)
        ? 'the commit cut off by the failure had completed'
        : 'the commit cut off by the failure did not complete; the chunk is processed again',
    );
    return committed;
  }

  /**
   * The committed offset read with require_stable (OffsetFetch v7, KIP-447):
   * the coordinator answers only once no transaction holding offsets for the
   * partition is pending, so after the fence the answer is the outcome of the
   * commit cut off by the failure, final, with no polling. Retried within the
   * transaction timeout plus the settle window (every uncertainCommit.pollMs). Undefined when no
   * stable answer came (a broker without OffsetFetch v7, or the window ran
   * out): the caller then polls as before.
   */
  private async stableCommittedOffset(
    topic: string,
    partition: number,
  ): Promise<string | null | undefined> {
    const admin = this.admin;
    if (!admin) return undefined;
    const { groupId, uncertainCommit, transactionTimeoutMs } = this.options.config;
    try {
      // A previous owner's transaction holding offsets for the partition ends
      // by its commit or abort, or by the coordinator's timeout at the latest.
      const waitMs = transactionTimeoutMs + uncertainCommit.settleMs;
      const offsets = await readStableOffsets(admin, groupId, topic, [partition], {
        retries: Math.ceil(waitMs / uncertainCommit.pollMs),
        initialRetryTimeMs: uncertainCommit.pollMs,
        maxRetryTimeMs: uncertainCommit.pollMs,
      });
      const o = offsets.get(partition) ?? '-1';
      return o === '-1' ? null : o;
    } catch (err) {
      this.log.warn(
        { topic, partition, err },
        'no stable read of the committed offset; polling it instead',
      );
      return undefined;
    }
  }

  private async commit(
    topic: string,
    partition: number,
    outputs: Map<string, OutgoingMessage[]>,
    nextOffset: string,
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    const outcome = await this.transactions.commit({
      topic,
      partition,
      outputs,
      nextOffset,
      group,
    });
    if (outcome.kind === 'committed') return;
    const key = tpKey(topic, partition);
    // The chunk's handling may have changed the stage's state for this
    // partition: it is prepared again before its next batch.
    this.prepared.delete(key);
    const { error } = outcome;
    if (outcome.kind === 'refused') {
      this.emit('aborted', { topic, partition, error, refusal: outcome.type });
      this.log.warn(
        { err: error, topic, partition, refusal: outcome.type, nextOffset },
        'the broker refused a record of this transaction; splitting the chunk',
      );
      throw new TransactionRefused(outcome.type);
    }
    if (outcome.kind === 'lost') {
      this.emit('aborted', { topic, partition, error });
      this.log.warn(
        {
          err: error,
          topic,
          partition,
          type: outcome.type,
          nextOffset,
          generation: group.generationId,
        },
        'transaction aborted: the group refused this member its offsets, the partition is lost; the chunk is dropped',
      );
      throw new PartitionLost(error);
    }
    // The next batch re-reads the committed offset, allowing for this commit
    // having gone through after all.
    this.uncertainCommits.set(key, nextOffset);
    this.emit('aborted', { topic, partition, error });
    this.log.warn(
      { err: error, topic, partition },
      'transaction aborted; the chunk will be processed again',
    );
    throw new InfrastructureError(
      `transaction for ${topic}[${partition}] failed: ${error.message}`,
      {
        cause: error,
      },
    );
  }

  /**
   * Commits a handled chunk: in one transaction when the broker takes it;
   * otherwise split until each input whose records the broker refuses is
   * isolated and dead-lettered (see commitIsolating), the others committed
   * once each, in offset order. Outages still fail the chunk as before.
   * Returns false when the partition was lost or the runner stopped midway.
   */
  private async commitChunk(
    payload: EachBatchPayload,
    messages: readonly KafkaMessage[],
    results: readonly ProcessedMessage[],
    generation: number,
    group: ConsumerGroupMetadata,
  ): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const items = messages.map((message, i) => ({
      message,
      processed: results[i] as ProcessedMessage,
    }));
    let first = true;
    // Every split transaction after the first re-checks ownership: no work is
    // spent on a partition this member lost.
    const owned = () => !payload.isStale() && generation === this.generation;
    const attempt = async (run: readonly (typeof items)[number][]): Promise<SliceCommit> => {
      if (!first && !owned()) throw new Interrupted();
      first = false;
      try {
        await this.commitRun(topic, partition, run, group);
      } catch (err) {
        if (err instanceof TransactionRefused) return { committed: false, refusal: err.refusal };
        throw err;
      }
      payload.resolveOffset((run[run.length - 1] as (typeof items)[number]).message.offset);
      await payload.heartbeat();
      return { committed: true };
    };
    try {
      const report = await commitIsolating(items, {
        maxRefusedTransactions: this.options.config.poison.maxRefusedTransactions,
        commit: attempt,
        isolate: async (item, _index, refusal) => {
          await this.isolateRefused(
            topic,
            partition,
            item.message,
            item.processed,
            refusal,
            attempt,
          );
        },
        onSplit: (step) => {
          const firstOffset = (items[step.start] as (typeof items)[number]).message.offset;
          this.emit('split', {
            topic,
            partition,
            firstOffset,
            size: step.size,
            into: step.into,
            refused: step.refused,
          });
          this.log.warn(
            {
              topic,
              partition,
              firstOffset,
              size: step.size,
              into: step.into,
              refused: step.refused,
            },
            step.singles
              ? 'refused run split into single inputs (split budget spent)'
              : 'refused run split in halves',
          );
        },
      });
      if (report.refused > 0) {
        this.log.warn(
          { topic, partition, ...report },
          'chunk committed after isolating the inputs the broker refused',
        );
      }
      return true;
    } catch (err) {
      if (err instanceof Interrupted) return false;
      throw err;
    }
  }

  /**
   * Commits consecutive inputs of a chunk with their outputs and dead letters
   * in one transaction; throws TransactionRefused or an InfrastructureError.
   */
  private async commitRun(
    topic: string,
    partition: number,
    run: readonly { message: KafkaMessage; processed: ProcessedMessage }[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    const last = run[run.length - 1];
    if (!last) return;
    const outputs = new Map<string, OutgoingMessage[]>();
    let outputCount = 0;
    let deadLetters = 0;
    for (const { processed } of run) {
      for (const { topic: out, message: m } of processed.records) {
        const list = outputs.get(out);
        if (list) list.push(m);
        else outputs.set(out, [m]);
        outputCount += 1;
      }
      if (processed.deadLettered) deadLetters += 1;
    }
    const nextOffset = (BigInt(last.message.offset) + 1n).toString();
    await this.commit(topic, partition, outputs, nextOffset, group);
    this.emit('committed', {
      topic,
      partition,
      inputs: run.length,
      outputs: outputCount,
      deadLetters,
      nextOffset,
      inputTimestamps: run.map((r) => Number(r.message.timestamp)),
    });
  }

  /**
   * Settles one input the broker refused alone, each step smaller than the
   * last, so it ends in a categorized outcome and never loops: its dead
   * letter (RECORD_REFUSED when its own outputs were refused) with its
   * evidence; then a minimal dead letter (headers and the value's
   * reference) with its evidence; then the minimal dead letter alone; then
   * only the input offset, with the value kept in the dead-letter store and
   * an error logged.
   */
  private async isolateRefused(
    topic: string,
    partition: number,
    message: KafkaMessage,
    processed: ProcessedMessage,
    refusal: string,
    attempt: (
      run: readonly { message: KafkaMessage; processed: ProcessedMessage }[],
    ) => Promise<SliceCommit>,
  ): Promise<void> {
    const log = this.log.child({ topic, partition, offset: message.offset });
    const settle = async (
      outcome: 'dead_lettered' | 'minimal' | 'unrecorded',
      records: ProcessedMessage['records'],
      code: string,
      category: ErrorCategory,
    ): Promise<boolean> => {
      const result = await attempt([{ message, processed: { records, deadLettered: true } }]);
      if (!result.committed) return false;
      this.emit('isolated', { topic, partition, offset: message.offset, refusal, outcome });
      if (outcome !== 'unrecorded')
        this.emit('deadLettered', { topic, partition, offset: message.offset, category, code });
      return true;
    };
    let parts = processed.deadLetter;
    if (!processed.deadLettered || !parts) {
      const error = new RecordRefusedError(
        `the broker refused a record of this input's results (${refusal}); the input is dead-lettered instead`,
        { metadata: { refusal } },
      );
      log.warn({ err: error.toJSON() }, 'input isolated: dead-lettering it');
      parts = await this.processor.deadLetterParts(
        topic,
        partition,
        message,
        error,
        1,
        undefined,
        {},
      );
      const dl = await this.processor.fitDeadLetter(parts);
      if (await settle('dead_lettered', [dl, ...parts.evidence], error.code, error.category))
        return;
    }
    const { code, category } = parts.context.error;
    const minimal = await this.processor.fitDeadLetter(parts, 'minimal');
    log.warn({ refusal }, 'dead letter refused: trying the minimal dead letter');
    if (await settle('minimal', [minimal, ...parts.evidence], code, category)) return;
    if (await settle('minimal', [minimal], code, category)) return;
    log.error(
      {
        refusal,
        code,
        category,
        valueRef: minimal.message.headers?.[DLQ_HEADERS.VALUE_REF]?.toString(),
      },
      'the broker refuses even the minimal dead letter: committing the offset alone; the value stays in the dead-letter store and at its source position',
    );
    if (await settle('unrecorded', [], code, category)) return;
    throw new InfrastructureError(
      `the broker refused an offset-only transaction for ${topic}[${partition}]@${message.offset} (${refusal})`,
    );
  }
}
