import { canonicalJson, sha256Hex } from '@grantstream/audit';
import { fallbackFor, type FallbackChain } from '@grantstream/config';
import type { NotificationKindV1 } from '@grantstream/contracts';

/** Why a person must look at a grant (the NotificationRequest kinds). */
export type NotificationKind = NotificationKindV1;

/** Every kind, in the order the contract lists them: the default of `notification.kinds`. */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  'COMPLIANCE_BLOCK',
  'DEADLINE_AT_RISK',
  'FUNDER_REJECTION',
  'DEAD_LETTER',
  'STATUS_UNRESOLVED',
];

/** One thing the compliance officer must be told about one grant. */
export interface Notification {
  /** Deterministic per cause: the webhook's Idempotency-Key, so a redelivery is deduplicated. */
  notificationId: string;
  kind: NotificationKind;
  grantId: string;
  funderId: string;
  auditTrailId: string;
  errorCategory: string | null;
  /** HIGH or MEDIUM for causes we judge; a request's severity as the requesting stage gave it. */
  severity: string;
  /** One line for the compliance officer. */
  summary: string;
  /** Facts behind the summary; never secrets or payloads. */
  details: Record<string, string>;
  /** The funder's submission deadline, epoch milliseconds, when known. */
  deadline: number | null;
  /** Stage whose decision needs a person. */
  requestedBy: string;
  /** When that decision was made, epoch milliseconds; taken from the input so a redelivery says the same. */
  requestedAt: number;
  /** Version of the rules behind the cause (a compliance block's rule pack), for the audit event. */
  ruleSetVersion: string | null;
}

/**
 * What a notification is about, for its id: the audit event of the decision
 * it reports (the head the input carries) or, when the input carries none,
 * the input's position. Either is the same on every redelivery of the input.
 */
export type NotificationCause =
  | { auditHead: string }
  | { topic: string; partition: number; offset: string };

/** What to do about one input: notify, or let it pass with a log line at `level`. */
export type NotificationOutcome =
  | { action: 'notify'; notification: Notification }
  | { action: 'ignore'; reason: string; level: 'debug' | 'info' | 'error' };

/** An outcome that lets the input pass. */
export function ignore(
  reason: string,
  level: 'debug' | 'info' | 'error',
): Extract<NotificationOutcome, { action: 'ignore' }> {
  return { action: 'ignore', reason, level };
}

/**
 * The notification id of a cause: SHA-256 over kind, grant and cause. A
 * redelivery after a crash posts the same Idempotency-Key, so the receiver
 * keeps one copy, while two causes of the same kind (two dead letters of one
 * grant) stay two notifications.
 */
export function notificationIdOf(
  kind: NotificationKind,
  grantId: string,
  cause: NotificationCause,
): string {
  const identity =
    'auditHead' in cause
      ? { audit_head: cause.auditHead }
      : { topic: cause.topic, partition: cause.partition, offset: cause.offset };
  return sha256Hex(canonicalJson({ kind, grant_id: grantId, cause: identity }));
}

/** Which notifications reach the compliance officer: configuration, not code. */
export interface DeliveryPolicy {
  /** Kinds delivered (`notification.kinds`); any other kind is logged and skipped. */
  kinds: readonly NotificationKind[];
  /** The shared fallback chain (`fallbacks`): a compliance block or a funder rejection is delivered when it says `notify`. */
  fallbacks: FallbackChain;
}

/**
 * Kinds whose delivery the fallback chain decides: each names the error
 * category of the same name, whose action must be `notify`. The other kinds
 * are the compliance officer's by definition (a deadline at risk, a dead
 * letter, an unresolved status: nothing else would act on them).
 */
const FALLBACK_GATED_KINDS: ReadonlySet<NotificationKind> = new Set<NotificationKind>([
  'COMPLIANCE_BLOCK',
  'FUNDER_REJECTION',
]);

/**
 * The outcome once the delivery policy has had its say: a notification of a
 * kind not configured, or a compliance block or funder rejection the fallback
 * chain does not send to the compliance officer, becomes an ignore logged at
 * info.
 */
export function applyDeliveryPolicy(
  outcome: NotificationOutcome,
  policy: DeliveryPolicy,
): NotificationOutcome {
  if (outcome.action !== 'notify') return outcome;
  const { kind } = outcome.notification;
  if (!policy.kinds.includes(kind)) {
    return ignore(`kind ${kind} is not in notification.kinds; not delivered`, 'info');
  }
  if (FALLBACK_GATED_KINDS.has(kind)) {
    const action = fallbackFor(policy.fallbacks, kind);
    if (action !== 'notify') {
      return ignore(
        `the fallback chain sends ${kind} to ${action}, not notify; not delivered`,
        'info',
      );
    }
  }
  return outcome;
}

/** The JSON body posted to the webhook. */
export interface WebhookPayload {
  notification_id: string;
  kind: NotificationKind;
  grant_id: string;
  funder_id: string;
  audit_trail_id: string;
  error_category: string | null;
  severity: string;
  summary: string;
  details: Record<string, string>;
  /** ISO-8601 UTC, or null when unknown. */
  deadline: string | null;
  requested_by: string;
  /** ISO-8601 UTC. */
  requested_at: string;
}

/** The webhook body of a notification: the same for every delivery of it. */
export function webhookPayloadOf(n: Notification): WebhookPayload {
  return {
    notification_id: n.notificationId,
    kind: n.kind,
    grant_id: n.grantId,
    funder_id: n.funderId,
    audit_trail_id: n.auditTrailId,
    error_category: n.errorCategory,
    severity: n.severity,
    summary: n.summary,
    details: { ...n.details },
    deadline: n.deadline === null ? null : new Date(n.deadline).toISOString(),
    requested_by: n.requestedBy,
    requested_at: new Date(n.requestedAt).toISOString(),
  };
}
