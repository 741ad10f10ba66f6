import type { KafkaMessage } from '@grantstream/kafkajs-extended';
import type { StageMemoryConfig } from '@grantstream/config';
import { InputTooLargeError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import { declaredValueBytes, installBoundedInflation, materializeValue } from './bounded-inflate';
import { InFlight } from './in-flight';
import {
  MemoryGuard,
  processHeap,
  processRss,
  type HeapProbe,
  type MemoryCheck,
  type MemoryMode,
  type RssProbe,
} from './memory-guard';
import { RAW_INPUT, type StageHandler } from './stage-handler';

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round(bytes / MB);

/** What a runner tells its {@link MemoryControl} about its consumer. */
export interface MemoryControlOptions {
  memory: StageMemoryConfig;
  /** The consumer's fetch bound: compressed batches kept for references are bounded by one fetch. */
  maxBytes: number;
  logger: GrantLogger;
  rssProbe?: RssProbe;
  heapProbe?: HeapProbe;
}

/**
 * The memory side of a stage runner: the guard's state, the admission of
 * messages into handling (bytes in flight, trickle, pause), and the bounded
 * inflation of compressed batches. The runner keeps the consumer: it pauses
 * and resumes partitions when {@link check} says so.
 */
export class MemoryControl {
  /** Messages and raw bytes being handled; admission follows the guard's mode. */
  readonly inFlight: InFlight;
  private readonly guard: MemoryGuard;
  private readonly log: GrantLogger;

  constructor(private readonly options: MemoryControlOptions) {
    const m = options.memory;
    this.inFlight = new InFlight(m.maxInFlightBytes);
    this.guard = new MemoryGuard(
      { rss: options.rssProbe ?? processRss, heap: options.heapProbe ?? processHeap },
      {
        pauseAboveRssBytes: m.pauseAboveRssMb * MB,
        resumeBelowRssBytes: m.resumeBelowRssMb * MB,
        pauseAboveHeapBytes: m.pauseAboveHeapMb * MB,
        maxPauseMs: m.maxPauseMs,
      },
      () => ({ bytes: this.inFlight.bytes, messages: this.inFlight.messages }),
    );
    this.log = options.logger;
    installBoundedInflation({
      maxInflationRatio: m.maxInflationRatio,
      maxInputRecordBytes: m.maxInputRecordBytes,
      maxRetainedBytes: options.maxBytes + m.maxInputRecordBytes,
    });
  }

  /** True while the guard holds consumption paused (not while it trickles). */
  get engaged(): boolean {
    return this.guard.engaged;
  }

  /** The guard's mode. */
  get mode(): MemoryMode {
    return this.guard.mode;
  }

  /**
   * One check of the guard: updates admission and logs a pause with its cause,
   * and its end with how it ended. The caller pauses or resumes partitions.
   */
  check(): MemoryCheck {
    const checked = this.guard.check();
    const { transition: t, reading: r } = checked;
    if (t.kind === 'none') return checked;
    this.inFlight.setMode(checked.state.mode);
    const fields = {
      rssMb: mb(r.rssBytes),
      heapMb: mb(r.heapBytes),
      inFlightMessages: r.inFlightMessages,
      inFlightBytes: r.inFlightBytes,
    };
    if (t.kind === 'pause') {
      this.log.warn(
        { ...fields, cause: t.cause, from: t.from },
        `memory pressure (${t.cause}): pausing all partitions`,
      );
    } else {
      const how =
        t.ended === 'cleared'
          ? 'memory below the resume marks'
          : t.ended === 'idle'
            ? 'nothing in flight, so waiting cannot lower RSS'
            : `paused for ${t.lastedMs} ms`;
      this.log[t.ended === 'cleared' ? 'info' : 'warn'](
        { ...fields, ended: t.ended, from: t.from, to: t.to, lastedMs: t.lastedMs },
        t.to === 'running'
          ? `memory pressure ended (${t.ended}): resuming all partitions`
          : `memory pause ended (${t.ended}: ${how}): one message at a time while RSS stays high`,
      );
    }
    return checked;
  }

  /**
   * Handles one message under the memory bounds: waits for admission (bytes
   * in flight, trickle, pause), inflates a value the bounded codec left as a
   * reference, and hands the message to `process`, or to `processOversized`
   * with a handler that dead-letters it when it is larger than the input bound.
   * Rejects with `signal`'s reason when the runner stops while it waits, and
   * with BatchReleasedError when its batch must be fetched again.
   */
  async admitted<T>(
    message: KafkaMessage,
    signal: AbortSignal,
    process: (message: KafkaMessage) => Promise<T>,
    processOversized: (message: KafkaMessage, handler: StageHandler<unknown>) => Promise<T>,
  ): Promise<T> {
    const max = this.options.memory.maxInputRecordBytes;
    const declared = declaredValueBytes(message.value);
    const bytes = Math.min(declared, max) + (message.key?.length ?? 0);
    const release = await this.inFlight.admit(bytes, signal);
    try {
      const materialized = await materializeValue(message.value);
      const recordBytes = materialized.oversized ? materialized.recordBytes : declared;
      if (materialized.oversized || recordBytes > max) {
        return await processOversized(
          { ...message, value: null },
          oversizedHandler(recordBytes, max),
        );
      }
      return await process(
        materialized.value === message.value ? message : { ...message, value: materialized.value },
      );
    } finally {
      release();
    }
  }
}

/**
 * Splits a fetched batch into chunks of at most `maxMessages` messages and, past
 * the first message of each, at most `maxBytes` raw bytes (a value the bounded
 * codec left as a reference counts as the bytes it stands for).
 */
export function* chunksOf<M extends Pick<KafkaMessage, 'key' | 'value'>>(
  messages: readonly M[],
  maxMessages: number,
  maxBytes: number,
): Generator<M[]> {
  let chunk: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (m.key?.length ?? 0) + declaredValueBytes(m.value);
    if (chunk.length > 0 && (chunk.length >= maxMessages || bytes + size > maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** A handler that dead-letters its input as too large, whatever it is (its value is never read). */
function oversizedHandler(recordBytes: number, max: number): StageHandler<unknown> {
  return {
    subscriptions: [],
    input: RAW_INPUT,
    handle: () =>
      Promise.reject(
        new InputTooLargeError(
          `input record of ${recordBytes} bytes is larger than memory.maxInputRecordBytes (${max}); dead-lettered without its value`,
          { metadata: { recordBytes, max } },
        ),
      ),
  };
}
