import { EventEmitter, setMaxListeners } from 'node:events';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
} from '@grantstream/kafkajs-extended';
import type { PipelineError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import { within } from '../within';
import { kafkaSecurityFailureOf } from '../kafka-client';
import { MemoryControl, chunksOf } from './memory-control';
import type { MemoryMode } from './memory-guard';
import { ChunkScheduler, type ChunkOutcome } from './chunk-scheduler';
import { MessageProcessor } from './message-processor';
import { PartitionTransactions } from './partition-transactions';
import {
  HeartbeatFailed,
  Interrupted,
  PartitionLost,
  sleep,
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
  /** Transactions, fencing and committed offsets of the input partitions (one producer per member). */
  private readonly partitions: PartitionTransactions;
  /** Which message runs when: concurrency within a chunk, deferral, the memory guard's pauses. */
  private readonly scheduler: ChunkScheduler;
  private readonly memory: MemoryControl;
  private memoryTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
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
    this.partitions = new PartitionTransactions({
      kafka: options.kafka,
      config: options.config,
      log: this.log,
      emit: this.relay,
      deadLetters: this.processor,
      offsets: {
        admin: () => this.admin,
        generation: () => this.generation,
        signal: this.stopController.signal,
        ...(options.preparePartition ? { preparePartition: options.preparePartition } : {}),
      },
    });
    this.memory = new MemoryControl({
      memory: options.config.memory,
      maxBytes: options.config.maxBytes,
      logger: this.log,
      ...(options.rssProbe ? { rssProbe: options.rssProbe } : {}),
      ...(options.heapProbe ? { heapProbe: options.heapProbe } : {}),
    });
    this.scheduler = new ChunkScheduler({
      config: options.config,
      emit: this.relay,
      memory: this.memory,
      processor: this.processor,
      signal: this.stopController.signal,
      consumer: () => this.consumer,
      topics: () => this.topics,
      running: () => this.running,
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
      () => this.scheduler.checkMemory(),
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
    this.scheduler.clear();
    const grace = this.options.config.shutdownGraceMs;
    const work = (async () => {
      await this.restarting?.catch(() => undefined);
      await this.consumer?.disconnect();
      await this.partitions.close();
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
    if (this.memory.engaged) this.scheduler.pauseAll();
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
        () => this.partitions.offsets.prepare(topic, partition),
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
          (beatFailed) =>
            this.scheduler.handleChunk(handler, topic, partition, chunk, live, beatFailed),
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
          committed = await this.partitions.commitChunk(
            {
              topic,
              partition,
              group,
              owned: () => !payload.isStale() && generation === this.generation,
              resolveOffset,
              heartbeat,
            },
            results.map((processed, i) => ({ processed, message: chunk[i] as KafkaMessage })),
          );
        } catch (err) {
          // kafkajs rejoins its group on the coordinator's own error.
          if (err instanceof PartitionLost) throw err.kafkaError;
          throw err;
        }
        if (!committed) return;
      }
      if (deferred) {
        this.scheduler.defer(payload, deferred.offset, deferred.untilMs);
        return;
      }
      await heartbeat();
    }
  }
}
