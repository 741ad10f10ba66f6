import type { schema } from 'avsc';
import { z } from 'zod';
import type { PipelineError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';

/** A decoded input message as a handler sees it. */
export interface InboundMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** The value bytes as consumed (wire header and Avro body): what an audit payload hash covers. */
  raw: Buffer | null;
  headers: Readonly<Record<string, Buffer | undefined>>;
  /** The writer's schema id (the reader schema is the handler's `input.avro`). */
  schemaId: number;
  timestamp: string;
}

/** A record a handler wants produced; the runner Avro-encodes `value` with the topic's latest schema. */
export interface OutboundRecord {
  topic: string;
  key: string | null;
  value: unknown;
  headers?: Record<string, string>;
}

/**
 * What a handler decided for one input: produce these records (in the
 * input's transaction), or wait until the input is due. Giving up is the
 * third decision and is thrown ({@link GaveUpError}), so a result never
 * carries a dead letter. The union lets the type checker refuse a deferral
 * that also produces: a deferred input is handled again when due, and
 * records produced now would be produced twice.
 */
export type HandlerResult = ProduceResult | DeferResult;

/** Produce `records` (possibly none) with the input's offset, in one transaction. */
export interface ProduceResult {
  records: OutboundRecord[];
  /** Never set on a result that produces; see {@link DeferResult}. */
  deferUntil?: undefined;
}

/**
 * The input is not due before `deferUntil`, epoch milliseconds: a retry
 * waiting out its delay, a status poll not yet due. The runner commits the
 * chunk up to the message before it, pauses the partition and hands the
 * message again at that time, so waiting costs no slot and blocks no other
 * partition. Inputs of one partition should come in due order (one delay per
 * topic), as later ones wait behind it.
 */
export interface DeferResult {
  /** Always empty: a deferred input produces nothing until it is handled again. */
  records: readonly [];
  deferUntil: number;
}

/**
 * Thrown by a handler that gives up on its input after decisions it must keep
 * (the audit events of the attempts it made): the input is dead-lettered at
 * once, whatever `error` says about retrying; `records` are produced in the
 * dead letter's transaction; and `headers` (the new head of the grant's trail)
 * stand in for the input's when the dead-letter hook chains its event, so the
 * DEAD_LETTER event follows the attempts instead of forking the trail.
 * `attempts`, when given, is every attempt made on the input: the handler's
 * own, retried in place, and those its input carries from earlier rounds (a
 * retry tier's record, a rescheduled poll). The dead letter's attempts
 * header and its event report it instead of the runner's count of calls to
 * the handler, so they agree with the reason, which names the same count.
 */
export class GaveUpError extends Error {
  constructor(
    readonly error: PipelineError,
    readonly records: readonly OutboundRecord[],
    readonly headers: Readonly<Record<string, string>>,
    readonly attempts?: number,
  ) {
    super(error.message);
    this.name = 'GaveUpError';
  }
}

/** What the runner gives a handler besides the message. */
export interface HandlerContext {
  /** 1 on the first try; higher when a retriable failure is being retried. */
  attempt: number;
  /** Aborted when the runner stops or the partition is taken away: stop early, nothing will be committed. */
  signal: AbortSignal;
  log: GrantLogger;
}

/**
 * The reader contract of a handler's input: Avro reader schema and a zod
 * contract (may be stricter). `avro: null` takes the value's bytes as they are
 * (a topic of foreign bytes, such as the dead-letter topic): the handler gets
 * `value` = the raw bytes and `schemaId` -1, and nothing is decoded.
 */
export interface InputContract<T> {
  avro: schema.RecordType | null;
  zod: z.ZodType<T>;
}

/** The input contract of a handler that reads values as raw bytes (see {@link InputContract}). */
export const RAW_INPUT: InputContract<Buffer | null> = {
  avro: null,
  zod: z.custom<Buffer | null>((v) => v === null || Buffer.isBuffer(v), 'expected raw bytes'),
};

/**
 * One stage's handling of the topics it subscribes to. The runner owns
 * everything else: decoding, retries, dead letters, transactions, commits.
 * A handler throws a retriable PipelineError for a transient failure and a
 * non-retriable one (or any other error) for a permanent one.
 */
export interface StageHandler<T = unknown> {
  /** Topic names and patterns; a pattern also picks up topics created later. */
  subscriptions: readonly (string | RegExp)[];
  input: InputContract<T>;
  handle(message: InboundMessage<T>, context: HandlerContext): Promise<HandlerResult>;
}

/**
 * Called by the runner for an input partition before the first message it
 * handles from it, each time it (re)starts the partition's transactional
 * producer: in every new group generation and after an aborted transaction,
 * always after the previous owner has been fenced and before the committed
 * offset is read. A stage that keeps state in a changelog it writes in its own
 * transactions reloads the partition's state here, so the state it decides on
 * is exactly what committed with the offsets it resumes from. A rejection is
 * retried by kafkajs like any failed batch (nothing of the partition is handled).
 */
export type PartitionPreparer = (
  partition: { topic: string; partition: number },
  signal: AbortSignal,
) => Promise<void>;

/** A message the runner is dead-lettering, as a stage's {@link DeadLetterHook} sees it. */
export interface DeadLetterFailure {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The input value exactly as consumed (what the dead letter carries). */
  value: Buffer | null;
  headers: Readonly<Record<string, Buffer | undefined>>;
  error: PipelineError;
  attempts: number;
  /** The decoded, contract-checked input when the failure came after decoding; undefined otherwise. */
  decoded: unknown;
}

/** What a {@link DeadLetterHook} adds to a dead letter. */
export interface DeadLetterEvidence {
  /** Records produced in the dead letter's transaction (its audit event). */
  records: OutboundRecord[];
  /**
   * Headers added to the dead letter itself (the new head of the grant's
   * audit chain, so whoever acts on the dead letter chains after its event).
   */
  headers?: Record<string, string>;
}

/**
 * Records a stage produces together with each dead letter, in the same
 * transaction (its audit event): a dead letter and its evidence are never
 * separated. Called for any input, including undecodable bytes, so it must
 * not assume a decoded value; if it throws, the dead letter is still produced
 * and the failure is logged.
 */
export type DeadLetterHook = (failure: DeadLetterFailure) => DeadLetterEvidence;

/** True when `topic` is the subscription's name or matches its pattern. */
export function matchesSubscription(subscription: string | RegExp, topic: string): boolean {
  if (typeof subscription === 'string') return subscription === topic;
  // A fresh RegExp without g/y: those flags make test() stateful.
  return new RegExp(subscription.source, subscription.flags.replace(/[gy]/g, '')).test(topic);
}

/** True when `topic` is one of the handler's subscriptions. */
export function subscribes(handler: StageHandler<unknown>, topic: string): boolean {
  return handler.subscriptions.some((s) => matchesSubscription(s, topic));
}
