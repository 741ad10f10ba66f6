import 'reflect-metadata';
import { Catch, UseFilters, type RpcExceptionFilter } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import type { HandlerResult, InboundMessage, InputContract } from '../runner/stage-handler';
import type { StageContext } from './stage-context';

/**
 * Key of the input contract in a handler's Nest pattern extras: the transport
 * only sees the wrapped handler Nest registered, and extras are what Nest
 * carries from the method to that handler. {@link StageEvent} sets it through
 * Nest's public `EventPattern(pattern, extras)`.
 */
export const STAGE_INPUT_EXTRA = 'grantstream:stage-input';

/**
 * Reflect metadata key (ours, not Nest's) of the input contract on the
 * decorated method, so introspection and tests need none of Nest's internals.
 */
export const STAGE_INPUT_METADATA = 'grantstream:stage-input';

/** What a `@StageEvent` method may return: Nest allows plain values, promises and observables. */
export type StageMethodResult = HandlerResult | Promise<HandlerResult> | Observable<HandlerResult>;

/**
 * Signature a `@StageEvent` method must accept (it may declare fewer
 * parameters, never more): parameter 0 is always the message and parameter 1
 * the {@link StageContext}.
 */
export type StageMethod<T> = (
  message: InboundMessage<T>,
  context: StageContext<T>,
) => StageMethodResult;

/**
 * Rethrows whatever a stage method (or a guard, pipe or interceptor around it)
 * threw. Nest's default RPC filter replaces unknown errors with
 * `{ status: 'error', message: 'Internal server error' }`, which would hide a
 * retriable PipelineError from the runner and dead-letter a message that only
 * needed a retry. Method-scoped, so it takes precedence over global filters.
 */
@Catch()
export class StageErrorPassthrough implements RpcExceptionFilter<unknown> {
  /** Hands the original error back to the transport, and from there to the runner. */
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

const passthrough = UseFilters(new StageErrorPassthrough());

/** A Nest pattern string for a subscription: a RegExp becomes `/source/flags` (see {@link parseSubscription}). */
export function patternOf(subscription: string | RegExp): string {
  return typeof subscription === 'string' ? subscription : String(subscription);
}

const CONFIGURED_SUBSCRIPTION = /^\{([A-Za-z0-9_.-]+)\}$/;

/**
 * A subscription the stage's configuration supplies at start: `@StageEvent`
 * runs when the class is defined, before any configuration is read, so the
 * method names the setting (e.g. `ingest.topicPattern`) and the transport
 * resolves it from the `subscriptions` option of StageTransport. Written
 * `{name}`: braces cannot appear in a Kafka topic name, nor start a `/regex/`.
 */
export function configuredSubscription(name: string): string {
  if (!CONFIGURED_SUBSCRIPTION.test(`{${name}}`))
    throw new Error(`configured subscription name ${name}: letters, digits, '.', '_', '-' only`);
  return `{${name}}`;
}

/** The setting a {@link configuredSubscription} pattern names, or null for a topic or regex pattern. */
export function configuredSubscriptionName(pattern: string): string | null {
  return CONFIGURED_SUBSCRIPTION.exec(pattern)?.[1] ?? null;
}

/** Reads the input contract a `@StageEvent` put on a method, if any. */
export function stageInputOf(method: object): InputContract<unknown> | undefined {
  return Reflect.getMetadata(STAGE_INPUT_METADATA, method) as InputContract<unknown> | undefined;
}

// Without parameter decorators Nest passes a handler only its payload; a stage
// method is (message, context), so both are bound, always. Parameter
// decorators of the method's own would be replaced at index 0 and 1 (they run
// before method decorators), which is why lint forbids them on @StageEvent
// methods rather than this code guessing at Nest's metadata.
const messageParameter = Payload();
const contextParameter = Ctx();

/**
 * Makes a provider method the stage handler of a topic or topic pattern with
 * its input contract: the Avro reader schema the runner decodes with and the
 * zod contract it checks (may be stricter than Avro). A RegExp subscribes to
 * every matching topic, including topics created later; a
 * {@link configuredSubscription} takes the topic or pattern from the stage's
 * configuration when the transport starts. Named StageEvent, not
 * StageHandler, because StageHandler is the runner's handler interface.
 *
 * Built only from Nest's public decorators: `EventPattern(pattern, extras)`
 * carries the contract to the handler the transport sees, `@Payload()` and
 * `@Ctx()` bind the method's (message, context), and a method-scoped
 * {@link StageErrorPassthrough} keeps errors intact for the runner. It is the
 * one way to declare a stage handler: there is no separate contract decorator
 * to stack on a plain `@EventPattern`, because adding extras to another
 * decorator's pattern would mean writing Nest's private metadata.
 * The method receives exactly (message, context) and takes no parameter
 * decorators of its own (lint refuses them).
 *
 * @example
 *   @StageEvent(/^grants\.ingest\..+$/, { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema })
 *   ingest(message: InboundMessage<GrantSubmissionV1>, ctx: StageContext) { ... }
 */
export function StageEvent<T>(subscription: string | RegExp, contract: InputContract<T>) {
  const event = EventPattern(patternOf(subscription), { [STAGE_INPUT_EXTRA]: contract });
  return <M extends StageMethod<T>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> => {
    Reflect.defineMetadata(STAGE_INPUT_METADATA, contract, descriptor.value as object);
    passthrough(target, key, descriptor);
    messageParameter(target, key, 0);
    contextParameter(target, key, 1);
    event(target, key, descriptor);
    return descriptor;
  };
}
