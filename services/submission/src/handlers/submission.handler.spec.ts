import { describe, expect, it } from 'vitest';
import { AUDIT_HEAD_HEADER, AUDIT_TRAIL_HEADER } from '@grantstream/audit';
import { fallbackChainSchema } from '@grantstream/config';
import {
  TOPICS,
  type AuditEventV1,
  type GrantStatusV1,
  type NotificationRequestV1,
  type RoutedGrantV2,
  type SubmissionRetryV2,
} from '@grantstream/contracts';
import {
  FunderGuard,
  type FunderClientConfig,
  type GuardedFunderAdapter,
  type SubmitOutcome,
} from '@grantstream/funders';
import {
  GaveUpError,
  type HandlerContext,
  type InboundMessage,
  type OutboundRecord,
} from '@grantstream/kafka';
import { FunderPortal, type CallLimiter } from '../funder-portal';
import { withAccepted, type AcceptedContent } from '../domain/content-decision';
import { SubmissionHandler, type ContentState, type SubmissionDeps } from './submission.handler';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const HEAD = 'a'.repeat(64);

const funderConfig: FunderClientConfig = {
  baseUrl: 'http://127.0.0.1:1/funders/NSF',
  tokenSecret: 'T',
  timeoutMs: 1000,
  ratePerSecond: 10,
  maxConcurrent: 2,
  retry: { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 60_000 },
  circuit: { consecutiveFailures: 3, halfOpenAfterMs: 5000 },
  status: { pollIntervalMs: 2000, giveUpAfterMs: 600_000 },
};

function routedGrant(deadline = NOW + 72 * 3_600_000): RoutedGrantV2 {
  return {
    grant_id: 'NSF-2026-00001',
    funder_id: 'NSF',
    audit_trail_id: 'trail-1',
    decision: 'FORWARD',
    compliance_flags: [],
    compliance_tags: ['2 CFR 200.302'],
    rule_pack_version: 'nsf-1',
    grant: {
      grant_id: 'NSF-2026-00001',
      funder_id: 'NSF',
      funder_portal: 'research.gov',
      submission_deadline: deadline,
      audit_trail_id: 'trail-1',
      content_hash: 'c'.repeat(64),
      normalized_fields: { title: 'Water' },
      field_changes: [],
      attachments: [],
      normalizer_version: '1',
      normalized_at: NOW - 1000,
    },
    routed_at: NOW - 500,
  };
}

/** A portal answering from a script, recording what it was asked. */
function scriptedPortal(answers: (SubmitOutcome | 'found' | 'not_found')[]) {
  const calls: string[] = [];
  const next = () => {
    const answer = answers.shift();
    if (answer === undefined) throw new Error('portal asked more often than scripted');
    return answer;
  };
  const adapter: GuardedFunderAdapter = {
    funderId: 'NSF',
    submit: (request) => {
      calls.push(`submit ${request.idempotencyKey}`);
      const answer = next();
      if (typeof answer === 'string') throw new Error('scripted a lookup answer for a submit');
      return Promise.resolve(answer);
    },
    lookup: (key) => {
      calls.push(`lookup ${key}`);
      const answer = next();
      if (answer === 'found')
        return Promise.resolve({
          kind: 'found',
          trackingNumber: 'TRK-9',
          grantId: 'NSF-2026-00001',
          status: 'PROCESSING',
          messages: [],
          history: [],
        });
      if (answer === 'not_found') return Promise.resolve({ kind: 'not_found' });
      throw new Error('scripted a submit answer for a lookup');
    },
    status: () => Promise.reject(new Error('not used')),
  };
  const limiter: CallLimiter = {
    schedule: async (call) => ({ kind: 'ran', value: await call() }),
    counts: () => ({ queued: 0, running: 0 }),
    close: () => Promise.resolve(),
  };
  const guard = new FunderGuard({ funderId: 'NSF', circuit: funderConfig.circuit, now: () => NOW });
  return { calls, portal: new FunderPortal('NSF', funderConfig, guard, adapter, limiter) };
}

const CHANGELOG = 'test.content-state';

function handlerWith(
  portal: FunderPortal,
  inlineRetryMaxMs = 0,
  unconfiguredFunders: 'dead_letter' | 'skip' = 'dead_letter',
  contentState: ContentState = memoryContentState(),
): SubmissionHandler {
  const deps: SubmissionDeps = {
    portals: new Map([['NSF', portal]]),
    policyFor: () => ({
      maxAttempts: 4,
      initialBackoffMs: 100,
      maxBackoffMs: 60_000,
      maxRetryAgeMs: 86_400_000,
      throttledDelayMs: 3000,
      rateLimitDefaultDelayMs: 900_000,
      deadlineRiskMarginMs: 3_600_000,
      fallbacks: fallbackChainSchema.parse({
        API_RATE_LIMIT: { action: 'retry_later' },
        default: { action: 'requeue' },
      }),
    }),
    tiers: [
      { topic: TOPICS.SUBMISSION_RETRY_5S, delayMs: 5000 },
      { topic: TOPICS.SUBMISSION_RETRY_15M, delayMs: 900_000 },
    ],
    inlineRetryMaxMs,
    unconfiguredFunders,
    service: { stage: 'submission', name: 'grantstream-submission', version: '0.1.0' },
    now: () => NOW,
    // Mid-range jitter: a backoff never comes out 0 and waits in place by chance.
    random: () => 0.5,
    events: {
      attempted: () => undefined,
      retried: () => undefined,
      escalated: () => undefined,
      duplicate: () => undefined,
    },
    contentState,
  };
  return new SubmissionHandler(deps);
}

/** Submission's content state in memory, with the changelog records it would produce. */
function memoryContentState(): ContentState {
  const state = new Map<string, AcceptedContent[]>();
  return {
    historyOf: (partition, grantId) => state.get(`${partition}/${grantId}`) ?? [],
    accept: (partition, grantId, content) => {
      const accepted = withAccepted(state.get(`${partition}/${grantId}`) ?? [], content, 8);
      state.set(`${partition}/${grantId}`, accepted);
      return { topic: CHANGELOG, key: grantId, value: accepted };
    },
  };
}

function inbound<T>(topic: string, value: T): InboundMessage<T> {
  return {
    topic,
    partition: 2,
    offset: '41',
    key: 'NSF-2026-00001',
    value,
    raw: Buffer.from('input'),
    headers: { [AUDIT_HEAD_HEADER]: Buffer.from(HEAD) },
    schemaId: 1,
    timestamp: String(NOW),
  };
}

const context = { attempt: 1, signal: new AbortController().signal } as HandlerContext;
const on = (records: readonly OutboundRecord[], topic: string) =>
  records.filter((r) => r.topic === topic);
const events = (records: readonly OutboundRecord[]) =>
  on(records, TOPICS.AUDIT).map((r) => r.value as AuditEventV1);

describe('SubmissionHandler', () => {
  it('files a routed grant: first status and a SUBMITTED event chained to the input head', async () => {
    const { portal } = scriptedPortal([
      { kind: 'accepted', trackingNumber: 'TRK-1', status: 'RECEIVED', created: true },
    ]);
    const { records } = await handlerWith(portal).routed(
      inbound(TOPICS.ROUTED, routedGrant()),
      context,
    );
    const [status] = on(records, TOPICS.STATUS);
    const [event] = events(records);
    expect(status?.value).toMatchObject({
      tracking_number: 'TRK-1',
      status: 'RECEIVED',
      terminal: false,
      attempt: 0,
      next_poll_at: NOW + 2000,
    } satisfies Partial<GrantStatusV1>);
    expect(event).toMatchObject({ action: 'SUBMITTED', previous_event_hash: HEAD });
    expect(status?.headers).toEqual({
      [AUDIT_HEAD_HEADER]: event?.event_hash,
      [AUDIT_TRAIL_HEADER]: 'trail-1',
    });
  });

  it('puts a 429 with Retry-After 900 s into the 15-minute tier, not before its time', async () => {
    const { portal } = scriptedPortal([{ kind: 'rate_limited', retryAfterMs: 900_000 }]);
    const { records } = await handlerWith(portal).routed(
      inbound(TOPICS.ROUTED, routedGrant()),
      context,
    );
    const [retry] = on(records, TOPICS.SUBMISSION_RETRY_15M);
    expect(retry?.value).toMatchObject({
      attempt: 1,
      not_before: NOW + 900_000,
      last_error_category: 'API_RATE_LIMIT',
      first_attempt_at: NOW,
    } satisfies Partial<SubmissionRetryV2>);
    expect(events(records).map((e) => e.action)).toEqual(['RETRY']);
  });

  it('defers a retry that is not due, and asks the portal before resubmitting after a timeout', async () => {
    const { portal, calls } = scriptedPortal(['found']);
    const handler = handlerWith(portal);
    const waiting: SubmissionRetryV2 = {
      grant_id: 'NSF-2026-00001',
      audit_trail_id: 'trail-1',
      routed: routedGrant(),
      attempt: 1,
      not_before: NOW + 1,
      last_error_category: 'NETWORK_TIMEOUT',
      last_error_message: 'no answer',
      idempotency_key: 'k',
      first_attempt_at: NOW - 10_000,
      resubmission_of_trail: null,
    };
    expect(await handler.retry(inbound(TOPICS.SUBMISSION_RETRY_5S, waiting), context)).toEqual({
      records: [],
      deferUntil: NOW + 1,
    });
    const due = { ...waiting, not_before: NOW };
    const { records } = await handler.retry(inbound(TOPICS.SUBMISSION_RETRY_5S, due), context);
    expect(calls).toHaveLength(1);
    // The key the earlier attempts carried, whatever the key scheme is now.
    expect(calls[0]).toBe('lookup k');
    expect(on(records, TOPICS.STATUS)[0]?.value).toMatchObject({ tracking_number: 'TRK-9' });
    expect(events(records)[0]?.details).toMatchObject({ attempt: '2', created: 'false' });
  });

  it('waits in place for a retry due within the inline bound instead of deferring it', async () => {
    const { portal, calls } = scriptedPortal([
      { kind: 'accepted', trackingNumber: 'TRK-3', status: 'RECEIVED', created: true },
    ]);
    const soon: SubmissionRetryV2 = {
      grant_id: 'NSF-2026-00001',
      audit_trail_id: 'trail-1',
      routed: routedGrant(),
      attempt: 1,
      not_before: NOW + 50,
      last_error_category: 'API_RATE_LIMIT',
      last_error_message: 'throttled',
      idempotency_key: 'k',
      first_attempt_at: NOW - 1000,
      resubmission_of_trail: null,
    };
    const started = Date.now();
    const result = await handlerWith(portal, 200).retry(
      inbound(TOPICS.SUBMISSION_RETRY_5S, soon),
      context,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(result.deferUntil).toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(on(result.records, TOPICS.STATUS)[0]?.value).toMatchObject({ tracking_number: 'TRK-3' });
    const later = { ...soon, not_before: NOW + 201 };
    expect(
      await handlerWith(portal, 200).retry(inbound(TOPICS.SUBMISSION_RETRY_5S, later), context),
    ).toEqual({ records: [], deferUntil: NOW + 201 });
  });

  it('gives up after an inline retry keeping the RETRY event for the runner to chain its DEAD_LETTER to', async () => {
    const { portal, calls } = scriptedPortal([
      { kind: 'transient', httpStatus: 503, reason: 'down', retryAfterMs: null },
      { kind: 'misconfigured', httpStatus: 401, reason: 'token refused' },
    ]);
    const failure = await handlerWith(portal, 200)
      .routed(inbound(TOPICS.ROUTED, routedGrant()), context)
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(calls).toHaveLength(2);
    expect(failure).toBeInstanceOf(GaveUpError);
    const gaveUp = failure as GaveUpError;
    expect(gaveUp.error).toMatchObject({ code: 'FUNDER_MISCONFIGURED', category: 'CONFIGURATION' });
    expect(gaveUp.error.message).toMatch(/attempt 1: .*503.*attempt 2: .*token refused/s);
    const [retry, ...rest] = events(gaveUp.records);
    expect(rest).toEqual([]);
    expect(retry).toMatchObject({ action: 'RETRY', previous_event_hash: HEAD });
    expect(retry?.details).toMatchObject({ attempt: '1', waits_in: 'place' });
    // Only the content state: the grant was accepted for filing, whatever became of it.
    expect(gaveUp.records.filter((r) => r.topic !== TOPICS.AUDIT).map((r) => r.topic)).toEqual([
      CHANGELOG,
    ]);
    expect(gaveUp.headers).toEqual({
      [AUDIT_HEAD_HEADER]: retry?.event_hash,
      [AUDIT_TRAIL_HEADER]: 'trail-1',
    });
  });

  it('retries in place within the inline bound, recording every attempt in one chain', async () => {
    const { portal, calls } = scriptedPortal([
      { kind: 'transient', httpStatus: 503, reason: 'down', retryAfterMs: null },
      { kind: 'accepted', trackingNumber: 'TRK-2', status: 'RECEIVED', created: true },
    ]);
    const { records } = await handlerWith(portal, 200).routed(
      inbound(TOPICS.ROUTED, routedGrant()),
      context,
    );
    expect(calls).toHaveLength(2);
    const [retry, submitted] = events(records);
    expect([retry?.action, submitted?.action]).toEqual(['RETRY', 'SUBMITTED']);
    expect(retry?.previous_event_hash).toBe(HEAD);
    expect(submitted?.previous_event_hash).toBe(retry?.event_hash);
    expect(submitted?.event_id).not.toBe(retry?.event_id);
  });

  it('ends a 422 as REJECTED_WITH_ERRORS with the portal messages', async () => {
    const { portal } = scriptedPortal([
      { kind: 'rejected', httpStatus: 422, messages: [{ field: 'ein', message: 'EIN unknown' }] },
    ]);
    const { records } = await handlerWith(portal).routed(
      inbound(TOPICS.ROUTED, routedGrant()),
      context,
    );
    expect(on(records, TOPICS.STATUS)[0]?.value).toMatchObject({
      status: 'REJECTED_WITH_ERRORS',
      terminal: true,
      tracking_number: null,
      portal_messages: ['ein: EIN unknown'],
    });
    expect(events(records)[0]).toMatchObject({
      action: 'STATUS_CHANGED',
      error_category: 'FUNDER_REJECTION',
    });
  });

  it('escalates a retry that would end near the deadline: ESCALATED plus a notification request', async () => {
    const { portal } = scriptedPortal([{ kind: 'rate_limited', retryAfterMs: 900_000 }]);
    const { records } = await handlerWith(portal).routed(
      inbound(TOPICS.ROUTED, routedGrant(NOW + 30 * 60_000)),
      context,
    );
    expect(events(records).map((e) => e.action)).toEqual(['RETRY', 'ESCALATED']);
    const [note] = on(records, TOPICS.NOTIFICATIONS);
    const escalated = events(records)[1];
    expect(note?.value).toMatchObject({
      kind: 'DEADLINE_AT_RISK',
      grant_id: 'NSF-2026-00001',
    } satisfies Partial<NotificationRequestV1>);
    expect(note?.headers).toEqual({
      [AUDIT_HEAD_HEADER]: escalated?.event_hash,
      [AUDIT_TRAIL_HEADER]: escalated?.audit_trail_id,
    });
    expect(on(records, TOPICS.SUBMISSION_RETRY_15M)).toHaveLength(1);
  });

  it('dead-letters a spent budget with the last category and every attempt in the reason', async () => {
    const { portal } = scriptedPortal([{ kind: 'timed_out' }]);
    const exhausted: SubmissionRetryV2 = {
      grant_id: 'NSF-2026-00001',
      audit_trail_id: 'trail-1',
      routed: routedGrant(),
      attempt: 3,
      not_before: NOW,
      last_error_category: 'INFRASTRUCTURE',
      last_error_message: '503',
      idempotency_key: 'k',
      first_attempt_at: NOW - 60_000,
      resubmission_of_trail: null,
    };
    const failure = await handlerWith(portal)
      .retry(inbound(TOPICS.SUBMISSION_RETRY_5S, exhausted), context)
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(GaveUpError);
    expect((failure as GaveUpError).error).toMatchObject({
      code: 'RETRY_BUDGET_EXHAUSTED',
      category: 'NETWORK_TIMEOUT',
      retriable: false,
    });
    expect((failure as GaveUpError).error.message).toMatch(/attempt 4: /);
    // No attempt in place: nothing to keep, the DEAD_LETTER event follows the input's head.
    expect((failure as GaveUpError).records).toEqual([]);
    expect((failure as GaveUpError).headers).toEqual({
      [AUDIT_HEAD_HEADER]: HEAD,
      [AUDIT_TRAIL_HEADER]: 'trail-1',
    });
  });

  it('sends a grant our limiter had no room for to the shortest tier, without an audit event', async () => {
    const { portal } = scriptedPortal([]);
    const full: CallLimiter = {
      schedule: () => Promise.resolve({ kind: 'throttled' }),
      counts: () => ({ queued: 0, running: 0 }),
      close: () => Promise.resolve(),
    };
    const guard = new FunderGuard({
      funderId: 'NSF',
      circuit: funderConfig.circuit,
      now: () => NOW,
    });
    const throttled = new FunderPortal(
      'NSF',
      funderConfig,
      guard,
      (portal as unknown as { adapter: GuardedFunderAdapter }).adapter,
      full,
    );
    const { records } = await handlerWith(throttled, 5000).routed(
      inbound(TOPICS.ROUTED, routedGrant(NOW + 60_000)),
      context,
    );
    expect(events(records)).toEqual([]);
    expect(on(records, TOPICS.NOTIFICATIONS)).toEqual([]);
    const [retry] = on(records, TOPICS.SUBMISSION_RETRY_5S);
    expect(retry?.value).toMatchObject({ attempt: 0, not_before: NOW + 3000 });
    expect(retry?.headers).toEqual({ [AUDIT_HEAD_HEADER]: HEAD, [AUDIT_TRAIL_HEADER]: 'trail-1' });
  });

  it('dead-letters a grant of a funder without a portal, or leaves it to another deployment', async () => {
    const { portal, calls } = scriptedPortal([]);
    const other = { ...routedGrant(), funder_id: 'BCF' };
    await expect(
      handlerWith(portal).routed(inbound(TOPICS.ROUTED, other), context),
    ).rejects.toMatchObject({ code: 'UNKNOWN_FUNDER', retriable: false });
    expect(
      await handlerWith(portal, 0, 'skip').routed(inbound(TOPICS.ROUTED, other), context),
    ).toEqual({ records: [] });
    expect(calls).toEqual([]);
  });

  it('keeps the same idempotency key for every attempt of the same payload', async () => {
    const first = scriptedPortal([{ kind: 'timed_out' }]);
    const again = scriptedPortal([
      { kind: 'accepted', trackingNumber: 'T', status: 'RECEIVED', created: true },
    ]);
    await handlerWith(first.portal).routed(inbound(TOPICS.ROUTED, routedGrant()), context);
    await handlerWith(again.portal).routed(inbound(TOPICS.ROUTED, routedGrant()), context);
    expect(first.calls[0]).toBe(again.calls[0]);
  });

  it('files the same content once: a copy on another trail is a duplicate linking the trail that filed it', async () => {
    const accepted = { kind: 'accepted', trackingNumber: 'T', status: 'RECEIVED', created: true };
    const { portal, calls } = scriptedPortal([accepted as SubmitOutcome]);
    const handler = handlerWith(portal);
    const first = await handler.routed(inbound(TOPICS.ROUTED, routedGrant()), context);
    const copy = { ...routedGrant(), audit_trail_id: 'trail-2' };
    const second = await handler.routed({ ...inbound(TOPICS.ROUTED, copy), offset: '42' }, context);
    expect(calls).toHaveLength(1);
    expect(on(first.records, CHANGELOG)).toHaveLength(1);
    expect(second.records.map((r) => r.topic)).toEqual([TOPICS.AUDIT]);
    const [duplicate] = events(second.records);
    expect(duplicate).toMatchObject({ action: 'REJECT', audit_trail_id: 'trail-2' });
    expect(duplicate?.details).toMatchObject({
      outcome: 'DUPLICATE',
      duplicate_of_trail: 'trail-1',
      content_hash: 'c'.repeat(64),
      idempotency_key: calls[0]?.replace('submit ', ''),
    });
  });

  it('files changed content for the same grant as a resubmission under a new key, linked to the earlier trail', async () => {
    const accepted = { kind: 'accepted', trackingNumber: 'T', status: 'RECEIVED', created: true };
    const { portal, calls } = scriptedPortal([accepted, accepted] as SubmitOutcome[]);
    const handler = handlerWith(portal);
    await handler.routed(inbound(TOPICS.ROUTED, routedGrant()), context);
    const base = routedGrant();
    const changed = {
      ...base,
      audit_trail_id: 'trail-2',
      grant: {
        ...base.grant,
        audit_trail_id: 'trail-2',
        content_hash: 'd'.repeat(64),
        normalized_fields: { title: 'Water, revised' },
      },
    };
    const { records } = await handler.routed(inbound(TOPICS.ROUTED, changed), context);
    expect(calls).toHaveLength(2);
    expect(calls[1]).not.toBe(calls[0]);
    const [submitted] = events(records);
    expect(submitted?.action).toBe('SUBMITTED');
    expect(submitted?.details).toMatchObject({
      resubmission_of_trail: 'trail-1',
      content_hash: 'd'.repeat(64),
    });
    expect(on(records, CHANGELOG)[0]?.value).toHaveLength(2);
  });

  it('handles its own trail again as the first time (a retried handling): filed under the same key, no new state', async () => {
    const accepted = { kind: 'accepted', trackingNumber: 'T', status: 'RECEIVED', created: true };
    const { portal, calls } = scriptedPortal([accepted, accepted] as SubmitOutcome[]);
    const handler = handlerWith(portal);
    const first = await handler.routed(inbound(TOPICS.ROUTED, routedGrant()), context);
    const again = await handler.routed(inbound(TOPICS.ROUTED, routedGrant()), context);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBe(calls[0]);
    expect(on(again.records, CHANGELOG)).toEqual([]);
    expect(events(again.records)).toEqual(events(first.records));
  });
});
