import { Inject, Injectable } from '@nestjs/common';
import {
  AUDIT_GENESIS_HASH,
  payloadHashOf,
  previousEventHashOf,
  stageAuditRecord,
} from '@grantstream/audit';
import type {
  HandlerContext,
  HandlerResult,
  InboundMessage,
  ServiceIdentity,
} from '@grantstream/kafka';
import {
  applyDeliveryPolicy,
  webhookPayloadOf,
  type DeliveryPolicy,
  type Notification,
  type NotificationCause,
  type NotificationOutcome,
} from './domain/notification';
import type { WebhookSender } from './webhook/webhook-client';

/** Injection token of {@link NotificationDeps}. */
export const NOTIFICATION_DEPS = Symbol('NOTIFICATION_DEPS');

/** What the handlers need, provided by the module (built once at startup from validated config). */
export interface NotificationDeps {
  service: ServiceIdentity;
  webhook: WebhookSender;
  policy: DeliveryPolicy;
  now: () => number;
}

/** The part of the runner's context delivery uses (a StageContext has it too). */
export type DeliveryContext = Pick<HandlerContext, 'signal' | 'log'>;

const auditSeverity = (severity: string): 'HIGH' | 'MEDIUM' | null =>
  severity === 'HIGH' || severity === 'MEDIUM' ? severity : null;

/**
 * The plumbing every handler shares: the delivery policy, the webhook call
 * and the NOTIFIED audit event. The event is an annotation of the event that
 * caused the notification (the head the input carries): it points to that
 * event without becoming the trail's head, so no head header is passed on.
 */
@Injectable()
export class Notifier {
  constructor(@Inject(NOTIFICATION_DEPS) private readonly deps: NotificationDeps) {}

  /** The stage's name: dead letters it produced itself are not notified again. */
  get stage(): string {
    return this.deps.service.stage;
  }

  /** The cause of a notification about `message`: the audit event it carries, else its position. */
  causeOf(message: InboundMessage<unknown>): NotificationCause {
    const head = previousEventHashOf(message.headers);
    return head !== AUDIT_GENESIS_HASH
      ? { auditHead: head }
      : { topic: message.topic, partition: message.partition, offset: message.offset };
  }

  /**
   * Carries out an outcome: an ignored input passes with a log line; a
   * notification is delivered (an unavailable webhook throws, and the runner
   * retries until it answers), logged, and answered with its audit event.
   */
  async settle(
    message: InboundMessage<unknown>,
    decided: NotificationOutcome,
    context: DeliveryContext,
  ): Promise<HandlerResult> {
    const outcome = applyDeliveryPolicy(decided, this.deps.policy);
    if (outcome.action === 'ignore') {
      context.log[outcome.level]({ reason: outcome.reason }, 'nothing to notify');
      return { records: [] };
    }
    const notification = outcome.notification;
    const log = context.log.child({
      grantId: notification.grantId,
      kind: notification.kind,
      notificationId: notification.notificationId,
    });
    let status: number;
    try {
      ({ status } = await this.deps.webhook.deliver(
        notification.notificationId,
        webhookPayloadOf(notification),
        context.signal,
      ));
    } catch (err) {
      if (!context.signal.aborted) {
        log.warn({ err: (err as Error).message }, 'notification not delivered');
      }
      throw err;
    }
    log.info({ webhookStatus: status }, 'notification delivered');

    const previous = previousEventHashOf(message.headers);
    if (previous === AUDIT_GENESIS_HASH) {
      // Nothing to annotate: an event chained to genesis would start a second trail for the grant.
      log.warn('input carries no audit head; delivered without an audit event');
      return { records: [] };
    }
    return { records: [this.auditRecord(message, notification, status, previous)] };
  }

  private auditRecord(
    message: InboundMessage<unknown>,
    notification: Notification,
    status: number,
    previous: string,
  ): HandlerResult['records'][number] {
    const { service, now } = this.deps;
    const { record } = stageAuditRecord(
      {
        grantId: notification.grantId,
        funderId: notification.funderId,
        auditTrailId: notification.auditTrailId,
        stage: service.stage,
        action: 'NOTIFIED',
        errorCategory: notification.errorCategory,
        severity: auditSeverity(notification.severity),
        ruleSetVersion: notification.ruleSetVersion,
        payloadHash: payloadHashOf(message.raw),
        service: { name: service.name, version: service.version },
        occurredAt: now(),
        source: {
          topic: message.topic,
          partition: message.partition,
          offset: Number(message.offset),
        },
        details: {
          kind: notification.kind,
          notification_id: notification.notificationId,
          webhook_status: String(status),
        },
      },
      previous,
    );
    return record;
  }
}
