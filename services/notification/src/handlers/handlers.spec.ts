import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_HEAD_HEADER,
  ChainVerifier,
  buildAuditEvent,
  computeEventHash,
  payloadHashOf,
  type AuditDecision,
} from '@grantstream/audit';
import { fallbackChainSchema } from '@grantstream/config';
import { DLQ_HEADERS, TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import {
  RAW_INPUT,
  stageInputOf,
  type HandlerResult,
  type InboundMessage,
} from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { NOTIFICATION_KINDS, notificationIdOf } from '../domain/notification';
import { NotificationModule } from '../notification.module';
import { Notifier, type DeliveryContext, type NotificationDeps } from '../notifier';
import { aBlockedGrant, aRequest, aStatus } from '../test-support/builders';
import type { WebhookSender } from '../webhook/webhook-client';
import { WebhookUnavailableError } from '../webhook/webhook-errors';
import { GrantsComplianceBlockedHandler } from './grants-compliance-blocked.handler';
import { GrantsDlqHandler } from './grants-dlq.handler';
import { GrantsNotificationsHandler } from './grants-notifications.handler';
import { GrantsStatusHandler } from './grants-status.handler';

const NOW = Date.parse('2026-03-02T10:00:05Z');
const SERVICE = { stage: 'notification', name: 'grantstream-notification', version: '0.1.0' };

/** The trail before the notification: INGESTED, then routing's REJECT (the head the input carries). */
function trailOf(grantId: string): AuditEventV1[] {
  const decision = (stage: string, action: AuditDecision['action'], offset: number) => ({
    grantId,
    funderId: grantId.split('-')[0] ?? 'NSF',
    auditTrailId: 'trail',
    stage,
    action,
    payloadHash: 'a'.repeat(64),
    service: { name: `grantstream-${stage}`, version: '0.1.0' },
    occurredAt: NOW - 1000 + offset,
    source: { topic: 'grants.x.v1', partition: 0, offset },
  });
  const ingested = buildAuditEvent(decision('ingest', 'INGESTED', 1), AUDIT_GENESIS_HASH).event;
  const rejected = buildAuditEvent(decision('routing', 'REJECT', 2), ingested.event_hash).event;
  return [ingested, rejected];
}

interface Delivery {
  id: string;
  payload: Record<string, unknown>;
}

/** A webhook that records deliveries and fails the first `failures` of them with `error`. */
function fakeWebhook(failures = 0, error: Error = new WebhookUnavailableError('down')) {
  const deliveries: Delivery[] = [];
  let calls = 0;
  const webhook: WebhookSender = {
    deliver(id, payload) {
      calls += 1;
      if (calls <= failures) return Promise.reject(error);
      deliveries.push({ id, payload: payload as Record<string, unknown> });
      return Promise.resolve({ status: 201 });
    },
  };
  return { webhook, deliveries, calls: () => calls };
}

function setup(options: { failures?: number; kinds?: NotificationDeps['policy']['kinds'] } = {}) {
  const hook = fakeWebhook(options.failures);
  const notifier = new Notifier({
    service: SERVICE,
    webhook: hook.webhook,
    policy: {
      kinds: options.kinds ?? NOTIFICATION_KINDS,
      fallbacks: fallbackChainSchema.parse({
        COMPLIANCE_BLOCK: { action: 'notify' },
        FUNDER_REJECTION: { action: 'notify' },
        default: { action: 'requeue' },
      }),
    },
    now: () => NOW,
  });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    service: 'test',
    level: 'debug',
    destination: {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  const context: DeliveryContext = { signal: new AbortController().signal, log };
  return { hook, notifier, context, lines };
}

function message<T>(
  topic: string,
  value: T,
  head: string | null,
  extraHeaders: Record<string, string> = {},
  key = 'NSF-2026-00042',
): InboundMessage<T> {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(extraHeaders)) headers[k] = Buffer.from(v);
  if (head !== null) headers[AUDIT_HEAD_HEADER] = Buffer.from(head);
  return {
    topic,
    partition: 3,
    offset: '41',
    key,
    value,
    raw: Buffer.from(`bytes of ${topic}/${key}`),
    headers,
    schemaId: 7,
    timestamp: String(NOW - 500),
  };
}

const auditOf = (result: HandlerResult): AuditEventV1 => {
  expect(result.records).toHaveLength(1);
  const record = result.records[0];
  expect(record?.topic).toBe(TOPICS.AUDIT);
  return record?.value as AuditEventV1;
};

describe('compliance-blocked handler', () => {
  const [, rejected] = trailOf('NSF-2026-00042');
  const head = rejected?.event_hash ?? '';

  it('delivers once and returns a NOTIFIED annotation anchored to the input head', async () => {
    const { hook, notifier, context, lines } = setup();
    const input = message(TOPICS.COMPLIANCE_BLOCKED, aBlockedGrant(), head);
    const result = await new GrantsComplianceBlockedHandler(notifier).handle(input, context);

    const id = notificationIdOf('COMPLIANCE_BLOCK', 'NSF-2026-00042', { auditHead: head });
    expect(hook.deliveries.map((d) => d.id)).toEqual([id]);
    expect(hook.deliveries[0]?.payload).toMatchObject({
      kind: 'COMPLIANCE_BLOCK',
      notification_id: id,
    });

    const event = auditOf(result);
    expect(event).toMatchObject({
      grant_id: 'NSF-2026-00042',
      funder_id: 'NSF',
      audit_trail_id: '0b5c3a9e-1d2f-4a6b-8c7d-9e0f1a2b3c4d',
      stage: 'notification',
      action: 'NOTIFIED',
      error_category: 'COMPLIANCE_BLOCK',
      severity: 'HIGH',
      rule_set_version: '2026.1.0',
      payload_hash: payloadHashOf(input.raw),
      service_name: 'grantstream-notification',
      service_version: '0.1.0',
      occurred_at: NOW,
      previous_event_hash: head,
      source: { topic: TOPICS.COMPLIANCE_BLOCKED, partition: 3, offset: 41 },
    });
    expect(event.details).toMatchObject({
      kind: 'COMPLIANCE_BLOCK',
      notification_id: id,
      webhook_status: '201',
    });
    expect(computeEventHash(event)).toBe(event.event_hash);
    // An annotation: the notification's event never becomes the head of the trail.
    expect(result.records[0]?.headers).toBeUndefined();

    const delivered = lines.find((l) => l['msg'] === 'notification delivered');
    expect(delivered).toMatchObject({
      grantId: 'NSF-2026-00042',
      kind: 'COMPLIANCE_BLOCK',
      notificationId: id,
      webhookStatus: 201,
    });
  });

  it('leaves the trail verifiable while the grant moves on from the same head', async () => {
    const { notifier, context } = setup();
    const trail = trailOf('NSF-2026-00042');
    const result = await new GrantsComplianceBlockedHandler(notifier).handle(
      message(TOPICS.COMPLIANCE_BLOCKED, aBlockedGrant(), head),
      context,
    );
    // A later step chained to the same head (a redrive) does not fork the trail.
    const later = buildAuditEvent(
      {
        grantId: 'NSF-2026-00042',
        funderId: 'NSF',
        auditTrailId: 'trail',
        stage: 'grantctl',
        action: 'REDRIVEN',
        payloadHash: 'a'.repeat(64),
        service: { name: 'grantctl', version: '0.1.0' },
        occurredAt: NOW + 10,
        source: null,
        discriminator: 'op-1',
      },
      head,
    ).event;
    const verifier = new ChainVerifier();
    [...trail, auditOf(result), later].forEach((event, i) =>
      verifier.add({
        key: `${event.grant_id}:${event.event_id}`,
        event,
        partition: 0,
        offset: String(i),
      }),
    );
    const report = verifier.finish();
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('is redelivered with the same id and the same event', async () => {
    const first = setup();
    const second = setup();
    const input = message(TOPICS.COMPLIANCE_BLOCKED, aBlockedGrant(), head);
    const a = await new GrantsComplianceBlockedHandler(first.notifier).handle(input, first.context);
    const b = await new GrantsComplianceBlockedHandler(second.notifier).handle(
      input,
      second.context,
    );
    expect(second.hook.deliveries[0]?.id).toBe(first.hook.deliveries[0]?.id);
    expect(auditOf(b)).toEqual(auditOf(a));
  });

  it('throws the retriable error of an unavailable webhook, so the runner retries', async () => {
    const { hook, notifier, context, lines } = setup({ failures: 1 });
    const handler = new GrantsComplianceBlockedHandler(notifier);
    const input = message(TOPICS.COMPLIANCE_BLOCKED, aBlockedGrant(), head);
    await expect(handler.handle(input, context)).rejects.toBeInstanceOf(WebhookUnavailableError);
    expect(hook.deliveries).toEqual([]);
    expect(lines.find((l) => l['msg'] === 'notification not delivered')).toMatchObject({
      grantId: 'NSF-2026-00042',
      level: 'warn',
    });
    // The retry delivers it and audits it once.
    expect(auditOf(await handler.handle(input, context)).action).toBe('NOTIFIED');
    expect(hook.deliveries).toHaveLength(1);
  });

  it('delivers without an audit event when the input carries no audit head', async () => {
    const { hook, notifier, context, lines } = setup();
    const result = await new GrantsComplianceBlockedHandler(notifier).handle(
      message(TOPICS.COMPLIANCE_BLOCKED, aBlockedGrant(), null),
      context,
    );
    expect(hook.deliveries).toHaveLength(1);
    expect(hook.deliveries[0]?.id).toBe(
      notificationIdOf('COMPLIANCE_BLOCK', 'NSF-2026-00042', {
        topic: TOPICS.COMPLIANCE_BLOCKED,
        partition: 3,
        offset: '41',
      }),
    );
    expect(result.records).toEqual([]);
    expect(lines.some((l) => /no audit head/.test(String(l['msg'])))).toBe(true);
  });

  it('skips a kind that is not configured, and says so', async () => {
    const { hook, notifier, context, lines } = setup({ kinds: ['DEAD_LETTER'] });
    const result = await new GrantsComplianceBlockedHandler(notifier).handle(
      message(TOPICS.COMPLIANCE_BLOCKED, aBlockedGrant(), head),
      context,
    );
    expect(result.records).toEqual([]);
    expect(hook.calls()).toBe(0);
    expect(lines.find((l) => l['msg'] === 'nothing to notify')).toMatchObject({
      level: 'info',
      reason: expect.stringContaining('COMPLIANCE_BLOCK is not in notification.kinds') as string,
    });
  });
});

describe('dead-letter handler', () => {
  const head = 'd'.repeat(64);
  const dlqHeaders = (stage: string) => ({
    [DLQ_HEADERS.STAGE]: stage,
    [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.routed.v1',
    [DLQ_HEADERS.SOURCE_PARTITION]: '1',
    [DLQ_HEADERS.SOURCE_OFFSET]: '5',
    [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
    [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
    [DLQ_HEADERS.REASON]: 'gave up',
    [DLQ_HEADERS.ATTEMPTS]: '8',
  });

  it('reads raw bytes: nothing is decoded', () => {
    const contract = stageInputOf(Reflect.get(GrantsDlqHandler.prototype, 'handle'));
    expect(contract?.avro).toBeNull();
    expect(contract?.zod).toBe(RAW_INPUT.zod);
  });

  it('notifies a dead letter and annotates its DEAD_LETTER event', async () => {
    const { hook, notifier, context } = setup();
    const input = message(TOPICS.DLQ, Buffer.from([0, 1, 2]), head, dlqHeaders('submission'));
    const result = await new GrantsDlqHandler(notifier).handle(input, context);
    expect(hook.deliveries[0]?.payload).toMatchObject({
      kind: 'DEAD_LETTER',
      grant_id: 'NSF-2026-00042',
      details: { stage: 'submission', error_code: 'RETRY_BUDGET_EXHAUSTED', attempts: '8' },
    });
    const event = auditOf(result);
    expect(event.previous_event_hash).toBe(head);
    expect(event.error_category).toBe('NETWORK_TIMEOUT');
    expect(event.payload_hash).toBe(payloadHashOf(input.raw));
  });

  it('never re-notifies a dead letter of its own stage: logged at error, no delivery', async () => {
    const { hook, notifier, context, lines } = setup();
    const result = await new GrantsDlqHandler(notifier).handle(
      message(TOPICS.DLQ, Buffer.from([0]), head, dlqHeaders('notification')),
      context,
    );
    expect(result.records).toEqual([]);
    expect(hook.calls()).toBe(0);
    expect(lines.find((l) => l['msg'] === 'nothing to notify')?.['level']).toBe('error');
  });
});

describe('status handler', () => {
  const head = '5'.repeat(64);

  it('notifies a terminal rejection', async () => {
    const { hook, notifier, context } = setup();
    const result = await new GrantsStatusHandler(notifier).handle(
      message(TOPICS.STATUS, aStatus(), head, {}, 'BCF-2026-00007'),
      context,
    );
    expect(hook.deliveries[0]?.payload).toMatchObject({
      kind: 'FUNDER_REJECTION',
      details: { tracking_number: 'BCF-TRK-000123', portal_message_1: 'budget_narrative: missing' },
    });
    expect(auditOf(result)).toMatchObject({ action: 'NOTIFIED', previous_event_hash: head });
  });

  it.each([
    ['RECEIVED', false],
    ['AGENCY_TRACKING_NUMBER_ASSIGNED', true],
  ] as const)('returns no records for %s', async (status, terminal) => {
    const { hook, notifier, context } = setup();
    const result = await new GrantsStatusHandler(notifier).handle(
      message(TOPICS.STATUS, aStatus({ status, terminal }), head),
      context,
    );
    expect(result).toEqual({ records: [] });
    expect(hook.calls()).toBe(0);
  });
});

describe('notification request handler', () => {
  it("delivers a request with its own id and annotates submission's ESCALATED event", async () => {
    const head = '6'.repeat(64);
    const { hook, notifier, context } = setup();
    const result = await new GrantsNotificationsHandler(notifier).handle(
      message(TOPICS.NOTIFICATIONS, aRequest(), head, {}, 'SCDA-2026-00003'),
      context,
    );
    expect(hook.deliveries.map((d) => d.id)).toEqual(['f'.repeat(64)]);
    expect(auditOf(result)).toMatchObject({
      grant_id: 'SCDA-2026-00003',
      action: 'NOTIFIED',
      error_category: 'DEADLINE_AT_RISK',
      severity: 'MEDIUM',
      previous_event_hash: head,
      details: expect.objectContaining({ kind: 'DEADLINE_AT_RISK' }) as Record<string, string>,
    });
  });
});

describe('NotificationModule', () => {
  it('wires every handler to the shared notifier', async () => {
    const { hook } = setup();
    const app = await NestFactory.createApplicationContext(
      NotificationModule.forRoot({
        service: SERVICE,
        webhook: hook.webhook,
        policy: {
          kinds: NOTIFICATION_KINDS,
          fallbacks: fallbackChainSchema.parse({ default: { action: 'notify' } }),
        },
        now: () => NOW,
      }),
      { logger: false },
    );
    try {
      for (const handler of [
        GrantsComplianceBlockedHandler,
        GrantsDlqHandler,
        GrantsStatusHandler,
        GrantsNotificationsHandler,
      ]) {
        expect(app.get(handler)).toBeInstanceOf(handler);
      }
      expect(app.get(Notifier).stage).toBe('notification');
    } finally {
      await app.close();
    }
  });
});
