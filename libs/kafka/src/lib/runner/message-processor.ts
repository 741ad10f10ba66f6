import type { KafkaMessage } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import { DLQ_HEADERS } from '@grantstream/contracts';
import {
  ContractViolationError,
  RecordTooLargeError,
  UnexpectedHandlerError,
  isPipelineError,
  type PipelineError,
} from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import { ContentAddressedFileStore, type StoredBytes } from '@grantstream/storage';
import type { AvroSerde } from '../serde/avro-serde';
import { headersOf, type OutgoingMessage } from '../topic-io';
import { backoffDelay } from './backoff';
import { oversizedRecordSource } from './bounded-inflate';
import {
  fitDeadLetter,
  type DeadLetterContext,
  type DeadLetterForm,
  type DeadLetterValueStore,
  type RawInput,
} from './dead-letter';
import { extractRecord } from './oversized-record';
import { messageBytes } from './produce-requests';
import { Interrupted, sleep } from './runner-signals';
import {
  GaveUpError,
  type DeadLetterFailure,
  type DeadLetterHook,
  type InboundMessage,
  type OutboundRecord,
  type StageHandler,
} from './stage-handler';
import type { RunnerEmit, ServiceIdentity } from './stage-runner-types';

/** An encoded record ready for a transaction. */
export interface EncodedRecord {
  topic: string;
  message: OutgoingMessage;
}

/** What handling one message gave: records to produce, or a due time to wait for. */
export interface ProcessedMessage {
  records: EncodedRecord[];
  deadLettered: boolean;
  /** Set when the message is not due yet; see {@link DeferResult}. */
  deferUntil?: number;
  /** What built the dead letter, so a smaller one can be made if the broker refuses it. */
  deadLetter?: DeadLetterParts;
}

/** The makings of one dead letter: the input, why it failed, and the stage's evidence. */
export interface DeadLetterParts {
  input: RawInput;
  context: DeadLetterContext;
  extraHeaders: Record<string, string>;
  evidence: EncodedRecord[];
}

/** What a {@link MessageProcessor} needs from the runner. */
export interface MessageProcessorOptions {
  service: ServiceIdentity;
  config: StageRunnerConfig;
  serde: Pick<AvroSerde, 'decodeAs' | 'assertSubject' | 'encode'>;
  log: GrantLogger;
  /** Aborted when the runner stops: handlers see it, and nothing handled after it commits. */
  signal: AbortSignal;
  emit: RunnerEmit;
  onDeadLetter?: DeadLetterHook;
  /** Default: a content-addressed directory at config.deadLetterStore.dir, made on first use. */
  deadLetterStore?: DeadLetterValueStore;
}

function asPipelineError(err: unknown): PipelineError {
  if (isPipelineError(err)) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new UnexpectedHandlerError(`handler failed: ${e.message}`, { cause: e });
}

/**
 * One message from its bytes to the records its transaction produces:
 * decode, contract check, the handler (transient failures retried with
 * backoff), encode and size checks; a permanent failure becomes the
 * message's dead letter, sized for the broker, with the stage's evidence.
 * Knows nothing of partitions' ownership or transactions: a stop or a lost
 * partition reaches it only as the signal and `live()`.
 */
export class MessageProcessor {
  private store: DeadLetterValueStore | null = null;
  /** The dead-letter store, made on first use: a stage that never shrinks a dead letter needs no directory. */
  readonly valueStore: Required<DeadLetterValueStore> = {
    put: (bytes) => this.deadLetterStore().put(bytes),
    putStreamed: (fill) => {
      const store = this.deadLetterStore();
      if (!store.putStreamed)
        return Promise.reject(new Error('the dead-letter store takes no streams'));
      return store.putStreamed(fill);
    },
  };

  constructor(private readonly options: MessageProcessorOptions) {}

  /**
   * Decodes, validates and handles one message, retrying transient failures
   * with backoff. Returns the encoded records to produce, or the message's
   * dead letter for a permanent failure. Never lets a permanent error escape;
   * throws Interrupted when the runner stops or `live()` turns false.
   */
  async process(
    handler: StageHandler<unknown>,
    topic: string,
    partition: number,
    message: KafkaMessage,
    live: () => boolean,
    storedValue?: StoredBytes,
  ): Promise<ProcessedMessage> {
    const { config: c, serde, signal } = this.options;
    const headers = headersOf(message.headers);
    // Built only when something logs: a pino child per message costs more than
    // the Avro decode on the hot path.
    let child: GrantLogger | undefined;
    const log = () =>
      (child ??= this.options.log.child({ topic, partition, offset: message.offset }));
    let decodedInput: unknown;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { avro } = handler.input;
        const decoded = avro
          ? await serde.decodeAs(message.value, avro)
          : { value: message.value, schemaId: -1 };
        if (avro) await serde.assertSubject(decoded.schemaId, topic);
        const parsed = handler.input.zod.safeParse(decoded.value);
        if (!parsed.success) {
          throw new ContractViolationError(
            `record breaks the ${avro?.name ?? 'raw input'} contract: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
          );
        }
        decodedInput = parsed.data;
        const inbound: InboundMessage<unknown> = {
          topic,
          partition,
          offset: message.offset,
          key: message.key ? message.key.toString() : null,
          value: parsed.data,
          raw: message.value,
          headers,
          schemaId: decoded.schemaId,
          timestamp: message.timestamp,
        };
        const result = await handler.handle(inbound, {
          attempt,
          signal,
          get log() {
            return log();
          },
        });
        if (result.deferUntil !== undefined) {
          // The type rules this out; a handler built around a cast may not.
          if (result.records.length > 0)
            throw new UnexpectedHandlerError(
              'a handler result defers the message and also has records; a deferred message produces nothing',
            );
          return { records: [], deadLettered: false, deferUntil: result.deferUntil };
        }
        const records = await this.encode(result);
        this.assertRecordSizes(records);
        return { records, deadLettered: false };
      } catch (err) {
        // Stopping aborts the handlers' signal; whatever a handler then throws
        // (an AbortError, a failed read) says nothing about the input: the
        // chunk is left uncommitted and is processed again after a restart.
        if (err instanceof Interrupted || signal.aborted) throw new Interrupted();
        const gaveUp = err instanceof GaveUpError ? err : null;
        const error = asPipelineError(gaveUp ? gaveUp.error : err);
        const infrastructure = error.category === 'INFRASTRUCTURE';
        if (gaveUp || !error.retriable || (!infrastructure && attempt >= c.retry.maxAttempts)) {
          log().warn({ err: error.toJSON(), attempt }, 'dead-lettering message');
          this.options.emit('deadLettered', {
            topic,
            partition,
            offset: message.offset,
            category: error.category,
            code: error.code,
          });
          const kept = gaveUp ? await this.encode(gaveUp) : [];
          // A handler that gave up counts every attempt (its own in place, and
          // those its input carries); this loop counts only calls to it.
          const attempts = gaveUp?.attempts ?? attempt;
          const extra = gaveUp ? headersOf(gaveUp.headers) : {};
          const parts = await this.deadLetterParts(
            topic,
            partition,
            message,
            error,
            attempts,
            decodedInput,
            extra,
            storedValue,
          );
          parts.evidence = [...kept, ...parts.evidence];
          // Sized for the broker up front: a dead letter it refuses would fail the chunk.
          const dl = await this.fitDeadLetter(parts);
          return { records: [dl, ...parts.evidence], deadLettered: true, deadLetter: parts };
        }
        // Transient: the input is not at fault. Infrastructure outages retry
        // until they end; other retriable failures within the attempt budget.
        const delay = backoffDelay(c.retry, attempt);
        log().warn({ err: error.toJSON(), attempt, delayMs: delay }, 'transient failure; retrying');
        await sleep(delay);
        if (!live()) throw new Interrupted();
      }
    }
  }

  /**
   * An input the bounded gzip codec left out as larger than the input bound
   * (its value never inflated into memory, its key and headers dropped from
   * the stand-in): before it is dead-lettered, the record is read back from
   * its retained batch as a stream, the value into the dead-letter store, so
   * the dead letter keeps the key, the headers and a reference to the bytes.
   * When the batch is gone or the store fails, the dead letter names the
   * source position only.
   */
  async processOversized(
    handler: StageHandler<unknown>,
    topic: string,
    partition: number,
    original: KafkaMessage,
    standIn: KafkaMessage,
    live: () => boolean,
  ): Promise<ProcessedMessage> {
    const source = oversizedRecordSource(original.value);
    if (!source) return this.process(handler, topic, partition, standIn, live);
    const max = this.options.config.maxRecordBytes;
    try {
      let extracted: Awaited<ReturnType<typeof extractRecord>> | undefined;
      const stored = await this.valueStore.putStreamed(async (write) => {
        extracted = await extractRecord(source.compressed, source.index, write, {
          maxKeyBytes: max,
          maxHeaderBytes: max,
        });
      });
      if (!extracted) throw new Error('the record was not read');
      const restored = {
        ...standIn,
        key: extracted.key,
        headers: extracted.headers,
      } as KafkaMessage;
      this.options.log.warn(
        {
          topic,
          partition,
          offset: original.offset,
          valueBytes: stored.size,
          valueRef: stored.uri,
        },
        'input too large to hold: its value was streamed into the dead-letter store',
      );
      return await this.process(
        handler,
        topic,
        partition,
        restored,
        live,
        extracted.nullValue ? undefined : stored,
      );
    } catch (err) {
      this.options.log.error(
        { err, topic, partition, offset: original.offset },
        'an input too large to hold could not be kept in the dead-letter store; its dead letter names the source position only',
      );
      return this.process(handler, topic, partition, standIn, live);
    }
  }

  /**
   * The stage's evidence and the context of one input's dead letter.
   * `extra` headers (a handler's new trail head) stand in for the input's
   * when the stage's hook chains its event; the dead letter keeps the input's.
   */
  async deadLetterParts(
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: PipelineError,
    attempts: number,
    decoded: unknown,
    extra: Readonly<Record<string, Buffer | undefined>>,
    storedValue?: StoredBytes,
  ): Promise<DeadLetterParts> {
    const { service } = this.options;
    const headers = headersOf(message.headers);
    const evidence = await this.deadLetterEvidence({
      topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString() : null,
      value: message.value,
      headers: { ...headers, ...extra },
      error,
      attempts,
      decoded,
    });
    return {
      input: {
        key: message.key,
        value: message.value,
        headers,
        ...(storedValue ? { stored: storedValue } : {}),
      },
      context: {
        stage: service.stage,
        service: `${service.name}@${service.version}`,
        topic,
        partition,
        offset: message.offset,
        attempts,
        error,
        failedAt: new Date(),
      },
      extraHeaders: evidence.headers,
      evidence: evidence.records,
    };
  }

  /**
   * A dead letter sized for the broker (see fitDeadLetter in dead-letter.ts),
   * as the record to produce; logs and reports when it had to shrink.
   */
  async fitDeadLetter(parts: DeadLetterParts, atLeast?: DeadLetterForm): Promise<EncodedRecord> {
    const { topic, partition, offset } = parts.context;
    const { config, log, emit } = this.options;
    const fitted = await fitDeadLetter(parts.input, parts.context, parts.extraHeaders, {
      maxRecordBytes: config.maxRecordBytes,
      store: this.valueStore,
      ...(atLeast ? { atLeast } : {}),
    });
    if (fitted.form !== 'inline') {
      const valueBytes = parts.input.value?.length ?? 0;
      emit('deadLetterShrunk', { topic, partition, offset, form: fitted.form, valueBytes });
      const ref = fitted.message.headers?.[DLQ_HEADERS.VALUE_REF]?.toString();
      if (fitted.storeError)
        log.error(
          { err: fitted.storeError, topic, partition, offset, form: fitted.form, valueBytes },
          'dead-letter store failed: the dead letter names the value by hash only; the bytes stay at the source position',
        );
      else
        log.warn(
          { topic, partition, offset, form: fitted.form, valueBytes, valueRef: ref },
          'dead letter too large for the broker: its value travels by reference',
        );
    }
    return { topic: config.deadLetterTopic, message: fitted.message };
  }

  private deadLetterStore(): DeadLetterValueStore {
    return (this.store ??=
      this.options.deadLetterStore ??
      new ContentAddressedFileStore(this.options.config.deadLetterStore.dir));
  }

  /** The stage's records and headers for a dead letter; a failing hook costs the evidence, never the dead letter. */
  private async deadLetterEvidence(failure: DeadLetterFailure): Promise<{
    records: EncodedRecord[];
    headers: Record<string, string>;
  }> {
    const hook = this.options.onDeadLetter;
    if (!hook) return { records: [], headers: {} };
    try {
      const evidence = hook(failure);
      return { records: await this.encode(evidence), headers: evidence.headers ?? {} };
    } catch (err) {
      this.options.log.error(
        { err, topic: failure.topic, partition: failure.partition, offset: failure.offset },
        'dead-letter hook failed; the dead letter is produced without its extra records',
      );
      return { records: [], headers: {} };
    }
  }

  /**
   * A record the broker would refuse would fail its whole chunk's transaction
   * on every retry, stalling the partition: refuse it here, where it costs
   * only its own input (dead-lettered).
   */
  private assertRecordSizes(records: readonly EncodedRecord[]): void {
    const max = this.options.config.maxRecordBytes;
    for (const { topic, message } of records) {
      const size = messageBytes(message);
      if (size > max) {
        throw new RecordTooLargeError(
          `an output record for ${topic} is ${size} bytes; records are limited to ${max} bytes`,
          { metadata: { topic, size, max } },
        );
      }
    }
  }

  private async encode(result: { records: readonly OutboundRecord[] }): Promise<EncodedRecord[]> {
    return Promise.all(
      result.records.map(async (r) => ({
        topic: r.topic,
        message: {
          key: r.key,
          value: await this.options.serde.encode(r.topic, r.value),
          headers: r.headers ?? {},
        },
      })),
    );
  }
}
