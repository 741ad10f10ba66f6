import type { Kafka } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import type { ErrorCategory, PipelineError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import type { AvroSerde } from '../serde/avro-serde';
import type { DeadLetterForm, DeadLetterValueStore } from './dead-letter';
import type { HeapProbe, PauseCause, PauseEnd, RssProbe } from './memory-guard';
import type { DeadLetterHook, PartitionPreparer, StageHandler } from './stage-handler';

// The runner's public types, apart from the class, so its units can name the
// options and events without importing the facade that wires them.

/** Identity stamped on dead letters and logs. */
export interface ServiceIdentity {
  stage: string;
  name: string;
  version: string;
}

/** Everything a {@link StageRunner} needs. */
export interface StageRunnerOptions {
  service: ServiceIdentity;
  config: StageRunnerConfig;
  kafka: Kafka;
  serde: AvroSerde;
  handlers: readonly StageHandler<unknown>[];
  logger: GrantLogger;
  /** Extra records produced with every dead letter (the stage's audit event). */
  onDeadLetter?: DeadLetterHook;
  /** RSS source for the memory guard; tests inject pressure through it. */
  rssProbe?: RssProbe;
  /** Live-heap source for the memory guard (heap in use plus external buffers); for tests. */
  heapProbe?: HeapProbe;
  /**
   * Where dead letters too large for the broker keep their value bytes;
   * default: a content-addressed directory at config.deadLetterStore.dir.
   */
  deadLetterStore?: DeadLetterValueStore;
  /** Reloads a stage's state for a partition before its first batch (see {@link PartitionPreparer}). */
  preparePartition?: PartitionPreparer;
}

/** Events a runner emits, for metrics, health and tests. */
export interface StageRunnerEvents {
  /** A transaction committed: outputs, dead letters and the input offset of one chunk. */
  committed: [
    {
      topic: string;
      partition: number;
      inputs: number;
      outputs: number;
      deadLetters: number;
      nextOffset: string;
      /** When each input of the chunk was written (epoch milliseconds), for end-to-end latency. */
      inputTimestamps: number[];
    },
  ];
  /** One message was handled: how it ended and how long its handling (retries included) took. */
  handled: [
    {
      topic: string;
      partition: number;
      outcome: 'processed' | 'dead_lettered' | 'deferred';
      durationMs: number;
    },
  ];
  /**
   * A transaction was aborted: an outage (the chunk will be processed again)
   * or, when `refusal` is set, the broker refused a record of it (the chunk
   * is split to find the input at fault).
   */
  aborted: [{ topic: string; partition: number; error: Error; refusal?: string }];
  /** A refused run of a chunk was split (halves, or single inputs once the budget is spent). */
  split: [
    {
      topic: string;
      partition: number;
      firstOffset: string;
      size: number;
      into: number[];
      refused: number;
    },
  ];
  /**
   * One input was refused alone and dead-lettered: `outcome` says how far it
   * had to go (`dead_lettered`: a dead letter with its evidence; `minimal`:
   * only the dead-letter headers; `unrecorded`: nothing the broker took, the
   * offset committed with the value kept in the dead-letter store).
   */
  isolated: [
    {
      topic: string;
      partition: number;
      offset: string;
      refusal: string;
      outcome: 'dead_lettered' | 'minimal' | 'unrecorded';
    },
  ];
  /** A dead letter did not fit the broker as it was: its value travels by reference, or less. */
  deadLetterShrunk: [
    { topic: string; partition: number; offset: string; form: DeadLetterForm; valueBytes: number },
  ];
  deadLettered: [
    { topic: string; partition: number; offset: string; category: ErrorCategory; code: string },
  ];
  /** A partition's next message is not due: the partition is paused until `untilMs`. */
  deferred: [{ topic: string; partition: number; offset: string; untilMs: number }];
  /** The memory guard paused consumption (from running, or from trickling). */
  paused: [{ rssBytes: number; heapBytes: number; cause: PauseCause; inFlightBytes: number }];
  /**
   * A pause or a trickle ended: `ended` says how (cleared, idle, timeout),
   * `to` whether everything runs again or one message at a time (trickle).
   */
  resumed: [
    {
      rssBytes: number;
      heapBytes: number;
      from: 'paused' | 'trickle';
      to: 'running' | 'trickle';
      ended: PauseEnd;
      lastedMs: number;
    },
  ];
  /** The consumer joined its group (again): a new generation of assignments. */
  groupJoined: [{ generation: number; assignment: Record<string, number[]> }];
  /** The consumer crashed; `restarting` says whether the runner brings it back. */
  crashed: [{ error: Error; restarting: boolean }];
  /**
   * The broker refused this stage's principal or credentials (a missing ACL, a
   * wrong password, an untrusted certificate): the runner stopped for good,
   * since no record is at fault and no retry can succeed. The process exits.
   */
  fatal: [{ error: PipelineError }];
  subscribed: [{ topics: string[] }];
}

/** How far a group's committed offset is behind the end of one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Messages between the committed offset and the partition's end (transaction markers included). */
  lag: number;
}

/** How a unit of the runner reports an event through the runner (its EventEmitter). */
export type RunnerEmit = <K extends keyof StageRunnerEvents>(
  event: K,
  ...args: StageRunnerEvents[K]
) => void;
