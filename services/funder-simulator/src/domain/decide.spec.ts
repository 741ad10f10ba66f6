import { describe, expect, it } from 'vitest';
import type { FunderBehaviour } from './behaviour';
import { decide, failsValidation, grantIdOf, type Decision, type RequestFacts } from './decide';

const calm: FunderBehaviour = {
  token: 't',
  rateLimitPerSecond: 10,
  latencyMs: { min: 0, max: 0 },
  serverErrorRate: 0,
  timeoutRate: 0,
  timeoutDelayMs: 0,
  validationFailureRate: 0,
  statusDwellMs: 0,
  slowStatusRate: 0,
  slowStatusDwellMs: 0,
  statusRejectRate: 0,
};

const submit: RequestFacts = {
  kind: 'submit',
  rateLimit: { ok: true },
  authorized: true,
  idempotencyKey: 'k1',
  body: { kind: 'json', value: { grant_id: 'NSF-2025-00001' } },
  previous: undefined,
};

/** Returns the given draws in order, then fails the test if more are asked for. */
function draws(...values: number[]): () => number {
  return () => {
    const v = values.shift();
    if (v === undefined) throw new Error('unexpected random draw');
    return v;
  };
}

describe('decide', () => {
  const cases: [string, RequestFacts, Partial<FunderBehaviour>, number[], Decision][] = [
    [
      'over the rate: Retry-After rounds the wait up',
      { ...submit, rateLimit: { ok: false, retryAfterMs: 1200 }, authorized: false },
      {},
      [],
      { kind: 'rate-limited', retryAfterSeconds: 2 },
    ],
    [
      'over the rate: Retry-After is at least 1',
      { ...submit, rateLimit: { ok: false, retryAfterMs: 10 } },
      {},
      [],
      { kind: 'rate-limited', retryAfterSeconds: 1 },
    ],
    [
      'over the rate: a configured Retry-After wins',
      { ...submit, rateLimit: { ok: false, retryAfterMs: 10 } },
      { retryAfterSeconds: 30 },
      [],
      { kind: 'rate-limited', retryAfterSeconds: 30 },
    ],
    ['wrong token', { ...submit, authorized: false }, {}, [], { kind: 'unauthorized' }],
    [
      'a server error draws its status',
      { ...submit, idempotencyKey: undefined },
      { serverErrorRate: 0.5 },
      [0.4, 0.5],
      { kind: 'server-error', status: 502 },
    ],
    [
      'missing key',
      { ...submit, idempotencyKey: undefined },
      {},
      [0.9],
      { kind: 'bad-request', message: 'Idempotency-Key header is required' },
    ],
    [
      'empty key counts as missing',
      { ...submit, idempotencyKey: '' },
      {},
      [0.9],
      { kind: 'bad-request', message: 'Idempotency-Key header is required' },
    ],
    [
      'body too large',
      { ...submit, body: { kind: 'too-large' } },
      {},
      [0.9],
      { kind: 'too-large' },
    ],
    [
      'body not JSON',
      { ...submit, body: { kind: 'not-json' } },
      {},
      [0.9],
      { kind: 'bad-request', message: 'request body is not valid JSON' },
    ],
    [
      'no grant id',
      { ...submit, body: { kind: 'json', value: { grant_id: 7 } } },
      {},
      [0.9],
      {
        kind: 'invalid-request',
        errors: [
          { field: 'grant_id', message: 'grant_id is required and must be a non-empty string' },
        ],
      },
    ],
    [
      'same key, same body',
      { ...submit, previous: { sameBody: true } },
      {},
      [0.9],
      { kind: 'replay' },
    ],
    [
      'same key, another body',
      { ...submit, previous: { sameBody: false } },
      {},
      [0.9],
      { kind: 'key-conflict' },
    ],
    [
      'a replay is answered even when the grant would now fail validation',
      { ...submit, previous: { sameBody: true } },
      { validationFailureRate: 1 },
      [0.9],
      { kind: 'replay' },
    ],
    [
      'created promptly',
      submit,
      { timeoutRate: 0.1, dropRate: 0.1 },
      [0.9, 0.25],
      { kind: 'create', grantId: 'NSF-2025-00001', delivery: 'prompt' },
    ],
    [
      'created, answered too late',
      submit,
      { timeoutRate: 0.1, dropRate: 0.1 },
      [0.9, 0.05],
      { kind: 'create', grantId: 'NSF-2025-00001', delivery: 'timeout' },
    ],
    [
      'created, connection dropped',
      submit,
      { timeoutRate: 0.1, dropRate: 0.1 },
      [0.9, 0.15],
      { kind: 'create', grantId: 'NSF-2025-00001', delivery: 'drop' },
    ],
    [
      'a read passes the gateway',
      { kind: 'read', rateLimit: { ok: true }, authorized: true },
      {},
      [0.9],
      { kind: 'serve' },
    ],
    [
      'a read meets the same server errors',
      { kind: 'read', rateLimit: { ok: true }, authorized: true },
      { serverErrorRate: 1 },
      [0.1, 0.99],
      { kind: 'server-error', status: 503 },
    ],
    [
      'a read is rate-limited too',
      { kind: 'read', rateLimit: { ok: false, retryAfterMs: 3000 }, authorized: true },
      {},
      [],
      { kind: 'rate-limited', retryAfterSeconds: 3 },
    ],
  ];

  it.each(cases)('%s', (_name, facts, overrides, randoms, expected) => {
    expect(decide(facts, { ...calm, ...overrides }, draws(...randoms))).toEqual(expected);
  });

  it('refuses a listed grant id with Grants.gov-style messages', () => {
    const decision = decide(submit, { ...calm, rejectGrantIds: ['NSF-2025-00001'] }, draws(0.9));
    expect(decision.kind).toBe('validation-failure');
    const errors = decision.kind === 'validation-failure' ? decision.errors : [];
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e.message).toMatch(/^(SF424_4_0-Field \d+[a-z]?: |Attachment )/);
  });
});

describe('failsValidation', () => {
  it.each([
    ['rate 0, not listed', 'A-1', { validationFailureRate: 0 }, false],
    ['rate 1', 'A-1', { validationFailureRate: 1 }, true],
    ['listed', 'A-1', { validationFailureRate: 0, rejectGrantIds: ['A-1'] }, true],
    ['another listed', 'A-2', { validationFailureRate: 0, rejectGrantIds: ['A-1'] }, false],
  ])('%s', (_name, grantId, behaviour, expected) => {
    expect(failsValidation(grantId, behaviour)).toBe(expected);
  });
});

describe('grantIdOf', () => {
  it.each([
    [{ grant_id: 'X-1' }, 'X-1'],
    [{ grant_id: '' }, undefined],
    [{ grant_id: 1 }, undefined],
    [['X-1'], undefined],
    [null, undefined],
    ['X-1', undefined],
  ])('%j -> %s', (body, expected) => {
    expect(grantIdOf(body)).toBe(expected);
  });
});
