import { describe, expect, it } from 'vitest';
import { auditTrailIdFor } from '@grantstream/audit';
import { DLQ_HEADERS } from '@grantstream/contracts';
import { fromDeadLetter, type DeadLetterInput } from './dead-letter';
import { notificationIdOf, type NotificationCause, type NotificationKind } from './notification';

const CAUSE: NotificationCause = { auditHead: 'e'.repeat(64) };
const FAILED_AT = '2026-03-02T10:05:00.000Z';
const BROKER_TIME = Date.parse('2026-03-02T10:05:01.000Z');

/** The headers libs/kafka's deadLetterOf writes, for a submission that ran out of retries. */
const HEADERS: Record<string, string> = {
  [DLQ_HEADERS.STAGE]: 'submission',
  [DLQ_HEADERS.SERVICE]: 'grantstream-submission@0.1.0',
  [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.routed.v1',
  [DLQ_HEADERS.SOURCE_PARTITION]: '4',
  [DLQ_HEADERS.SOURCE_OFFSET]: '1207',
  [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
  [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
  [DLQ_HEADERS.REASON]: '8 attempts timed out',
  [DLQ_HEADERS.ATTEMPTS]: '8',
  [DLQ_HEADERS.FAILED_AT]: FAILED_AT,
  'grantstream.audit.head': 'e'.repeat(64),
};

function input(
  headers: Record<string, string | undefined> = HEADERS,
  key: string | null = 'NSF-2026-00042',
): DeadLetterInput {
  return {
    key,
    headers,
    position: { topic: 'grants.dlq.v1', partition: 1, offset: '99' },
    timestamp: BROKER_TIME,
  };
}

const without = (...names: string[]) =>
  Object.fromEntries(Object.entries(HEADERS).filter(([k]) => !names.includes(k)));

function notice(i: DeadLetterInput) {
  const outcome = fromDeadLetter(i, CAUSE, 'notification');
  if (outcome.action !== 'notify') throw new Error(`expected a notification: ${outcome.reason}`);
  return outcome.notification;
}

describe('fromDeadLetter', () => {
  it('notifies DEAD_LETTER with stage, category, code, reason, source position and attempts', () => {
    const n = notice(input());
    expect(n).toEqual({
      notificationId: notificationIdOf('DEAD_LETTER', 'NSF-2026-00042', CAUSE),
      kind: 'DEAD_LETTER',
      grantId: 'NSF-2026-00042',
      funderId: 'NSF',
      auditTrailId: auditTrailIdFor({ topic: 'grants.routed.v1', partition: 4, offset: 1207 }),
      errorCategory: 'NETWORK_TIMEOUT',
      severity: 'MEDIUM',
      summary:
        'NSF-2026-00042: the submission stage gave up after 8 attempts (NETWORK_TIMEOUT RETRY_BUDGET_EXHAUSTED: 8 attempts timed out); fix and redrive it',
      details: {
        stage: 'submission',
        error_category: 'NETWORK_TIMEOUT',
        error_code: 'RETRY_BUDGET_EXHAUSTED',
        reason: '8 attempts timed out',
        attempts: '8',
        source_topic: 'grants.routed.v1',
        source_partition: '4',
        source_offset: '1207',
        failed_at: FAILED_AT,
        service: 'grantstream-submission@0.1.0',
        dlq_position: 'grants.dlq.v1/1/99',
      },
      deadline: null,
      requestedBy: 'submission',
      requestedAt: Date.parse(FAILED_AT),
      ruleSetVersion: null,
    });
  });

  it.each<[string, Record<string, string | undefined>, NotificationKind, string, RegExp]>([
    [
      'an unresolved status is its own kind',
      {
        ...HEADERS,
        [DLQ_HEADERS.STAGE]: 'status-polling',
        [DLQ_HEADERS.ERROR_CATEGORY]: 'STATUS_UNRESOLVED',
        [DLQ_HEADERS.ERROR_CODE]: 'STATUS_UNRESOLVED',
        [DLQ_HEADERS.REASON]: 'still PROCESSING after 600000 ms',
      },
      'STATUS_UNRESOLVED',
      'MEDIUM',
      /never reported a final status \(STATUS_UNRESOLVED STATUS_UNRESOLVED: still PROCESSING after 600000 ms\); ask the funder$/,
    ],
    [
      'a schema violation is HIGH',
      {
        ...HEADERS,
        [DLQ_HEADERS.STAGE]: 'ingest',
        [DLQ_HEADERS.ATTEMPTS]: '1',
        [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION',
      },
      'DEAD_LETTER',
      'HIGH',
      /the ingest stage gave up after 1 attempt \(SCHEMA_VIOLATION/,
    ],
    [
      'a category we do not know is MEDIUM',
      { ...HEADERS, [DLQ_HEADERS.ERROR_CATEGORY]: 'SOMETHING_NEW' },
      'DEAD_LETTER',
      'MEDIUM',
      /\(SOMETHING_NEW RETRY_BUDGET_EXHAUSTED/,
    ],
    [
      'a foreign record without our headers still reaches a person',
      {},
      'DEAD_LETTER',
      'MEDIUM',
      /^NSF-2026-00042: the unknown stage gave up \(UNCATEGORIZED NO_CODE\)/,
    ],
  ])('%s', (_name, headers, kind, severity, summary) => {
    const n = notice(input(headers));
    expect(n.kind).toBe(kind);
    expect(n.severity).toBe(severity);
    expect(n.summary).toMatch(summary);
    expect(n.notificationId).toBe(notificationIdOf(kind, 'NSF-2026-00042', CAUSE));
  });

  it.each<[string, Record<string, string | undefined>, string | null, string]>([
    [
      'the grant id header first',
      { ...HEADERS, [DLQ_HEADERS.GRANT_ID]: 'BCF-2026-00001' },
      'NSF-2026-00042',
      'BCF-2026-00001',
    ],
    ['then the key', HEADERS, 'NSF-2026-00042', 'NSF-2026-00042'],
    ['an empty key is no key', HEADERS, '', 'UNKEYED-grants.routed.v1-4-1207'],
    [
      'then the source position, as the dead letter audit names it',
      HEADERS,
      null,
      'UNKEYED-grants.routed.v1-4-1207',
    ],
    ['then the dead letter position', {}, null, 'UNKEYED-grants.dlq.v1-1-99'],
  ])('names the grant by %s', (_name, headers, key, grantId) => {
    expect(notice(input(headers, key)).grantId).toBe(grantId);
  });

  it.each<[string, Record<string, string | undefined>, string]>([
    [
      'the audit trail id header',
      { ...HEADERS, [DLQ_HEADERS.AUDIT_TRAIL_ID]: 'trail-1' },
      'trail-1',
    ],
    [
      'the trail id derived from the source position otherwise',
      HEADERS,
      auditTrailIdFor({ topic: 'grants.routed.v1', partition: 4, offset: 1207 }),
    ],
    [
      'the dead letter position without source headers',
      without(DLQ_HEADERS.SOURCE_OFFSET),
      auditTrailIdFor({ topic: 'grants.dlq.v1', partition: 1, offset: 99 }),
    ],
  ])('takes %s', (_name, headers, trail) => {
    expect(notice(input(headers)).auditTrailId).toBe(trail);
  });

  it.each<[string, Record<string, string | undefined>, number]>([
    ['failed_at when readable', HEADERS, Date.parse(FAILED_AT)],
    [
      'the broker time otherwise',
      { ...HEADERS, [DLQ_HEADERS.FAILED_AT]: 'yesterday' },
      BROKER_TIME,
    ],
    ['the broker time when absent', without(DLQ_HEADERS.FAILED_AT), BROKER_TIME],
  ])('dates the request by %s', (_name, headers, at) => {
    expect(notice(input(headers)).requestedAt).toBe(at);
  });

  it('keeps the redrive count when ops redrove the message before', () => {
    expect(
      notice(input({ ...HEADERS, [DLQ_HEADERS.REDRIVE_COUNT]: '2' })).details['redrive_count'],
    ).toBe('2');
  });

  it('does not notify a dead letter of the notification stage itself: it logs it as an error', () => {
    const outcome = fromDeadLetter(
      input({
        ...HEADERS,
        [DLQ_HEADERS.STAGE]: 'notification',
        [DLQ_HEADERS.ERROR_CODE]: 'WEBHOOK_REJECTED',
      }),
      CAUSE,
      'notification',
    );
    expect(outcome.action).toBe('ignore');
    if (outcome.action !== 'ignore') return;
    expect(outcome.level).toBe('error');
    expect(outcome.reason).toMatch(/NSF-2026-00042 .*notification stage itself \(WEBHOOK_REJECTED/);
  });
});
