import { describe, expect, it } from 'vitest';
import { fallbackChainSchema } from '@grantstream/config';
import { fromComplianceBlock } from './compliance-block';
import { fromDeadLetter } from './dead-letter';
import { fromGrantStatus } from './grant-status';
import {
  NOTIFICATION_KINDS,
  applyDeliveryPolicy,
  notificationIdOf,
  webhookPayloadOf,
  type DeliveryPolicy,
  type Notification,
  type NotificationCause,
  type NotificationKind,
  type NotificationOutcome,
} from './notification';
import { fromRequest } from './request';
import { aBlockedGrant, aRequest, aStatus } from '../test-support/builders';

const HEAD_A = 'a'.repeat(64);
const HEAD_B = 'b'.repeat(64);
const AT_0: NotificationCause = { topic: 'grants.status.v1', partition: 0, offset: '7' };

describe('notificationIdOf', () => {
  const base = notificationIdOf('COMPLIANCE_BLOCK', 'NSF-2026-00042', { auditHead: HEAD_A });

  it('is a SHA-256 hex digest, the same for the same cause', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(notificationIdOf('COMPLIANCE_BLOCK', 'NSF-2026-00042', { auditHead: HEAD_A })).toBe(
      base,
    );
  });

  it.each<[string, NotificationKind, string, NotificationCause]>([
    ['another kind', 'DEAD_LETTER', 'NSF-2026-00042', { auditHead: HEAD_A }],
    ['another grant', 'COMPLIANCE_BLOCK', 'NSF-2026-00043', { auditHead: HEAD_A }],
    ['another audit head', 'COMPLIANCE_BLOCK', 'NSF-2026-00042', { auditHead: HEAD_B }],
    ['a position instead of a head', 'COMPLIANCE_BLOCK', 'NSF-2026-00042', AT_0],
  ])('differs for %s', (_name, kind, grantId, cause) => {
    expect(notificationIdOf(kind, grantId, cause)).not.toBe(base);
  });

  it.each<[string, NotificationCause]>([
    ['partition', { ...AT_0, partition: 1 }],
    ['offset', { ...AT_0, offset: '8' }],
    ['topic', { ...AT_0, topic: 'grants.dlq.v1' }],
  ])('tells positions apart by %s', (_name, cause) => {
    expect(notificationIdOf('DEAD_LETTER', 'NSF-2026-00042', cause)).not.toBe(
      notificationIdOf('DEAD_LETTER', 'NSF-2026-00042', AT_0),
    );
  });
});

describe('every input gives the same notification on redelivery', () => {
  const cause: NotificationCause = { auditHead: HEAD_A };
  const dlq = {
    key: 'NSF-2026-00042',
    headers: { 'grantstream.dlq.stage': 'submission', 'grantstream.dlq.failed_at': 'x' },
    position: { topic: 'grants.dlq.v1', partition: 1, offset: '12' },
    timestamp: 1_700_000_000_000,
  };
  it.each<[string, () => NotificationOutcome]>([
    ['compliance block', () => fromComplianceBlock(aBlockedGrant(), cause)],
    ['dead letter', () => fromDeadLetter(dlq, cause, 'notification')],
    ['status', () => fromGrantStatus(aStatus(), cause)],
    ['request', () => fromRequest(aRequest(), cause)],
  ])('%s', (_name, build) => {
    const first = build();
    expect(first.action).toBe('notify');
    expect(build()).toEqual(first);
  });
});

const blockNotice = (
  fromComplianceBlock(aBlockedGrant(), { auditHead: HEAD_A }) as {
    notification: Notification;
  }
).notification;
const notify = (kind: NotificationKind): NotificationOutcome => ({
  action: 'notify',
  notification: { ...blockNotice, kind },
});
/** The checked-in chain's shape: both gated categories notify, every other one requeues. */
const chain = (
  over: { COMPLIANCE_BLOCK?: string; FUNDER_REJECTION?: string; default?: string } = {},
) =>
  fallbackChainSchema.parse({
    COMPLIANCE_BLOCK: { action: over.COMPLIANCE_BLOCK ?? 'notify' },
    FUNDER_REJECTION: { action: over.FUNDER_REJECTION ?? 'notify' },
    default: { action: over.default ?? 'requeue' },
  });

describe('applyDeliveryPolicy', () => {
  const all: DeliveryPolicy = { kinds: NOTIFICATION_KINDS, fallbacks: chain() };
  const onlyDefault = (action: string): DeliveryPolicy => ({
    ...all,
    fallbacks: fallbackChainSchema.parse({ default: { action } }),
  });

  it.each<[string, NotificationKind, DeliveryPolicy, boolean, RegExp | null]>([
    ['every kind by default: compliance block', 'COMPLIANCE_BLOCK', all, true, null],
    ['every kind by default: deadline at risk', 'DEADLINE_AT_RISK', all, true, null],
    ['every kind by default: funder rejection', 'FUNDER_REJECTION', all, true, null],
    ['every kind by default: dead letter', 'DEAD_LETTER', all, true, null],
    ['every kind by default: status unresolved', 'STATUS_UNRESOLVED', all, true, null],
    [
      'a kind not listed',
      'DEAD_LETTER',
      { ...all, kinds: ['COMPLIANCE_BLOCK'] },
      false,
      /DEAD_LETTER is not in notification.kinds/,
    ],
    [
      'a compliance block the chain requeues',
      'COMPLIANCE_BLOCK',
      { ...all, fallbacks: chain({ COMPLIANCE_BLOCK: 'requeue' }) },
      false,
      /sends COMPLIANCE_BLOCK to requeue/,
    ],
    [
      'a compliance block the chain dead-letters',
      'COMPLIANCE_BLOCK',
      { ...all, fallbacks: chain({ COMPLIANCE_BLOCK: 'dead_letter' }) },
      false,
      /sends COMPLIANCE_BLOCK to dead_letter/,
    ],
    [
      'a funder rejection the chain requeues',
      'FUNDER_REJECTION',
      { ...all, fallbacks: chain({ FUNDER_REJECTION: 'requeue' }) },
      false,
      /sends FUNDER_REJECTION to requeue/,
    ],
    [
      'a funder rejection the chain retries later',
      'FUNDER_REJECTION',
      { ...all, fallbacks: chain({ FUNDER_REJECTION: 'retry_later' }) },
      false,
      /sends FUNDER_REJECTION to retry_later/,
    ],
    [
      'a funder rejection whatever the chain says of compliance blocks',
      'FUNDER_REJECTION',
      { ...all, fallbacks: chain({ COMPLIANCE_BLOCK: 'requeue' }) },
      true,
      null,
    ],
    [
      'a compliance block whatever the chain says of funder rejections',
      'COMPLIANCE_BLOCK',
      { ...all, fallbacks: chain({ FUNDER_REJECTION: 'dead_letter' }) },
      true,
      null,
    ],
    [
      'a compliance block through the chain default',
      'COMPLIANCE_BLOCK',
      onlyDefault('notify'),
      true,
      null,
    ],
    [
      'a funder rejection through the chain default',
      'FUNDER_REJECTION',
      onlyDefault('notify'),
      true,
      null,
    ],
    [
      'a funder rejection the chain default requeues',
      'FUNDER_REJECTION',
      onlyDefault('requeue'),
      false,
      /sends FUNDER_REJECTION to requeue/,
    ],
    [
      'a deadline at risk whatever the chain says',
      'DEADLINE_AT_RISK',
      onlyDefault('requeue'),
      true,
      null,
    ],
    [
      'a dead letter whatever the chain says',
      'DEAD_LETTER',
      onlyDefault('dead_letter'),
      true,
      null,
    ],
    [
      'an unresolved status whatever the chain says',
      'STATUS_UNRESOLVED',
      onlyDefault('requeue'),
      true,
      null,
    ],
  ])('%s', (_name, kind, policy, delivered, reason) => {
    const outcome = applyDeliveryPolicy(notify(kind), policy);
    expect(outcome.action).toBe(delivered ? 'notify' : 'ignore');
    if (outcome.action === 'ignore') {
      expect(outcome.level).toBe('info');
      expect(outcome.reason).toMatch(reason ?? /^$/);
    }
  });

  it('leaves an ignore as it is', () => {
    const outcome = { action: 'ignore', reason: 'progress', level: 'debug' } as const;
    expect(applyDeliveryPolicy(outcome, all)).toBe(outcome);
  });
});

describe('webhookPayloadOf', () => {
  it('carries every field in snake case, times as ISO-8601 UTC', () => {
    const payload = webhookPayloadOf(blockNotice);
    expect(payload).toEqual({
      notification_id: blockNotice.notificationId,
      kind: 'COMPLIANCE_BLOCK',
      grant_id: 'NSF-2026-00042',
      funder_id: 'NSF',
      audit_trail_id: blockNotice.auditTrailId,
      error_category: 'COMPLIANCE_BLOCK',
      severity: 'HIGH',
      summary: blockNotice.summary,
      details: blockNotice.details,
      deadline: '2026-04-01T21:00:00.000Z',
      requested_by: 'routing',
      requested_at: '2026-03-02T10:00:00.000Z',
    });
    expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
  });

  it('says null for an unknown deadline', () => {
    expect(webhookPayloadOf({ ...blockNotice, deadline: null }).deadline).toBeNull();
  });
});
