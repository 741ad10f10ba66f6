import type { Consumer, EachBatchPayload, KafkaMessage } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import { BatchReleasedError } from './bounded-inflate';
import type { MemoryControl } from './memory-control';
import type { MessageProcessor, ProcessedMessage } from './message-processor';
import { Interrupted, tpKey } from './runner-signals';
import type { StageHandler } from './stage-handler';
import type { RunnerEmit } from './stage-runner-types';

/** A chunk's handled prefix, and the message it stopped at because it is not due. */
export interface ChunkOutcome {
  results: ProcessedMessage[];
  deferred: { offset: string; untilMs: number } | null;
}

/** The consumer calls scheduling makes: pause, rewind, resume. */
export type SchedulingConsumer = Pick<Consumer, 'pause' | 'resume' | 'seek'>;

/** What a {@link ChunkScheduler} needs from the runner. */
export interface ChunkSchedulerOptions {
  config: Pick<StageRunnerConfig, 'messageConcurrency'>;
  emit: RunnerEmit;
  memory: Pick<MemoryControl, 'admitted' | 'check' | 'engaged'>;
  processor: Pick<MessageProcessor, 'process' | 'processOversized'>;
  /** Aborted when the runner stops: a message waiting for admission is not handled. */
  signal: AbortSignal;
  /** The current consumer; null between a crash and its restart. */
  consumer: () => SchedulingConsumer | null;
  /** The subscribed topics, paused and resumed whole by the memory guard. */
  topics: () => readonly string[];
  running: () => boolean;
}

/**
 * Which message is handled when: a chunk's messages run `messageConcurrency`
 * at a time under the memory guard's admission; the first message not due
 * yet ends the chunk and parks its partition until it is due; the memory
 * guard pauses and resumes every partition at once. A paused partition holds
 * no slot of partitionsConsumedConcurrently, so waiting costs nothing elsewhere.
 */
export class ChunkScheduler {
  private readonly deferTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: ChunkSchedulerOptions) {}

  /**
   * Handles a chunk's messages, `messageConcurrency` at a time, and returns
   * their results in input order up to the first message that is not due yet
   * (see {@link DeferResult}). Work started on later messages
   * is discarded: it is done again once the partition resumes, which the
   * handlers that defer (retry tiers, polling) make safe. Throws Interrupted
   * when the runner stops or the batch must be fetched again.
   */
  async handleChunk(
    handler: StageHandler<unknown>,
    topic: string,
    partition: number,
    chunk: KafkaMessage[],
    live: () => boolean,
    beatFailed: () => boolean,
  ): Promise<ChunkOutcome> {
    const { memory, processor, signal, emit } = this.options;
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
        const processed = await memory
          .admitted(
            message,
            signal,
            (m) => {
              // A value inflated from a reference stands in the chunk from now
              // on: a dead letter made at commit (isolation) carries its bytes.
              chunk[index] = m;
              return processor.process(handler, topic, partition, m, live);
            },
            (m, tooLarge) =>
              processor.processOversized(tooLarge, topic, partition, message, m, live),
          )
          .catch((err: unknown) => {
            // A stop while waiting for admission, or a batch to be fetched again: nothing commits.
            if (err instanceof BatchReleasedError || signal.aborted) throw new Interrupted();
            throw err;
          });
        emit('handled', {
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
  defer(payload: Pick<EachBatchPayload, 'batch' | 'pause'>, offset: string, untilMs: number): void {
    const { topic, partition } = payload.batch;
    const consumer = this.options.consumer();
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
        if (this.options.running() && !this.options.memory.engaged)
          consumer.resume([{ topic, partitions: [partition] }]);
      }, delay),
    );
    this.options.emit('deferred', { topic, partition, offset, untilMs });
  }

  /** Drops every pending resume (the runner stops). */
  clear(): void {
    for (const timer of this.deferTimers.values()) clearTimeout(timer);
    this.deferTimers.clear();
  }

  /** One memory check (see MemoryControl): pauses or resumes every partition as the guard says. */
  checkMemory(): void {
    const { transition: t, reading } = this.options.memory.check();
    const { rssBytes, heapBytes } = reading;
    if (t.kind === 'pause') {
      this.pauseAll();
      this.options.emit('paused', {
        rssBytes,
        heapBytes,
        cause: t.cause,
        inFlightBytes: reading.inFlightBytes,
      });
    } else if (t.kind === 'resume') {
      // Trickling consumes (admission lets one message in at a time): only a
      // pause holds the partitions.
      if (t.from === 'paused')
        this.options.consumer()?.resume(this.options.topics().map((topic) => ({ topic })));
      this.options.emit('resumed', {
        rssBytes,
        heapBytes,
        from: t.from,
        to: t.to,
        ended: t.ended,
        lastedMs: t.lastedMs,
      });
    }
  }

  /** Pauses every subscribed topic (memory pressure; also after a restart while it lasts). */
  pauseAll(): void {
    this.options.consumer()?.pause(this.options.topics().map((topic) => ({ topic })));
  }
}
