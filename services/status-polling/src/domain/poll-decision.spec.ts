import { describe, expect, it } from 'vitest';
import type { GrantStatusV1, SubmissionStatusV1 } from '@grantstream/contracts';
import type { FoundOutcome } from '@grantstream/funders';
import {
  MAX_MESSAGES_DETAIL_CHARS,
  ageOf,
  decidePoll,
  isPastGiveUpAge,
  planPoll,
  rescheduleDelayMs,
  transitionsOf,
  type GiveUpCause,
  type PollOutcome,
  type PollPolicy,
  type PollSettings,
  type UnconfiguredFunderAction,
} from './poll-decision';

const SUBMITTED = Date.parse('2026-11-18T18:00:00Z');
const NOW = SUBMITTED + 60_000;
const SETTINGS: PollPolicy = {
  pollIntervalMs: 2_000,
  giveUpAfterMs: 600_000,
  maxPollDelayMs: 60_000,
  maxStatusTransitions: 10,
};

function record(over: Partial<GrantStatusV1> = {}): GrantStatusV1 {
  return {
    grant_id: 'NSF-2026-00042',
    funder_id: 'NSF',
    funder_portal: 'grants-gov',
    audit_trail_id: 'trail-42',
    idempotency_key: 'key-42',
    tracking_number: 'GRANT00000042',
    status: 'PROCESSING',
    portal_messages: [],
    terminal: false,
    submitted_at: SUBMITTED,
    observed_at: SUBMITTED + 10_000,
    next_poll_at: NOW - 1,
    attempt: 3,
    ...over,
  };
}

function found(status: SubmissionStatusV1, over: Partial<FoundOutcome> = {}): FoundOutcome {
  return {
    kind: 'found',
    trackingNumber: 'GRANT00000042',
    grantId: 'NSF-2026-00042',
    status,
    messages: [],
    history: [],
    ...over,
  };
}

describe('planPoll', () => {
  const cases: [string, GrantStatusV1, PollSettings | undefined, ReturnType<typeof planPoll>][] = [
    ['a due record', record(), SETTINGS, { kind: 'poll', trackingNumber: 'GRANT00000042' }],
    [
      'a record due exactly now',
      record({ next_poll_at: NOW }),
      SETTINGS,
      { kind: 'poll', trackingNumber: 'GRANT00000042' },
    ],
    [
      'a record without next_poll_at (due at once)',
      record({ next_poll_at: null }),
      SETTINGS,
      { kind: 'poll', trackingNumber: 'GRANT00000042' },
    ],
    [
      'a record due later',
      record({ next_poll_at: NOW + 1 }),
      SETTINGS,
      { kind: 'defer', untilMs: NOW + 1 },
    ],
    [
      'AGENCY_TRACKING_NUMBER_ASSIGNED',
      record({ status: 'AGENCY_TRACKING_NUMBER_ASSIGNED', terminal: true, next_poll_at: null }),
      SETTINGS,
      { kind: 'ignore' },
    ],
    [
      'REJECTED_WITH_ERRORS without a tracking number (rejected at submission)',
      record({ status: 'REJECTED_WITH_ERRORS', terminal: true, tracking_number: null }),
      SETTINGS,
      { kind: 'ignore' },
    ],
    [
      'a terminal status whose flag is wrong',
      record({ status: 'REJECTED_WITH_ERRORS', terminal: false }),
      SETTINGS,
      { kind: 'ignore' },
    ],
    [
      'a record flagged terminal by its producer',
      record({ status: 'VALIDATED', terminal: true }),
      SETTINGS,
      { kind: 'ignore' },
    ],
    [
      'a terminal record of an unconfigured funder',
      record({ status: 'AGENCY_TRACKING_NUMBER_ASSIGNED', terminal: true }),
      undefined,
      { kind: 'ignore' },
    ],
    [
      'a live record of an unconfigured funder',
      record(),
      undefined,
      { kind: 'unknown_funder', funderId: 'NSF' },
    ],
    [
      'a live record without a tracking number',
      record({ tracking_number: null }),
      SETTINGS,
      { kind: 'untrackable' },
    ],
    [
      'a live record with an empty tracking number',
      record({ tracking_number: '' }),
      SETTINGS,
      { kind: 'untrackable' },
    ],
    [
      'an undue record of an unconfigured funder (fails now, not after the wait)',
      record({ next_poll_at: NOW + 60_000 }),
      undefined,
      { kind: 'unknown_funder', funderId: 'NSF' },
    ],
  ];

  it.each(cases)('%s', (_name, input, settings, expected) => {
    expect(planPoll(input, settings, NOW)).toEqual(expected);
  });
});

describe('planPoll: statusPolling.unconfiguredFunders', () => {
  const cases: [
    string,
    GrantStatusV1,
    PollSettings | undefined,
    UnconfiguredFunderAction,
    ReturnType<typeof planPoll>,
  ][] = [
    [
      'dead_letter: a live record of an unconfigured funder',
      record(),
      undefined,
      'dead_letter',
      { kind: 'unknown_funder', funderId: 'NSF' },
    ],
    [
      'skip: a live record of an unconfigured funder',
      record(),
      undefined,
      'skip',
      { kind: 'skip', funderId: 'NSF' },
    ],
    [
      'skip: an undue record of an unconfigured funder (skipped now, not after the wait)',
      record({ next_poll_at: NOW + 60_000 }),
      undefined,
      'skip',
      { kind: 'skip', funderId: 'NSF' },
    ],
    [
      'skip: a terminal record of an unconfigured funder',
      record({ status: 'REJECTED_WITH_ERRORS', terminal: true }),
      undefined,
      'skip',
      { kind: 'ignore' },
    ],
    [
      'skip: a configured funder is polled as ever',
      record(),
      SETTINGS,
      'skip',
      { kind: 'poll', trackingNumber: 'GRANT00000042' },
    ],
  ];

  it.each(cases)('%s', (_name, input, settings, unconfigured, expected) => {
    expect(planPoll(input, settings, NOW, unconfigured)).toEqual(expected);
  });
});

describe('rescheduleDelayMs', () => {
  const cases: [string, PollOutcome, number][] = [
    ['found (unchanged)', found('PROCESSING'), 2_000],
    ['not_found', { kind: 'not_found' }, 2_000],
    ['timed_out', { kind: 'timed_out' }, 2_000],
    ['throttled', { kind: 'throttled', waitedMs: 2_000 }, 2_000],
    ['rate_limited without Retry-After', { kind: 'rate_limited', retryAfterMs: null }, 2_000],
    ['rate_limited, Retry-After longer', { kind: 'rate_limited', retryAfterMs: 45_000 }, 45_000],
    [
      'rate_limited, Retry-After at the cap',
      { kind: 'rate_limited', retryAfterMs: 60_000 },
      60_000,
    ],
    [
      'rate_limited, Retry-After beyond the cap',
      { kind: 'rate_limited', retryAfterMs: 900_000 },
      60_000,
    ],
    ['rate_limited, Retry-After shorter', { kind: 'rate_limited', retryAfterMs: 500 }, 2_000],
    [
      'transient without Retry-After',
      { kind: 'transient', httpStatus: 502, reason: 'x', retryAfterMs: null },
      2_000,
    ],
    [
      'transient 503 with Retry-After',
      { kind: 'transient', httpStatus: 503, reason: 'x', retryAfterMs: 30_000 },
      30_000,
    ],
    ['circuit_open, half-open later', { kind: 'circuit_open', retryAfterMs: 5_000 }, 5_000],
    ['circuit_open, half-open now', { kind: 'circuit_open', retryAfterMs: 0 }, 2_000],
    [
      'circuit_open, half-open beyond the cap',
      { kind: 'circuit_open', retryAfterMs: 300_000 },
      60_000,
    ],
    [
      'transient 503, Retry-After beyond the cap',
      { kind: 'transient', httpStatus: 503, reason: 'x', retryAfterMs: 86_400_000 },
      60_000,
    ],
  ];

  it.each(cases)('%s', (_name, outcome, expected) => {
    expect(rescheduleDelayMs(outcome, SETTINGS)).toBe(expected);
  });
});

describe('maxPollDelayMs: no wait longer than the cap', () => {
  // A funder polled less often than the cap allows: the cap wins there too.
  const slow: PollPolicy = { ...SETTINGS, pollIntervalMs: 120_000, maxPollDelayMs: 30_000 };
  const cases: [string, PollPolicy, PollOutcome, number | null][] = [
    ['unchanged, interval above the cap', slow, found('PROCESSING'), NOW + 30_000],
    ['not_found, interval above the cap', slow, { kind: 'not_found' }, NOW + 30_000],
    [
      'Retry-After of 15 minutes',
      SETTINGS,
      { kind: 'rate_limited', retryAfterMs: 900_000 },
      NOW + 60_000,
    ],
    [
      'circuit half-open in an hour',
      SETTINGS,
      { kind: 'circuit_open', retryAfterMs: 3_600_000 },
      NOW + 60_000,
    ],
    ['a change, interval above the cap', slow, found('VALIDATED'), NOW + 30_000],
    ['a change, interval below the cap', SETTINGS, found('VALIDATED'), NOW + 2_000],
    ['a terminal change: no next poll', slow, found('AGENCY_TRACKING_NUMBER_ASSIGNED'), null],
  ];

  it.each(cases)('%s', (_name, policy, outcome, nextPollAt) => {
    const decision = decidePoll(record(), outcome, policy, NOW);
    if (decision.kind !== 'reschedule' && decision.kind !== 'changed') {
      throw new Error(`expected reschedule or changed, got ${decision.kind}`);
    }
    expect(decision.next.next_poll_at).toBe(nextPollAt);
    if (decision.kind === 'reschedule') expect(NOW + decision.delayMs).toBe(nextPollAt);
  });
});

describe('give-up age', () => {
  const cases: [string, number, boolean][] = [
    ['just submitted', SUBMITTED, false],
    ['one millisecond short of the age', SUBMITTED + 599_999, false],
    ['exactly the age', SUBMITTED + 600_000, false],
    ['one millisecond past the age', SUBMITTED + 600_001, true],
    ['a day later', SUBMITTED + 86_400_000, true],
  ];

  it.each(cases)('%s', (_name, now, expected) => {
    expect(ageOf(record(), now)).toBe(now - SUBMITTED);
    expect(isPastGiveUpAge(record(), SETTINGS, now)).toBe(expected);
  });
});

describe('decidePoll: every outcome', () => {
  const reschedule = (cause: string, delayMs: number) => ({
    kind: 'reschedule',
    cause,
    delayMs,
    next: record({ next_poll_at: NOW + delayMs, attempt: 4 }),
  });

  const cases: [string, PollOutcome, unknown][] = [
    ['found, same status', found('PROCESSING'), reschedule('unchanged', 2_000)],
    [
      'found, same status, new messages (not a change)',
      found('PROCESSING', { messages: [{ message: 'queued' }] }),
      reschedule('unchanged', 2_000),
    ],
    ['not_found', { kind: 'not_found' }, reschedule('not_found', 2_000)],
    ['timed_out', { kind: 'timed_out' }, reschedule('timed_out', 2_000)],
    ['throttled', { kind: 'throttled', waitedMs: 2_000 }, reschedule('throttled', 2_000)],
    [
      'rate_limited with Retry-After',
      { kind: 'rate_limited', retryAfterMs: 30_000 },
      reschedule('rate_limited', 30_000),
    ],
    [
      'rate_limited with a Retry-After of 15 minutes (capped)',
      { kind: 'rate_limited', retryAfterMs: 900_000 },
      reschedule('rate_limited', 60_000),
    ],
    [
      'rate_limited without Retry-After',
      { kind: 'rate_limited', retryAfterMs: null },
      reschedule('rate_limited', 2_000),
    ],
    [
      'transient 503 with Retry-After',
      { kind: 'transient', httpStatus: 503, reason: 'portal error', retryAfterMs: 10_000 },
      reschedule('transient', 10_000),
    ],
    [
      'transient network error',
      { kind: 'transient', httpStatus: null, reason: 'ECONNREFUSED', retryAfterMs: null },
      reschedule('transient', 2_000),
    ],
    [
      'circuit_open',
      { kind: 'circuit_open', retryAfterMs: 4_000 },
      reschedule('circuit_open', 4_000),
    ],
    [
      'misconfigured',
      { kind: 'misconfigured', httpStatus: 401, reason: 'bad token' },
      { kind: 'misconfigured', httpStatus: 401, reason: 'bad token' },
    ],
  ];

  it.each(cases)('%s', (_name, outcome, expected) => {
    expect(decidePoll(record(), outcome, SETTINGS, NOW)).toEqual(expected);
  });

  it('keeps status, messages and observed_at of a rescheduled record', () => {
    const input = record({ portal_messages: ['earlier'], observed_at: SUBMITTED + 5 });
    const decision = decidePoll(input, found('PROCESSING'), SETTINGS, NOW);
    expect(decision.kind).toBe('reschedule');
    if (decision.kind !== 'reschedule') return;
    expect(decision.next.status).toBe('PROCESSING');
    expect(decision.next.portal_messages).toEqual(['earlier']);
    expect(decision.next.observed_at).toBe(SUBMITTED + 5);
    expect(decision.next.tracking_number).toBe('GRANT00000042');
  });
});

describe('decidePoll: status changes', () => {
  const cases: [
    string,
    SubmissionStatusV1,
    SubmissionStatusV1,
    { terminal: boolean; category: 'FUNDER_REJECTION' | null },
  ][] = [
    ['RECEIVED -> PROCESSING', 'RECEIVED', 'PROCESSING', { terminal: false, category: null }],
    ['PROCESSING -> VALIDATED', 'PROCESSING', 'VALIDATED', { terminal: false, category: null }],
    [
      'VALIDATED -> RECEIVED_BY_AGENCY',
      'VALIDATED',
      'RECEIVED_BY_AGENCY',
      { terminal: false, category: null },
    ],
    [
      'RECEIVED_BY_AGENCY -> AGENCY_TRACKING_NUMBER_ASSIGNED',
      'RECEIVED_BY_AGENCY',
      'AGENCY_TRACKING_NUMBER_ASSIGNED',
      { terminal: true, category: null },
    ],
    [
      'PROCESSING -> REJECTED_WITH_ERRORS',
      'PROCESSING',
      'REJECTED_WITH_ERRORS',
      { terminal: true, category: 'FUNDER_REJECTION' },
    ],
    [
      'RECEIVED -> VALIDATED (a status skipped between polls)',
      'RECEIVED',
      'VALIDATED',
      { terminal: false, category: null },
    ],
  ];

  it.each(cases)('%s', (_name, from, to, expected) => {
    const decision = decidePoll(record({ status: from }), found(to), SETTINGS, NOW);
    expect(decision.kind).toBe('changed');
    if (decision.kind !== 'changed') return;
    expect(decision.next).toEqual(
      record({
        status: to,
        terminal: expected.terminal,
        observed_at: NOW,
        next_poll_at: expected.terminal ? null : NOW + SETTINGS.pollIntervalMs,
        attempt: 4,
      }),
    );
    expect(decision.change).toEqual({
      from,
      to,
      errorCategory: expected.category,
      severity: expected.category === null ? null : 'MEDIUM',
      details: { from, to, tracking_number: 'GRANT00000042', attempt: '4' },
    });
  });

  it('carries the portal messages and the agency tracking number', () => {
    const decision = decidePoll(
      record({ status: 'RECEIVED_BY_AGENCY' }),
      found('AGENCY_TRACKING_NUMBER_ASSIGNED', {
        agencyTrackingNumber: 'NSF-00000042',
        messages: [{ field: 'budget', message: 'rounded' }, { message: 'assigned' }],
      }),
      SETTINGS,
      NOW,
    );
    if (decision.kind !== 'changed') throw new Error(`expected changed, got ${decision.kind}`);
    expect(decision.next.portal_messages).toEqual(['budget: rounded', 'assigned']);
    expect(decision.change.details).toEqual({
      from: 'RECEIVED_BY_AGENCY',
      to: 'AGENCY_TRACKING_NUMBER_ASSIGNED',
      tracking_number: 'GRANT00000042',
      attempt: '4',
      agency_tracking_number: 'NSF-00000042',
      messages: 'budget: rounded; assigned',
    });
  });

  it('bounds the messages detail but keeps every message on the record', () => {
    const messages = Array.from({ length: 200 }, (_, i) => ({ message: `error number ${i}` }));
    const decision = decidePoll(
      record(),
      found('REJECTED_WITH_ERRORS', { messages }),
      SETTINGS,
      NOW,
    );
    if (decision.kind !== 'changed') throw new Error(`expected changed, got ${decision.kind}`);
    expect(decision.next.portal_messages).toHaveLength(200);
    expect(decision.change.details['messages']).toHaveLength(MAX_MESSAGES_DETAIL_CHARS);
    expect(decision.change.details['messages']?.endsWith('…')).toBe(true);
  });
});

describe('decidePoll: giving up', () => {
  const old = SUBMITTED + SETTINGS.giveUpAfterMs + 1;
  const cases: [string, PollOutcome, number, string][] = [
    ['unchanged past the age', found('PROCESSING'), old, 'give_up'],
    ['not_found past the age', { kind: 'not_found' }, old, 'give_up'],
    ['circuit open past the age', { kind: 'circuit_open', retryAfterMs: 1 }, old, 'give_up'],
    ['throttled past the age', { kind: 'throttled', waitedMs: 1 }, old, 'give_up'],
    ['unchanged at exactly the age', found('PROCESSING'), old - 1, 'reschedule'],
    ['a non-terminal change past the age: the age comes first', found('VALIDATED'), old, 'give_up'],
    [
      'a terminal change past the age is published',
      found('AGENCY_TRACKING_NUMBER_ASSIGNED'),
      old,
      'changed',
    ],
    [
      'misconfigured past the age stays misconfigured',
      { kind: 'misconfigured', httpStatus: 403, reason: 'forbidden' },
      old,
      'misconfigured',
    ],
    [
      "another grant's submission, young",
      found('PROCESSING', { grantId: 'NSF-2026-00099' }),
      NOW,
      'give_up',
    ],
    [
      'a portal that does not name the grant',
      found('VALIDATED', { grantId: null }),
      NOW,
      'changed',
    ],
  ];

  it.each(cases)('%s', (_name, outcome, now, kind) => {
    expect(decidePoll(record(), outcome, SETTINGS, now).kind).toBe(kind);
  });

  it('says why it gives up and how old the submission is', () => {
    const decision = decidePoll(record(), { kind: 'not_found' }, SETTINGS, old);
    expect(decision).toEqual({
      kind: 'give_up',
      cause: 'age',
      ageMs: SETTINGS.giveUpAfterMs + 1,
      polls: 4,
      transitions: 0,
      reason: expect.stringMatching(
        /give-up age 600000 ms\), after 4 polls and 0 status transitions; .*PROCESSING.*does not know/,
      ) as string,
    });
  });

  it("names the other grant when the tracking number is another grant's", () => {
    const decision = decidePoll(
      record(),
      found('PROCESSING', { grantId: 'NSF-2026-00099' }),
      SETTINGS,
      NOW,
    );
    expect(decision.kind === 'give_up' && decision.reason).toMatch(/NSF-2026-00099/);
  });
});

describe('transitionsOf: the count a status record carries', () => {
  const cases: [string, string | undefined, number][] = [
    ['absent (the submission stage, an older record)', undefined, 0],
    ['zero', '0', 0],
    ['a count', '7', 7],
    ['negative', '-3', 0],
    ['not a number', 'many', 0],
    ['exponent notation', '1e3', 0],
    ['padded', ' 5', 0],
    ['beyond nine digits', '1234567890', 0],
  ];

  it.each(cases)('%s', (_name, header, expected) => {
    expect(transitionsOf(header)).toBe(expected);
  });
});

describe('decidePoll: the transition bound', () => {
  const max = SETTINGS.maxStatusTransitions;
  const old = SUBMITTED + SETTINGS.giveUpAfterMs + 1;
  const cases: [
    string,
    { status: SubmissionStatusV1; transitions: number; now: number },
    PollOutcome,
    (
      | { kind: 'changed'; transitions: number }
      | { kind: 'give_up'; cause: GiveUpCause }
      | 'reschedule'
    ),
  ][] = [
    [
      'the first change',
      { status: 'RECEIVED', transitions: 0, now: NOW },
      found('PROCESSING'),
      { kind: 'changed', transitions: 1 },
    ],
    [
      'a flip back to an earlier status is a transition',
      { status: 'VALIDATED', transitions: 3, now: NOW },
      found('PROCESSING'),
      { kind: 'changed', transitions: 4 },
    ],
    [
      'the last change the bound allows',
      { status: 'PROCESSING', transitions: max - 1, now: NOW },
      found('VALIDATED'),
      { kind: 'changed', transitions: max },
    ],
    [
      'one change more',
      { status: 'VALIDATED', transitions: max, now: NOW },
      found('PROCESSING'),
      { kind: 'give_up', cause: 'transitions' },
    ],
    [
      'beyond the bound (lowered since)',
      { status: 'VALIDATED', transitions: max + 40, now: NOW },
      found('RECEIVED_BY_AGENCY'),
      { kind: 'give_up', cause: 'transitions' },
    ],
    [
      'a final status at the bound is taken',
      { status: 'RECEIVED_BY_AGENCY', transitions: max, now: NOW },
      found('AGENCY_TRACKING_NUMBER_ASSIGNED'),
      { kind: 'changed', transitions: max + 1 },
    ],
    [
      'a rejection at the bound is taken',
      { status: 'PROCESSING', transitions: max, now: NOW },
      found('REJECTED_WITH_ERRORS'),
      { kind: 'changed', transitions: max + 1 },
    ],
    [
      'unchanged at the bound: no record, polled again',
      { status: 'VALIDATED', transitions: max, now: NOW },
      found('VALIDATED'),
      'reschedule',
    ],
    [
      'no answer at the bound: polled again',
      { status: 'VALIDATED', transitions: max, now: NOW },
      { kind: 'not_found' },
      'reschedule',
    ],
    [
      'past the age and the bound: the age is named',
      { status: 'VALIDATED', transitions: max, now: old },
      found('PROCESSING'),
      { kind: 'give_up', cause: 'age' },
    ],
    [
      'a final status past the age and the bound is taken',
      { status: 'VALIDATED', transitions: max + 3, now: old },
      found('AGENCY_TRACKING_NUMBER_ASSIGNED'),
      { kind: 'changed', transitions: max + 4 },
    ],
  ];

  it.each(cases)('%s', (_name, input, outcome, expected) => {
    const decision = decidePoll(
      record({ status: input.status }),
      outcome,
      SETTINGS,
      input.now,
      input.transitions,
    );
    if (expected === 'reschedule') {
      expect(decision.kind).toBe('reschedule');
    } else if (expected.kind === 'changed') {
      expect(decision).toMatchObject({ kind: 'changed', transitions: expected.transitions });
    } else {
      expect(decision).toMatchObject({
        kind: 'give_up',
        cause: expected.cause,
        polls: 4,
        transitions: input.transitions,
      });
    }
  });

  it('says how many polls and transitions it took, for the dead letter', () => {
    const decision = decidePoll(
      record({ status: 'VALIDATED', attempt: 11 }),
      found('PROCESSING'),
      SETTINGS,
      NOW,
      max,
    );
    expect(decision).toEqual({
      kind: 'give_up',
      cause: 'transitions',
      ageMs: NOW - SUBMITTED,
      polls: 12,
      transitions: max,
      reason: `the status never settles: after 12 polls and ${max} status transitions (the bound) in 60000 ms it changes again, VALIDATED to PROCESSING`,
    });
  });
});

describe('decidePoll: a portal whose answer flips on every poll', () => {
  /**
   * Follows one grant the way the stage does (each decision's record and
   * count become the next input) against a portal answering VALIDATED,
   * PROCESSING, VALIDATED ... until polling stops or `limit` polls pass.
   */
  function follow(policy: PollPolicy, limit: number) {
    let current = record({ status: 'RECEIVED', attempt: 0, next_poll_at: SUBMITTED });
    let transitions = 0;
    let published = 0;
    for (let poll = 0; poll < limit; poll += 1) {
      const now = current.next_poll_at ?? SUBMITTED;
      const answer = found(poll % 2 === 0 ? 'VALIDATED' : 'PROCESSING');
      const decision = decidePoll(current, answer, policy, now, transitions);
      if (decision.kind === 'changed') {
        published += 1;
        transitions = decision.transitions;
        current = decision.next;
      } else if (decision.kind === 'reschedule') {
        current = decision.next;
      } else {
        return { decision, published };
      }
    }
    return { decision: null, published };
  }

  const cases: [string, PollPolicy, GiveUpCause, number][] = [
    ['polled often: the transition bound ends it', SETTINGS, 'transitions', 10],
    [
      'polled rarely: the give-up age ends it first',
      { ...SETTINGS, pollIntervalMs: 120_000, maxPollDelayMs: 120_000 },
      'age',
      // Polls at 0, 2, 4 ... 10 minutes (the age itself is not past it); the 12-minute one gives up.
      6,
    ],
    ['the smallest bound allowed', { ...SETTINGS, maxStatusTransitions: 4 }, 'transitions', 4],
  ];

  it.each(cases)('%s', (_name, policy, cause, published) => {
    const ended = follow(policy, 10_000);
    expect(ended.decision).toMatchObject({ kind: 'give_up', cause });
    expect(ended.published).toBe(published);
    expect(ended.published).toBeLessThanOrEqual(policy.maxStatusTransitions);
  });
});
