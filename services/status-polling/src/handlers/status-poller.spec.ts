import { describe, expect, it, vi } from 'vitest';
import { TOPICS, type AuditEventV1, type GrantStatusV1 } from '@grantstream/contracts';
import { AUDIT_HEAD_HEADER, AUDIT_TRAIL_HEADER, payloadHashOf } from '@grantstream/audit';
import {
  ContractViolationError,
  FunderMisconfiguredError,
  StatusUnresolvedError,
  UnknownFunderError,
} from '@grantstream/errors';
import type {
  CircuitOpenOutcome,
  ScheduleOptions,
  ScheduleResult,
  StatusOutcome,
} from '@grantstream/funders';
import { GaveUpError, type InboundMessage, type OutboundRecord } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import type { FunderClient, FunderClients, PollLimiter } from '../funder-clients';
import { STATUS_TRANSITIONS_HEADER } from '../domain/poll-decision';
import { StatusPoller, type StatusPollingDeps } from './status-poller';

const SUBMITTED = Date.parse('2026-11-18T18:00:00Z');
const NOW = SUBMITTED + 60_000;
const HEAD = 'ab'.repeat(32);
const SETTINGS = { pollIntervalMs: 2_000, giveUpAfterMs: 600_000 };
const LIMITER_WAIT_MS = 1_500;
const MAX_POLL_DELAY_MS = 60_000;
const MAX_TRANSITIONS = 6;
const SERVICE = { stage: 'status-polling', name: 'grantstream-status-polling', version: '9.9.9' };
const log = createLogger({ service: 'status-poller-spec', level: 'silent' });

/** A limiter that runs every call at once, or answers throttled without running it. */
class FakeLimiter implements PollLimiter {
  readonly calls: ScheduleOptions[] = [];
  throttled = false;

  async schedule<T>(fn: () => Promise<T>, options: ScheduleOptions): Promise<ScheduleResult<T>> {
    this.calls.push(options);
    if (this.throttled) return { kind: 'throttled', waitedMs: options.maxWaitMs };
    return { kind: 'ran', value: await fn(), waitedMs: 0 };
  }
}

function setup(
  answer: StatusOutcome | CircuitOpenOutcome = { kind: 'not_found' },
  unconfiguredFunders: StatusPollingDeps['unconfiguredFunders'] = 'dead_letter',
) {
  const limiter = new FakeLimiter();
  const status = vi.fn((_tracking: string, _signal?: AbortSignal) => Promise.resolve(answer));
  const client: FunderClient = { settings: SETTINGS, portal: { status }, limiter };
  const funders: FunderClients = {
    get: (id) => (id === 'NSF' ? client : undefined),
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const deps: StatusPollingDeps = {
    funders,
    service: SERVICE,
    now: () => NOW,
    limiterWaitMs: LIMITER_WAIT_MS,
    maxPollDelayMs: MAX_POLL_DELAY_MS,
    maxStatusTransitions: MAX_TRANSITIONS,
    unconfiguredFunders,
    topics: { status: TOPICS.STATUS, poll: TOPICS.STATUS_POLL },
  };
  return { poller: new StatusPoller(deps), limiter, status };
}

function record(over: Partial<GrantStatusV1> = {}): GrantStatusV1 {
  return {
    grant_id: 'NSF-2026-00042',
    funder_id: 'NSF',
    funder_portal: 'grants-gov',
    audit_trail_id: 'trail-42',
    idempotency_key: 'key-42',
    tracking_number: 'GRANT00000042',
    status: 'RECEIVED',
    portal_messages: [],
    terminal: false,
    submitted_at: SUBMITTED,
    observed_at: SUBMITTED,
    next_poll_at: NOW - 1,
    attempt: 0,
    ...over,
  };
}

function message(
  value: GrantStatusV1,
  headers: Record<string, Buffer | undefined> = { [AUDIT_HEAD_HEADER]: Buffer.from(HEAD) },
  topic: string = TOPICS.STATUS,
): InboundMessage<GrantStatusV1> {
  return {
    topic,
    partition: 2,
    offset: '17',
    key: value.grant_id,
    value,
    raw: Buffer.from('raw bytes of the record'),
    headers,
    schemaId: 7,
    timestamp: '0',
  };
}

const signal = new AbortController().signal;
const auditOf = (records: readonly OutboundRecord[]) =>
  records.find((r) => r.topic === TOPICS.AUDIT)?.value as AuditEventV1 | undefined;

describe('StatusPoller: nothing to ask', () => {
  it('ignores a terminal record without touching the portal', async () => {
    const { poller, status, limiter } = setup();
    const terminal = record({
      status: 'AGENCY_TRACKING_NUMBER_ASSIGNED',
      terminal: true,
      next_poll_at: null,
    });
    expect(await poller.poll(message(terminal), signal, log)).toEqual({ records: [] });
    expect(status).not.toHaveBeenCalled();
    expect(limiter.calls).toHaveLength(0);
  });

  it('defers a record that is not due until its next_poll_at', async () => {
    const { poller, status } = setup();
    const result = await poller.poll(message(record({ next_poll_at: NOW + 5_000 })), signal, log);
    expect(result).toEqual({ records: [], deferUntil: NOW + 5_000 });
    expect(status).not.toHaveBeenCalled();
  });
});

describe('StatusPoller: a status change', () => {
  const found: StatusOutcome = {
    kind: 'found',
    trackingNumber: 'GRANT00000042',
    grantId: 'NSF-2026-00042',
    status: 'REJECTED_WITH_ERRORS',
    messages: [{ field: 'budget', message: 'over the cap' }],
    history: [],
  };

  it('publishes the new status to grants.status.v1 with a STATUS_CHANGED event chained to the head', async () => {
    const { poller, status, limiter } = setup(found);
    const { records, deferUntil } = await poller.poll(message(record()), signal, log);

    expect(deferUntil).toBeUndefined();
    expect(status).toHaveBeenCalledWith('GRANT00000042', signal);
    expect(limiter.calls).toEqual([{ maxWaitMs: LIMITER_WAIT_MS, signal }]);
    expect(records.map((r) => r.topic)).toEqual([TOPICS.STATUS, TOPICS.AUDIT]);

    const audit = auditOf(records);
    expect(audit).toMatchObject({
      grant_id: 'NSF-2026-00042',
      funder_id: 'NSF',
      audit_trail_id: 'trail-42',
      stage: 'status-polling',
      action: 'STATUS_CHANGED',
      error_category: 'FUNDER_REJECTION',
      severity: 'MEDIUM',
      service_name: 'grantstream-status-polling',
      service_version: '9.9.9',
      occurred_at: NOW,
      previous_event_hash: HEAD,
      payload_hash: payloadHashOf(Buffer.from('raw bytes of the record')),
      source: { topic: TOPICS.STATUS, partition: 2, offset: 17 },
      details: {
        from: 'RECEIVED',
        to: 'REJECTED_WITH_ERRORS',
        tracking_number: 'GRANT00000042',
        attempt: '1',
        messages: 'budget: over the cap',
      },
    });

    const [out] = records;
    expect(out?.key).toBe('NSF-2026-00042');
    // The first transition the stage publishes for the grant.
    expect(out?.headers).toEqual({
      [AUDIT_HEAD_HEADER]: audit?.event_hash,
      [AUDIT_TRAIL_HEADER]: 'trail-42',
      [STATUS_TRANSITIONS_HEADER]: '1',
    });
    expect(out?.value).toEqual(
      record({
        status: 'REJECTED_WITH_ERRORS',
        portal_messages: ['budget: over the cap'],
        terminal: true,
        observed_at: NOW,
        next_poll_at: null,
        attempt: 1,
      }),
    );
  });

  it('chains a change read from the poll schedule the same way', async () => {
    const { poller } = setup({ ...found, status: 'PROCESSING', messages: [] });
    const input = message(record(), undefined, TOPICS.STATUS_POLL);
    const { records } = await poller.poll(input, signal, log);
    expect(records.map((r) => r.topic)).toEqual([TOPICS.STATUS, TOPICS.AUDIT]);
    expect(auditOf(records)?.previous_event_hash).toBe(HEAD);
    expect(auditOf(records)?.source?.topic).toBe(TOPICS.STATUS_POLL);
    expect(records[0]?.headers?.[STATUS_TRANSITIONS_HEADER]).toBe('1');
    expect(records[0]?.value).toMatchObject({
      status: 'PROCESSING',
      terminal: false,
      next_poll_at: NOW + SETTINGS.pollIntervalMs,
    });
  });
});

describe('StatusPoller: rescheduling', () => {
  const same: StatusOutcome = {
    kind: 'found',
    trackingNumber: 'GRANT00000042',
    grantId: 'NSF-2026-00042',
    status: 'RECEIVED',
    messages: [],
    history: [],
  };
  const cases: [string, StatusOutcome | CircuitOpenOutcome, number][] = [
    ['unchanged', same, 2_000],
    ['not found yet', { kind: 'not_found' }, 2_000],
    ['rate limited with Retry-After', { kind: 'rate_limited', retryAfterMs: 30_000 }, 30_000],
    [
      'rate limited with Retry-After 900 s (statusPolling.maxPollDelayMs)',
      { kind: 'rate_limited', retryAfterMs: 900_000 },
      MAX_POLL_DELAY_MS,
    ],
    ['timed out', { kind: 'timed_out' }, 2_000],
    [
      '5xx',
      { kind: 'transient', httpStatus: 502, reason: 'bad gateway', retryAfterMs: null },
      2_000,
    ],
    ['circuit open', { kind: 'circuit_open', retryAfterMs: 5_000 }, 5_000],
  ];

  it.each(cases)(
    '%s: back on grants.status.poll.v1 with the head copied, no audit event',
    async (_name, answer, delayMs) => {
      const { poller } = setup(answer);
      const { records } = await poller.poll(message(record({ attempt: 2 })), signal, log);
      expect(records).toEqual([
        {
          topic: TOPICS.STATUS_POLL,
          key: 'NSF-2026-00042',
          value: record({ attempt: 3, next_poll_at: NOW + delayMs }),
          headers: { [AUDIT_HEAD_HEADER]: HEAD, [STATUS_TRANSITIONS_HEADER]: '0' },
        },
      ]);
    },
  );

  it('reschedules without calling the portal when the limiter has no slot in time', async () => {
    const { poller, limiter, status } = setup(same);
    limiter.throttled = true;
    const { records } = await poller.poll(message(record()), signal, log);
    expect(status).not.toHaveBeenCalled();
    expect(records).toEqual([
      {
        topic: TOPICS.STATUS_POLL,
        key: 'NSF-2026-00042',
        value: record({ attempt: 1, next_poll_at: NOW + SETTINGS.pollIntervalMs }),
        headers: { [AUDIT_HEAD_HEADER]: HEAD, [STATUS_TRANSITIONS_HEADER]: '0' },
      },
    ]);
  });

  it('adds no head header when the input carried none', async () => {
    const { poller } = setup(same);
    const { records } = await poller.poll(message(record(), {}), signal, log);
    expect(records).toHaveLength(1);
    expect(records[0]?.headers).toEqual({ [STATUS_TRANSITIONS_HEADER]: '0' });
  });

  it("carries the grant's transition count onto its rescheduled poll", async () => {
    const { poller } = setup(same);
    const { records } = await poller.poll(
      message(record(), {
        [AUDIT_HEAD_HEADER]: Buffer.from(HEAD),
        [STATUS_TRANSITIONS_HEADER]: Buffer.from('5'),
      }),
      signal,
      log,
    );
    expect(records[0]?.headers).toEqual({
      [AUDIT_HEAD_HEADER]: HEAD,
      [STATUS_TRANSITIONS_HEADER]: '5',
    });
  });
});

describe('StatusPoller: failures for the dead-letter topic', () => {
  it('throws FunderMisconfiguredError when the portal refuses the credentials', async () => {
    const { poller } = setup({ kind: 'misconfigured', httpStatus: 401, reason: 'bad token' });
    const err = await poller.poll(message(record()), signal, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FunderMisconfiguredError);
    expect((err as FunderMisconfiguredError).retriable).toBe(false);
    expect((err as FunderMisconfiguredError).metadata).toEqual({
      funderId: 'NSF',
      httpStatus: 401,
    });
  });

  it('gives up with StatusUnresolvedError past the give-up age, counting every poll', async () => {
    const { poller } = setup({ kind: 'not_found' });
    const old = record({ submitted_at: NOW - SETTINGS.giveUpAfterMs - 1, attempt: 3 });
    const err = await poller.poll(message(old), signal, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GaveUpError);
    const gaveUp = err as GaveUpError;
    // The dead letter's attempts: the grant's polls, this one included, as the reason says.
    expect(gaveUp.attempts).toBe(4);
    expect(gaveUp.records).toEqual([]);
    expect(gaveUp.error).toBeInstanceOf(StatusUnresolvedError);
    expect(gaveUp.error.category).toBe('STATUS_UNRESOLVED');
    expect(gaveUp.error.retriable).toBe(false);
    expect(gaveUp.error.message).toMatch(/after 4 polls/);
    expect(gaveUp.error.metadata).toMatchObject({
      grantId: 'NSF-2026-00042',
      trackingNumber: 'GRANT00000042',
      cause: 'age',
      ageMs: SETTINGS.giveUpAfterMs + 1,
      polls: 4,
    });
  });

  it.each([
    ['below the bound: published', String(MAX_TRANSITIONS - 1), 'changed'],
    ['at the bound: given up', String(MAX_TRANSITIONS), 'given up'],
    ['no count carried: published', undefined, 'changed'],
  ])('a status that changes again, %s', async (_name, carried, expected) => {
    const { poller } = setup({
      kind: 'found',
      trackingNumber: 'GRANT00000042',
      grantId: 'NSF-2026-00042',
      status: 'PROCESSING',
      messages: [],
      history: [],
    });
    const headers: Record<string, Buffer | undefined> = { [AUDIT_HEAD_HEADER]: Buffer.from(HEAD) };
    if (carried !== undefined) headers[STATUS_TRANSITIONS_HEADER] = Buffer.from(carried);
    const input = message(record({ status: 'VALIDATED', attempt: 9 }), headers);
    const result = await poller.poll(input, signal, log).then(
      (r) => r,
      (e: unknown) => e,
    );
    if (expected === 'changed') {
      expect((result as { records: OutboundRecord[] }).records[0]?.headers).toMatchObject({
        [STATUS_TRANSITIONS_HEADER]: String(Number(carried ?? '0') + 1),
      });
      return;
    }
    expect(result).toBeInstanceOf(GaveUpError);
    expect((result as GaveUpError).attempts).toBe(10);
    expect((result as GaveUpError).error.metadata).toMatchObject({
      cause: 'transitions',
      transitions: MAX_TRANSITIONS,
    });
  });

  it('throws UnknownFunderError for a funder with no portal configured', async () => {
    const { poller, status } = setup();
    const other = record({ grant_id: 'XYZ-2026-00001', funder_id: 'XYZ' });
    const err = await poller.poll(message(other), signal, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownFunderError);
    expect((err as UnknownFunderError).retriable).toBe(false);
    expect(status).not.toHaveBeenCalled();
  });

  it("skips a funder with no portal configured when such funders are another deployment's", async () => {
    const { poller, status, limiter } = setup({ kind: 'not_found' }, 'skip');
    const other = record({ grant_id: 'XYZ-2026-00001', funder_id: 'XYZ' });
    expect(await poller.poll(message(other), signal, log)).toEqual({ records: [] });
    expect(status).not.toHaveBeenCalled();
    expect(limiter.calls).toHaveLength(0);
  });

  it('throws ContractViolationError for a live record without a tracking number', async () => {
    const { poller } = setup();
    const err = await poller
      .poll(message(record({ tracking_number: null })), signal, log)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractViolationError);
  });

  it("passes the caller's abort through instead of deciding anything", async () => {
    const { poller, limiter } = setup();
    const aborted = new AbortController();
    aborted.abort(new Error('stopping'));
    vi.spyOn(limiter, 'schedule').mockRejectedValue(aborted.signal.reason);
    await expect(poller.poll(message(record()), aborted.signal, log)).rejects.toThrow('stopping');
  });
});
