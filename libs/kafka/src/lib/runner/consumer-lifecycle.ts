import type { Admin, Consumer, EachBatchPayload, Kafka } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import type { PipelineError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import { kafkaSecurityFailureOf } from '../kafka-client';
import { sleep } from './runner-signals';
import { matchesSubscription, type StageHandler } from './stage-handler';
import type { PartitionLag, RunnerEmit } from './stage-runner-types';

/** What a {@link ConsumerLifecycle} needs from the runner. */
export interface ConsumerLifecycleOptions {
  kafka: Pick<Kafka, 'consumer' | 'admin'>;
  config: StageRunnerConfig;
  handlers: readonly StageHandler<unknown>[];
  log: GrantLogger;
  emit: RunnerEmit;
  /** Handles one fetched batch of one partition (the runner's batch flow). */
  onBatch: (payload: EachBatchPayload) => Promise<void>;
  /** Called each time a consumer runs, first or restarted (the memory guard pauses it again). */
  onRunning: () => void;
  /** Stops the whole runner for good (a security failure no retry can mend). */
  stopRunner: () => Promise<void>;
}

/**
 * The consumer's life in its group: connect, resolve the subscriptions
 * (patterns against the topics that exist, again every topicRefreshIntervalMs),
 * subscribe and run; count the generations of the group's joins; bring the
 * consumer back after a crash kafkajs will not recover from, or on a new
 * matching topic; stop for good on a security failure; leave the group.
 * The generation it counts is what tells a batch from a past membership.
 */
export class ConsumerLifecycle {
  private current: Consumer | null = null;
  private adminClient: Admin | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private restarting: Promise<void> | null = null;
  private live = false;
  private joins = 0;
  /** This member's partitions in the current generation. */
  private assignment: Record<string, number[]> = {};
  private subscribed: string[] = [];

  constructor(private readonly options: ConsumerLifecycleOptions) {}

  /** The consumer now running; null before start and between a crash and its restart. */
  get consumer(): Consumer | null {
    return this.current;
  }

  /** The admin client; null before start. */
  get admin(): Admin | null {
    return this.adminClient;
  }

  /** The group generation this member is in, counted by its joins (0 before the first). */
  get generation(): number {
    return this.joins;
  }

  /** True from start until stop. */
  get running(): boolean {
    return this.live;
  }

  /** Topics currently subscribed (patterns resolved). */
  get topics(): readonly string[] {
    return this.subscribed;
  }

  /** Connects the admin and the consumer, subscribes and runs; resolves once the consumer runs. */
  async start(): Promise<void> {
    this.live = true;
    this.adminClient = this.options.kafka.admin();
    await this.adminClient.connect();
    await this.startConsumer();
    if (this.options.handlers.some((h) => h.subscriptions.some((s) => s instanceof RegExp))) {
      this.refreshTimer = setInterval(
        () => void this.refreshTopics(),
        this.options.config.topicRefreshIntervalMs,
      );
    }
  }

  /** Marks the runner stopping: no restart, no refresh from now on. */
  halt(): void {
    this.live = false;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /**
   * Leaves the group: waits out a restart under way, disconnects the consumer
   * (kafkajs lets the open batch finish first), then `between` (the producer),
   * then the admin. Call after {@link halt}.
   */
  async close(between: () => Promise<void>): Promise<void> {
    await this.restarting?.catch(() => undefined);
    await this.current?.disconnect();
    await between();
    await this.adminClient?.disconnect();
  }

  /**
   * The lag of every partition assigned to this member: the partition's end
   * minus the group's committed offset (its start when nothing is committed).
   * Asks the broker; empty when not consuming.
   */
  async consumerLag(): Promise<PartitionLag[]> {
    const admin = this.adminClient;
    const assignment = this.assignment;
    const topics = Object.keys(assignment).filter((t) => (assignment[t] ?? []).length > 0);
    if (!admin || !this.live || topics.length === 0) return [];
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: this.options.config.groupId, topics }),
      Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic))),
    ]);
    const lags: PartitionLag[] = [];
    topics.forEach((topic, i) => {
      const groupOffsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const partition of assignment[topic] ?? []) {
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

  private async resolveTopics(): Promise<string[]> {
    const existing = (await this.adminClient?.listTopics()) ?? [];
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
    const { config: c, log, emit } = this.options;
    this.subscribed = await this.resolveTopics();
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
            this.live && !(e instanceof TypeError) && kafkaSecurityFailureOf(e) === null,
          ),
      },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Synchronous with the join: every partition is prepared again (offset
      // re-read, state reloaded) before its first batch of this generation.
      this.joins += 1;
      this.assignment = payload.memberAssignment;
      emit('groupJoined', { generation: this.joins, assignment: payload.memberAssignment });
      log.info(
        { generation: this.joins, assignment: payload.memberAssignment },
        'joined consumer group',
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const security = kafkaSecurityFailureOf(payload.error);
      if (security) {
        this.fail(security);
        return;
      }
      const restarting = this.live && !payload.restart;
      log.error({ err: payload.error, kafkajsRestarts: payload.restart }, 'consumer crashed');
      emit('crashed', { error: payload.error, restarting: this.live });
      if (restarting) this.scheduleRestart();
    });
    this.current = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.subscribed, fromBeginning: true });
    emit('subscribed', { topics: this.subscribed });
    log.info({ topics: this.subscribed }, 'subscribed');
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: c.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.options.onBatch(payload),
    });
    this.options.onRunning();
  }

  /**
   * Stops for good on a security failure: the broker refused the principal
   * (an ACL) or its credentials. Retrying would loop on the same refusal, and
   * dead-lettering would drain every input into the dead-letter topic for a
   * fault none of them has; an operator must fix the ACLs or the configuration.
   */
  private fail(error: PipelineError): void {
    if (!this.live) return;
    this.options.log.fatal(
      { err: error.toJSON(), groupId: this.options.config.groupId },
      `stopping: ${error.message}`,
    );
    this.options.emit('fatal', { error });
    void this.options.stopRunner();
  }

  /** Recreates the consumer (after a crash kafkajs will not recover from, or a new matching topic). */
  private scheduleRestart(delayMs = this.options.config.restartBackoffMs): void {
    if (this.restarting || !this.live) return;
    this.restarting = (async () => {
      await sleep(delayMs);
      try {
        await this.current?.disconnect().catch(() => undefined);
        if (this.live) await this.startConsumer();
      } catch (err) {
        const security = kafkaSecurityFailureOf(err);
        if (security) {
          this.restarting = null;
          this.fail(security);
          return;
        }
        this.options.log.error({ err }, 'consumer restart failed; trying again');
        this.restarting = null;
        this.scheduleRestart();
        return;
      }
      this.restarting = null;
    })();
  }

  private async refreshTopics(): Promise<void> {
    if (!this.live || this.restarting) return;
    try {
      const topics = await this.resolveTopics();
      if (topics.join('\n') !== this.subscribed.join('\n')) {
        this.options.log.info({ topics }, 'subscription changed; resubscribing');
        this.scheduleRestart(0);
      }
    } catch (err) {
      this.options.log.warn({ err }, 'topic refresh failed');
    }
  }
}
