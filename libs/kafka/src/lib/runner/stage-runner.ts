import { EventEmitter, setMaxListeners } from 'node:events';
import type { EachBatchPayload, KafkaMessage } from '@grantstream/kafkajs-extended';
import type { GrantLogger } from '@grantstream/logging';
import { within } from '../within';
import { ChunkScheduler, type ChunkOutcome } from './chunk-scheduler';
import { ConsumerLifecycle } from './consumer-lifecycle';
import { MemoryControl, chunksOf } from './memory-control';
import type { MemoryMode } from './memory-guard';
import { MessageProcessor } from './message-processor';
import { PartitionTransactions } from './partition-transactions';
import { HeartbeatFailed, Interrupted, PartitionLost, withHeartbeats } from './runner-signals';
import { subscribes, type StageHandler } from './stage-handler';
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
 *
 * The runner is the facade over four units and keeps only a batch's flow
 * (prepare, skip what a previous owner committed, chunk, handle, commit,
 * defer): ConsumerLifecycle (the consumer in its group), MessageProcessor
 * (one message to its records or dead letter), ChunkScheduler (what runs
 * when: concurrency, deferral, memory pauses) and PartitionTransactions
 * (commits, refusals and fencing, with CommittedOffsets).
 */
export class StageRunner extends EventEmitter<StageRunnerEvents> {
  private readonly lifecycle: ConsumerLifecycle;
  /** Transactions, fencing and committed offsets of the input partitions (one producer per member). */
  private readonly partitions: PartitionTransactions;
  /** Which message runs when: concurrency within a chunk, deferral, the memory guard's pauses. */
  private readonly scheduler: ChunkScheduler;
  /** Decode, contract, handle, encode and dead letters of one message. */
  private readonly processor: MessageProcessor;
  private readonly memory: MemoryControl;
  private memoryTimer: NodeJS.Timeout | null = null;
  private readonly stopController = new AbortController();
  private readonly log: GrantLogger;
  /**
   * The runner's units report through the runner's own events. EventEmitter's
   * typed emit cannot take a generic key's tuple; RunnerEmit ties them.
   */
  private readonly relay: RunnerEmit = (event, ...args) => {
    (this as unknown as EventEmitter).emit(event, ...args);
  };

  constructor(private readonly options: StageRunnerOptions) {
    super();
    const { config } = options;
    this.log = options.logger.child({ stage: options.service.stage, group: config.groupId });
    this.lifecycle = new ConsumerLifecycle({
      kafka: options.kafka,
      config,
      handlers: options.handlers,
      log: this.log,
      emit: this.relay,
      onBatch: (payload) => this.onBatch(payload),
      onRunning: () => {
        if (this.memory.engaged) this.scheduler.pauseAll();
      },
      stopRunner: () => this.stop(),
    });
    this.processor = new MessageProcessor({
      service: options.service,
      config,
      serde: options.serde,
      log: this.log,
      signal: this.stopController.signal,
      emit: this.relay,
      ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
      ...(options.deadLetterStore ? { deadLetterStore: options.deadLetterStore } : {}),
    });
    this.partitions = new PartitionTransactions({
      kafka: options.kafka,
      config,
      log: this.log,
      emit: this.relay,
      deadLetters: this.processor,
      offsets: {
        admin: () => this.lifecycle.admin,
        generation: () => this.lifecycle.generation,
        signal: this.stopController.signal,
        ...(options.preparePartition ? { preparePartition: options.preparePartition } : {}),
      },
    });
    this.memory = new MemoryControl({
      memory: config.memory,
      maxBytes: config.maxBytes,
      logger: this.log,
      ...(options.rssProbe ? { rssProbe: options.rssProbe } : {}),
      ...(options.heapProbe ? { heapProbe: options.heapProbe } : {}),
    });
    this.scheduler = new ChunkScheduler({
      config,
      emit: this.relay,
      memory: this.memory,
      processor: this.processor,
      signal: this.stopController.signal,
      consumer: () => this.lifecycle.consumer,
      topics: () => this.lifecycle.topics,
      running: () => this.lifecycle.running,
    });
    // Every handler in flight may listen for the stop (a portal call, a limiter
    // wait): a few listeners per message handled at once, not a leak.
    const { messageConcurrency, partitionsConsumedConcurrently } = config;
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
    return this.lifecycle.topics;
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
    const paused = this.lifecycle.consumer?.paused() ?? [];
    return paused.reduce((n, t) => n + t.partitions.length, 0);
  }

  /**
   * The lag of every partition assigned to this member: the partition's end
   * minus the group's committed offset (its start when nothing is committed).
   * Asks the broker; empty when not consuming.
   */
  consumerLag(): Promise<PartitionLag[]> {
    return this.lifecycle.consumerLag();
  }

  /** Connects, subscribes and starts consuming; resolves once the consumer runs. */
  async start(): Promise<void> {
    if (this.lifecycle.running) return;
    await this.lifecycle.start();
    this.memoryTimer = setInterval(
      () => this.scheduler.checkMemory(),
      this.options.config.memory.checkIntervalMs,
    );
  }

  /**
   * Stops consuming: the open chunk either commits or aborts (never half), the
   * consumer leaves its group, producers disconnect. Bounded by shutdownGraceMs.
   */
  async stop(): Promise<void> {
    if (!this.lifecycle.running) return;
    this.lifecycle.halt();
    this.stopController.abort();
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.scheduler.clear();
    const grace = this.options.config.shutdownGraceMs;
    const work = this.lifecycle.close(() => this.partitions.close());
    const outcome = await within(
      work.then(() => 'done' as const),
      grace,
      'timeout' as const,
    );
    if (outcome === 'timeout') this.log.warn({ graceMs: grace }, 'shutdown grace period ran out');
    else this.log.info('stage runner stopped');
  }

  private handlerFor(topic: string): StageHandler<unknown> | undefined {
    return this.options.handlers.find((h) => subscribes(h, topic));
  }

  /**
   * One fetched batch of one partition: prepare the partition in this
   * generation, skip what a previous owner committed, then chunk by chunk
   * handle (ChunkScheduler) and commit (PartitionTransactions), stopping at
   * a deferral. Errors kafkajs must see (a failed heartbeat, a fenced commit)
   * are rethrown as the broker's own, so it rejoins the group.
   */
  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const resolveOffset = (offset: string) => payload.resolveOffset(offset);
    const heartbeat = () => payload.heartbeat();
    const handler = this.handlerFor(topic);
    const live = () =>
      payload.isRunning() && !payload.isStale() && this.lifecycle.running && !this.memory.engaged;
    if (!handler || batch.messages.length === 0 || !live()) return;

    // The membership the batch was fetched in: a commit carrying it is
    // refused once the group has moved on (KIP-447). Taken before anything
    // awaits, so a rejoin meanwhile cannot lend the batch a newer generation.
    const generation = this.lifecycle.generation;
    const group = this.lifecycle.consumer?.groupMetadata() ?? null;
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
    if (generation !== this.lifecycle.generation || payload.isStale()) return;
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
              owned: () => !payload.isStale() && generation === this.lifecycle.generation,
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
