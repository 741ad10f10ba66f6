import 'reflect-metadata';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { Kafka } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import { ConfigError, PipelineError, type ErrorCategory } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import type { AvroSerde } from '../serde/avro-serde';
import type { RssProbe } from '../runner/memory-guard';
import type {
  DeadLetterHook,
  HandlerContext,
  HandlerResult,
  InboundMessage,
  InputContract,
  PartitionPreparer,
  StageHandler,
} from '../runner/stage-handler';
import {
  StageRunner,
  type ServiceIdentity,
  type StageRunnerEvents,
  type StageRunnerOptions,
} from '../runner/stage-runner';
import { StageContext } from './stage-context';
import { STAGE_INPUT_EXTRA, configuredSubscriptionName } from './stage-event.decorator';

/** The part of a {@link StageRunner} the transport drives; tests substitute a fake. */
export interface StageRunnerLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  on<K extends keyof StageRunnerEvents>(
    event: K,
    listener: (...args: StageRunnerEvents[K]) => void,
  ): unknown;
}

/** Builds the runner once Nest has registered the handlers; the default builds a {@link StageRunner}. */
export type StageRunnerFactory = (options: StageRunnerOptions) => StageRunnerLike;

/** Everything {@link StageTransport} needs besides the handlers, which Nest supplies. */
export interface StageTransportOptions {
  service: ServiceIdentity;
  config: StageRunnerConfig;
  /**
   * Usually the process's PlatformClients. They stay the caller's: the
   * transport neither connects nor closes them, so they may be shared with
   * providers (audit, topic reads) and closed after `app.close()`.
   */
  clients: { kafka: Kafka; serde: AvroSerde };
  logger: GrantLogger;
  rssProbe?: RssProbe;
  /** Extra records produced with every dead letter (the stage's audit event). */
  onDeadLetter?: DeadLetterHook;
  /** The stage's {@link PartitionPreparer}, when it keeps state per input partition. */
  preparePartition?: PartitionPreparer;
  createRunner?: StageRunnerFactory;
  /**
   * Values of the {@link configuredSubscription} patterns of the handlers, by
   * setting name (e.g. `ingest.topicPattern`), from the validated configuration.
   */
  subscriptions?: Readonly<Record<string, string | RegExp>>;
}

/** Runner events a transport relays to `on()` listeners (metrics, health probes). */
export type StageTransportEvents = {
  [K in keyof StageRunnerEvents]: (...args: StageRunnerEvents[K]) => void;
};

/** What {@link StageTransport.status} emits. */
export type StageTransportStatus = 'connecting' | 'connected' | 'stopping' | 'disconnected';

/** A stage method returned something other than a HandlerResult: a bug, so never retried. */
export class HandlerResultError extends PipelineError {
  readonly code = 'HANDLER_RESULT_INVALID';
  readonly category: ErrorCategory = 'INTERNAL';
  readonly retriable = false;
}

const REGEX_PATTERN = /^\/(.+)\/([a-z]*)$/s;

/**
 * The runner subscription a Nest pattern stands for. Nest patterns are
 * strings, so a RegExp is written `/source/flags` (what `String(regex)` gives
 * and what `@StageEvent(/.../)` stores); anything else is a topic name. Kafka
 * topic names cannot contain '/', so the two never collide. `g` and `y` are
 * refused: they make `test()` stateful, so a topic would match only every other time.
 */
export function parseSubscription(pattern: string): string | RegExp {
  const m = REGEX_PATTERN.exec(pattern);
  if (!m) return pattern;
  const [, source = '', flags = ''] = m;
  if (/[gy]/.test(flags))
    throw new ConfigError([`stage pattern ${pattern}: flags g and y are not allowed`]);
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new ConfigError([`stage pattern ${pattern}: ${(err as Error).message}`], { cause: err });
  }
}

const isHandlerResult = (v: unknown): v is HandlerResult =>
  typeof v === 'object' && v !== null && Array.isArray((v as HandlerResult).records);

/**
 * A NestJS custom transport over {@link StageRunner}: `@StageEvent` methods
 * of controllers become the runner's handlers, so Nest provides dependency
 * injection and lifecycle while the runner owns commits, transactions,
 * retries, dead letters and backpressure.
 *
 * Lifecycle: `app.listen()` starts the runner (resolves once it consumes);
 * `app.close()` stops it first, committing or aborting the open chunk, and only
 * then runs the providers' destroy and shutdown hooks. With
 * `app.enableShutdownHooks()`, Nest runs `onModuleDestroy` BEFORE closing the
 * transport, so handlers may still be running then: release what handlers use
 * in `onApplicationShutdown`, or use {@link closeOnSignals} instead.
 */
export class StageTransport
  extends Server<StageTransportEvents, StageTransportStatus>
  implements CustomTransportStrategy
{
  /** Identifies this transport to `@EventPattern(pattern, transport)` filters. */
  override readonly transportId = Symbol.for('grantstream.stage-transport');
  private runner: StageRunnerLike | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private readonly listeners: [keyof StageTransportEvents, (...args: never[]) => void][] = [];

  constructor(private readonly options: StageTransportOptions) {
    super();
  }

  /** Starts the runner over the registered handlers; Nest passes the error of a failed start to `callback`. */
  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.starting ??= this.start();
    this.starting.then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  /** Stops the runner gracefully (bounded by shutdownGraceMs); safe to call more than once. */
  async close(): Promise<void> {
    this.stopping ??= this.stop();
    await this.stopping;
  }

  /** Relays a runner event; listeners registered before `listen()` are attached when the runner is built. */
  on<
    EventKey extends keyof StageTransportEvents = keyof StageTransportEvents,
    EventCallback extends StageTransportEvents[EventKey] = StageTransportEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    const entry: [keyof StageTransportEvents, (...args: never[]) => void] = [event, callback];
    this.listeners.push(entry);
    if (this.runner) this.attach(this.runner, entry);
  }

  /** The runner (a StageRunner unless a factory was given); only after `listen()`. */
  unwrap<T>(): T {
    if (!this.runner)
      throw new Error('StageTransport is not listening: call app.listen() before unwrap()');
    return this.runner as T;
  }

  /**
   * The runner handlers for the handlers Nest registered. Every registration
   * problem is reported at once, as a ConfigError, before anything connects.
   */
  stageHandlers(): StageHandler<unknown>[] {
    const problems: string[] = [];
    const handlers: StageHandler<unknown>[] = [];
    for (const [pattern, handler] of this.getHandlers()) {
      const at = `stage pattern ${pattern}`;
      if (!handler.isEventHandler) {
        problems.push(`${at}: @MessagePattern is request-response; a stage uses @StageEvent`);
        continue;
      }
      if (handler.next) {
        // Nest would run both and forkJoin their results; two handlers of one
        // topic would also have to agree on one contract. One owner per topic.
        problems.push(`${at}: more than one handler; a topic has exactly one handler`);
        continue;
      }
      const input = handler.extras?.[STAGE_INPUT_EXTRA] as InputContract<unknown> | undefined;
      if (!input) {
        problems.push(`${at}: no input contract; declare it with @StageEvent`);
        continue;
      }
      const setting = configuredSubscriptionName(pattern);
      const configured = setting === null ? undefined : this.options.subscriptions?.[setting];
      if (setting !== null && configured === undefined) {
        problems.push(`${at}: the configuration gives no value for ${setting}`);
        continue;
      }
      try {
        const subscription = configured ?? parseSubscription(pattern);
        handlers.push(this.toStageHandler(subscription, input, handler));
      } catch (err) {
        problems.push(...(err instanceof ConfigError ? err.problems : [String(err)]));
      }
    }
    if (problems.length === 0 && handlers.length === 0)
      problems.push('no @StageEvent handlers registered: is the controller in the module?');
    if (problems.length > 0) throw new ConfigError(problems);
    return handlers;
  }

  private toStageHandler(
    subscription: string | RegExp,
    input: InputContract<unknown>,
    handler: MessageHandler,
  ): StageHandler<unknown> {
    return {
      subscriptions: [subscription],
      input,
      handle: async (message: InboundMessage<unknown>, context: HandlerContext) => {
        const ctx = new StageContext<unknown>([message, context]);
        // Errors surface here unchanged (StageErrorPassthrough), so the runner
        // decides retry versus dead letter from the PipelineError itself.
        const returned = (await handler(message, ctx)) as unknown;
        const result = await lastValueFrom(this.transformToObservable(returned), {
          defaultValue: undefined,
        });
        if (!isHandlerResult(result))
          throw new HandlerResultError(
            `the handler of ${message.topic} returned ${result === undefined ? 'nothing' : typeof result}, not { records: [...] }`,
          );
        return result;
      },
    };
  }

  private async start(): Promise<void> {
    this._status$.next('connecting');
    const { service, config, clients, logger, rssProbe, onDeadLetter, createRunner } = this.options;
    const preparePartition = this.options.preparePartition;
    const runner = (createRunner ?? ((o) => new StageRunner(o)))({
      service,
      config,
      kafka: clients.kafka,
      serde: clients.serde,
      handlers: this.stageHandlers(),
      logger,
      ...(rssProbe ? { rssProbe } : {}),
      ...(onDeadLetter ? { onDeadLetter } : {}),
      ...(preparePartition ? { preparePartition } : {}),
    });
    for (const entry of this.listeners) this.attach(runner, entry);
    // Set before start() resolves: a start that fails half-way still has
    // connections that close() must release.
    this.runner = runner;
    await runner.start();
    this._status$.next('connected');
  }

  private async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    if (this.runner) {
      this._status$.next('stopping');
      await this.runner.stop();
    }
    this._status$.next('disconnected');
  }

  private attach(
    runner: StageRunnerLike,
    [event, listener]: [keyof StageTransportEvents, (...args: never[]) => void],
  ): void {
    runner.on(event, listener as (...args: unknown[]) => void);
  }
}
