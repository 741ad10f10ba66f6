import type { FunderBehaviour } from './behaviour';
import { grantFraction, type RandomSource } from './hash';
import { messagesFor, VALIDATION_ERRORS, type FieldMessage } from './messages';
import type { TakeResult } from './token-bucket';

/** What a submission body turned out to be once read. */
export type BodyFacts =
  | { kind: 'json'; value: unknown }
  | { kind: 'not-json' }
  | { kind: 'too-large' };

/** What the gateway knows about any request to a funder's API. */
export interface GatewayFacts {
  /** The funder's bucket, taken when the request arrived. */
  rateLimit: TakeResult;
  authorized: boolean;
}

/** A status read: by tracking number or by idempotency key. */
export interface ReadFacts extends GatewayFacts {
  kind: 'read';
}

/** A `POST /v2/submissions`. */
export interface SubmitFacts extends GatewayFacts {
  kind: 'submit';
  /** The Idempotency-Key header; empty counts as missing. */
  idempotencyKey: string | undefined;
  body: BodyFacts;
  /** Whether the key already created a submission, and whether with the same (canonical) body. */
  previous: { sameBody: boolean } | undefined;
}

/** Everything {@link decide} looks at. */
export type RequestFacts = ReadFacts | SubmitFacts;

/** How a created submission's answer reaches the client. */
export type Delivery = 'prompt' | 'timeout' | 'drop';

/** The portal's answer to a request, before it is written as HTTP. */
export type Decision =
  | { kind: 'rate-limited'; retryAfterSeconds: number }
  | { kind: 'unauthorized' }
  | { kind: 'server-error'; status: 500 | 502 | 503 }
  | { kind: 'bad-request'; message: string }
  | { kind: 'too-large' }
  | { kind: 'invalid-request'; errors: FieldMessage[] }
  | { kind: 'key-conflict' }
  | { kind: 'replay' }
  | { kind: 'validation-failure'; errors: FieldMessage[] }
  | { kind: 'create'; grantId: string; delivery: Delivery }
  | { kind: 'serve' };

const SERVER_ERRORS = [500, 502, 503] as const;

/**
 * Decides the fate of one request, in the order a real gateway and portal
 * would: rate limit, authentication, a backend failure, then the request's own
 * shape, idempotency, form validation, and finally creation (answered
 * promptly, late, or never). Random draws happen only once a step is reached,
 * so a seeded source replays the same run.
 */
export function decide(
  facts: RequestFacts,
  behaviour: FunderBehaviour,
  random: RandomSource,
): Decision {
  if (!facts.rateLimit.ok) {
    return {
      kind: 'rate-limited',
      retryAfterSeconds:
        behaviour.retryAfterSeconds ?? Math.max(1, Math.ceil(facts.rateLimit.retryAfterMs / 1000)),
    };
  }
  if (!facts.authorized) return { kind: 'unauthorized' };
  if (random() < behaviour.serverErrorRate) {
    return { kind: 'server-error', status: SERVER_ERRORS[Math.floor(random() * 3)] ?? 500 };
  }
  if (facts.kind === 'read') return { kind: 'serve' };

  if (!facts.idempotencyKey) {
    return { kind: 'bad-request', message: 'Idempotency-Key header is required' };
  }
  if (facts.body.kind === 'too-large') return { kind: 'too-large' };
  if (facts.body.kind === 'not-json') {
    return { kind: 'bad-request', message: 'request body is not valid JSON' };
  }
  const grantId = grantIdOf(facts.body.value);
  if (grantId === undefined) {
    return {
      kind: 'invalid-request',
      errors: [
        { field: 'grant_id', message: 'grant_id is required and must be a non-empty string' },
      ],
    };
  }
  if (facts.previous)
    return facts.previous.sameBody ? { kind: 'replay' } : { kind: 'key-conflict' };
  if (failsValidation(grantId, behaviour)) {
    return {
      kind: 'validation-failure',
      errors: messagesFor(grantId, VALIDATION_ERRORS, 'validation-message'),
    };
  }
  const draw = random();
  const delivery: Delivery =
    draw < behaviour.timeoutRate
      ? 'timeout'
      : draw < behaviour.timeoutRate + (behaviour.dropRate ?? 0)
        ? 'drop'
        : 'prompt';
  return { kind: 'create', grantId, delivery };
}

/** The body's `grant_id` when it is a non-empty string. */
export function grantIdOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const grantId = (body as Record<string, unknown>)['grant_id'];
  return typeof grantId === 'string' && grantId.length > 0 ? grantId : undefined;
}

/** Listed grant ids always fail; others fail when their hash falls below the rate. */
export function failsValidation(
  grantId: string,
  behaviour: Pick<FunderBehaviour, 'rejectGrantIds' | 'validationFailureRate'>,
): boolean {
  return (
    (behaviour.rejectGrantIds ?? []).includes(grantId) ||
    grantFraction(grantId, 'validation') < behaviour.validationFailureRate
  );
}
