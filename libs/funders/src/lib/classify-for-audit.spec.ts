import { describe, expect, it } from 'vitest';
import { classifyForAudit } from './classify-for-audit';
import type { FunderOutcome } from './outcomes';

describe('classifyForAudit', () => {
  it.each<[FunderOutcome, ReturnType<typeof classifyForAudit>]>([
    [
      { kind: 'accepted', trackingNumber: 'T', status: 'RECEIVED', created: true },
      { category: null, retriable: false },
    ],
    [
      {
        kind: 'found',
        trackingNumber: 'T',
        grantId: null,
        status: 'VALIDATED',
        messages: [],
        history: [],
      },
      { category: null, retriable: false },
    ],
    [{ kind: 'not_found' }, { category: null, retriable: false }],
    [
      { kind: 'rate_limited', retryAfterMs: 1000 },
      { category: 'API_RATE_LIMIT', retriable: true },
    ],
    [{ kind: 'timed_out' }, { category: 'NETWORK_TIMEOUT', retriable: true }],
    [
      {
        kind: 'transient',
        httpStatus: null,
        reason: 'network error: ECONNRESET',
        retryAfterMs: null,
      },
      { category: 'NETWORK_TIMEOUT', retriable: true },
    ],
    [
      { kind: 'transient', httpStatus: 503, reason: 'portal error (HTTP 503)', retryAfterMs: null },
      { category: 'INFRASTRUCTURE', retriable: true },
    ],
    [
      {
        kind: 'transient',
        httpStatus: 201,
        reason: 'malformed portal response',
        retryAfterMs: null,
      },
      { category: 'INFRASTRUCTURE', retriable: true },
    ],
    [
      { kind: 'rejected', httpStatus: 422, messages: [] },
      { category: 'FUNDER_REJECTION', retriable: false },
    ],
    [
      { kind: 'misconfigured', httpStatus: 401, reason: 'x' },
      { category: 'CONFIGURATION', retriable: false },
    ],
    [
      { kind: 'circuit_open', retryAfterMs: 500 },
      { category: 'CIRCUIT_OPEN', retriable: true },
    ],
  ])('classifies %o', (outcome, expected) => {
    expect(classifyForAudit(outcome)).toEqual(expected);
  });
});
