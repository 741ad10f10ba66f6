import { describe, expect, it } from 'vitest';
import { fallbackChainSchema } from '@grantstream/config';
import { decideAfterAttempt, type AttemptOutcome, type AttemptPolicy } from './attempt-decision';
import { tierFor } from './retry-tier';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const HOUR = 3_600_000;

const policy: AttemptPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 1000,
  maxBackoffMs: 900_000,
  maxRetryAgeMs: 24 * HOUR,
  throttledDelayMs: 3000,
  rateLimitDefaultDelayMs: 900_000,
  deadlineRiskMarginMs: HOUR,
  fallbacks: fallbackChainSchema.parse({
    API_RATE_LIMIT: { action: 'retry_later' },
    CIRCUIT_OPEN: { action: 'retry_later' },
    CONFIGURATION: { action: 'dead_letter' },
    default: { action: 'requeue' },
  }),
};
const state = { attempt: 1, firstAttemptAt: NOW, deadline: NOW + 72 * HOUR };
/** Pins full jitter to the top of its window. */
const top = () => 0.999_999;

describe('decideAfterAttempt', () => {
  it.each<[string, AttemptOutcome, Record<string, unknown>]>([
    [
      'accepted',
      { kind: 'accepted', trackingNumber: 'T-1', status: 'RECEIVED', created: true },
      { kind: 'accepted', trackingNumber: 'T-1', created: true },
    ],
    [
      'a replayed key',
      { kind: 'accepted', trackingNumber: 'T-1', status: 'PROCESSING', created: false },
      { kind: 'accepted', created: false, status: 'PROCESSING' },
    ],
    [
      '422 with messages',
      { kind: 'rejected', httpStatus: 422, messages: [{ field: 'ein', message: 'bad EIN' }] },
      { kind: 'rejected', httpStatus: 422, messages: [{ field: 'ein', message: 'bad EIN' }] },
    ],
    [
      '429 with Retry-After 900 s',
      { kind: 'rate_limited', retryAfterMs: 900_000 },
      { kind: 'retry', delayMs: 900_000, category: 'API_RATE_LIMIT', lookupFirst: false },
    ],
    [
      '429 without Retry-After',
      { kind: 'rate_limited', retryAfterMs: null },
      { kind: 'retry', delayMs: 900_000, category: 'API_RATE_LIMIT' },
    ],
    [
      'our limiter full',
      { kind: 'throttled' },
      { kind: 'retry', delayMs: 3000, category: 'API_RATE_LIMIT', lookupFirst: false },
    ],
    [
      'an open circuit',
      { kind: 'circuit_open', retryAfterMs: 4200 },
      { kind: 'retry', delayMs: 4200, category: 'CIRCUIT_OPEN' },
    ],
    [
      'a 503',
      { kind: 'transient', httpStatus: 503, reason: 'unavailable', retryAfterMs: null },
      { kind: 'retry', delayMs: 1000, category: 'INFRASTRUCTURE', lookupFirst: false },
    ],
    [
      'a cut connection (fate unknown)',
      { kind: 'transient', httpStatus: null, reason: 'ECONNRESET', retryAfterMs: null },
      { kind: 'retry', category: 'NETWORK_TIMEOUT', lookupFirst: true },
    ],
    [
      'a timeout (fate unknown)',
      { kind: 'timed_out' },
      { kind: 'retry', category: 'NETWORK_TIMEOUT', lookupFirst: true },
    ],
    [
      'a 401',
      { kind: 'misconfigured', httpStatus: 401, reason: 'bad token' },
      { kind: 'give_up', category: 'CONFIGURATION', code: 'FUNDER_MISCONFIGURED' },
    ],
  ])('%s', (_name, outcome, expected) => {
    expect(decideAfterAttempt(outcome, state, policy, NOW, top)).toMatchObject(expected);
  });

  it('backs off exponentially with full jitter, honouring a longer Retry-After', () => {
    const failure: AttemptOutcome = {
      kind: 'transient',
      httpStatus: 500,
      reason: 'boom',
      retryAfterMs: null,
    };
    const delays = [1, 2, 3, 4].map((attempt) =>
      decideAfterAttempt(failure, { ...state, attempt }, policy, NOW, top),
    );
    expect(delays.map((d) => (d.kind === 'retry' ? d.delayMs : -1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    const asked = decideAfterAttempt(
      { ...failure, retryAfterMs: 20_000 },
      state,
      policy,
      NOW,
      () => 0,
    );
    expect(asked).toMatchObject({ kind: 'retry', delayMs: 20_000 });
  });

  it.each<[string, number, number]>([
    ['a fresh grant waits until the circuit half-opens', 0, 4200],
    ['a grant waiting 20 s waits another 10 s', 20_000, 10_000],
    ['a grant waiting an hour waits the maximum backoff', 3_600_000, 900_000],
  ])('behind an open circuit, %s', (_name, waited, delay) => {
    const decision = decideAfterAttempt(
      { kind: 'circuit_open', retryAfterMs: 4200 },
      { ...state, firstAttemptAt: NOW - waited },
      policy,
      NOW,
      top,
    );
    expect(decision).toMatchObject({ kind: 'retry', delayMs: delay, category: 'CIRCUIT_OPEN' });
  });

  it('bounds rate-limit waits by age, not by attempts', () => {
    const limited: AttemptOutcome = { kind: 'rate_limited', retryAfterMs: 5000 };
    expect(decideAfterAttempt(limited, { ...state, attempt: 9 }, policy, NOW, top)).toMatchObject({
      kind: 'retry',
    });
    expect(
      decideAfterAttempt(limited, { ...state, firstAttemptAt: NOW - 25 * HOUR }, policy, NOW, top),
    ).toMatchObject({ kind: 'give_up', category: 'API_RATE_LIMIT' });
  });

  it('gives up with the last category once attempts or age are spent', () => {
    const failure: AttemptOutcome = { kind: 'timed_out' };
    expect(decideAfterAttempt(failure, { ...state, attempt: 5 }, policy, NOW, top)).toMatchObject({
      kind: 'give_up',
      category: 'NETWORK_TIMEOUT',
      code: 'RETRY_BUDGET_EXHAUSTED',
    });
    expect(
      decideAfterAttempt(failure, { ...state, firstAttemptAt: NOW - 25 * HOUR }, policy, NOW, top),
    ).toMatchObject({ kind: 'give_up', category: 'NETWORK_TIMEOUT' });
  });

  it('follows the configured chain: a category sent to dead_letter is not retried', () => {
    const strict = {
      ...policy,
      fallbacks: fallbackChainSchema.parse({ default: { action: 'dead_letter' } }),
    };
    expect(decideAfterAttempt({ kind: 'timed_out' }, state, strict, NOW, top)).toMatchObject({
      kind: 'give_up',
      category: 'NETWORK_TIMEOUT',
    });
  });

  it.each<[string, number, boolean]>([
    ['far from the deadline', NOW + 72 * HOUR, false],
    ['a wait ending inside the margin', NOW + 900_000 + HOUR - 1, true],
    ['a wait ending after the deadline', NOW + 60_000, true],
  ])('flags the deadline at risk: %s', (_name, deadline, atRisk) => {
    const decision = decideAfterAttempt(
      { kind: 'rate_limited', retryAfterMs: 900_000 },
      { ...state, deadline },
      policy,
      NOW,
      top,
    );
    expect(decision).toMatchObject({ kind: 'retry', deadlineAtRisk: atRisk });
  });
});

describe('tierFor', () => {
  const tiers = [
    { topic: 't5s', delayMs: 5000 },
    { topic: 't30s', delayMs: 30_000 },
    { topic: 't5m', delayMs: 300_000 },
    { topic: 't15m', delayMs: 900_000 },
  ];
  it.each<[number, string]>([
    [1, 't5s'],
    [5000, 't5s'],
    [5001, 't30s'],
    [300_000, 't5m'],
    [900_000, 't15m'],
    [3_600_000, 't15m'],
  ])('%i ms -> %s', (delay, topic) => {
    expect(tierFor(delay, tiers).topic).toBe(topic);
  });
});
