import 'reflect-metadata';
import { Catch, UseFilters, type RpcExceptionFilter } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { PARAM_ARGS_METADATA, PATTERN_EXTRAS_METADATA } from '@nestjs/microservices/constants';
import { throwError, type Observable } from 'rxjs';
import type { schema } from 'avsc';
import type { z } from 'zod';
import type { HandlerResult, InboundMessage, InputContract } from '../runner/stage-handler';
import type { StageContext } from './stage-context';

/**
 * Key of the input contract in a handler's Nest pattern extras: the transport
 * only sees the wrapped handler Nest registered, and extras are what Nest
 * carries from the method to that handler.
 */
export const STAGE_INPUT_EXTRA = 'grantstream:stage-input';

/** Reflect metadata key of the input contract on the decorated method (for introspection and tests). */
export const STAGE_INPUT_METADATA = 'grantstream:stage-input';

/** What a `@StageEvent` method may return: Nest allows plain values, promises and observables. */
export type StageMethodResult = HandlerResult | Promise<HandlerResult> | Observable<HandlerResult>;

/** Signature a `@StageEvent` method must accept (it may declare fewer parameters). */
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

/** Reads the input contract a `@StageInput`/`@StageEvent` put on a method, if any. */
export function stageInputOf(method: object): InputContract<unknown> | undefined {
  return Reflect.getMetadata(STAGE_INPUT_METADATA, method) as InputContract<unknown> | undefined;
}

/**
 * Declares the reader contract of an `@EventPattern` method: the Avro reader
 * schema the runner decodes with and the zod contract it checks (may be
 * stricter than Avro). Works above or below `@EventPattern`, since both merge
 * into the same extras. Prefer {@link StageEvent}, which applies both. A
 * method with parameter decorators (`@Payload()`, `@Ctx()`) keeps them; one
 * without receives (message, StageContext).
 */
export function StageInput<T>(avro: schema.RecordType | null, zod: z.ZodType<T>) {
  const contract: InputContract<T> = { avro, zod };
  return <M extends StageMethod<T>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> => {
    const method = descriptor.value as object;
    Reflect.defineMetadata(STAGE_INPUT_METADATA, contract, method);
    Reflect.defineMetadata(
      PATTERN_EXTRAS_METADATA,
      {
        ...(Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as object | undefined),
        [STAGE_INPUT_EXTRA]: contract,
      },
      method,
    );
    passthrough(target, key, descriptor);
    // Without parameter decorators Nest passes only the payload; a stage method
    // is (message, context), so say so unless the method declared its own
    // (parameter decorators run before method decorators, so they are visible here).
    if (Reflect.getMetadata(PARAM_ARGS_METADATA, target.constructor, key) === undefined) {
      Payload()(target, key, 0);
      Ctx()(target, key, 1);
    }
    return descriptor;
  };
}

/**
 * Makes a provider method the stage handler of a topic or topic pattern:
 * `@EventPattern` plus {@link StageInput}. A RegExp subscribes to every
 * matching topic, including topics created later; a
 * {@link configuredSubscription} takes the topic or pattern from the stage's
 * configuration when the transport starts. Named StageEvent, not
 * StageHandler, because StageHandler is the runner's handler interface.
 *
 * @example
 *   @StageEvent(/^grants\.ingest\..+$/, { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema })
 *   ingest(message: InboundMessage<GrantSubmissionV1>, ctx: StageContext) { ... }
 */
export function StageEvent<T>(subscription: string | RegExp, contract: InputContract<T>) {
  const input = StageInput(contract.avro, contract.zod);
  const event = EventPattern(patternOf(subscription));
  return <M extends StageMethod<T>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> => {
    input(target, key, descriptor);
    event(target, key, descriptor);
    return descriptor;
  };
}
