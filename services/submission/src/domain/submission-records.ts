import type {
  GrantStatusV1,
  NotificationRequestV1,
  RoutedGrantV2,
  SubmissionRetryV2,
  SubmissionStatusV1,
} from '@grantstream/contracts';
import { sha256Hex } from '@grantstream/audit';
import type { PortalMessage } from '@grantstream/funders';
import type { RetryDecision } from './attempt-decision';

/** Statuses after which a portal changes nothing more: polling stops. */
const TERMINAL: ReadonlySet<SubmissionStatusV1> = new Set([
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
  'REJECTED_WITH_ERRORS',
]);

/** True for the statuses polling stops at. */
export function isTerminalStatus(status: SubmissionStatusV1): boolean {
  return TERMINAL.has(status);
}

/** Portal messages as the status record carries them: `field: message` when a field is named. */
export function portalMessageTexts(messages: readonly PortalMessage[]): string[] {
  return messages.map((m) => (m.field ? `${m.field}: ${m.message}` : m.message));
}

/** The first status record of a filed grant, produced with its SUBMITTED event. */
export function acceptedStatus(
  routed: RoutedGrantV2,
  accepted: { trackingNumber: string; status: SubmissionStatusV1 },
  idempotencyKey: string,
  now: number,
  pollIntervalMs: number,
): GrantStatusV1 {
  const terminal = isTerminalStatus(accepted.status);
  return {
    grant_id: routed.grant_id,
    funder_id: routed.funder_id,
    funder_portal: routed.grant.funder_portal,
    audit_trail_id: routed.audit_trail_id,
    idempotency_key: idempotencyKey,
    tracking_number: accepted.trackingNumber,
    status: accepted.status,
    portal_messages: [],
    terminal,
    submitted_at: now,
    observed_at: now,
    next_poll_at: terminal ? null : now + pollIntervalMs,
    attempt: 0,
  };
}

/** The terminal status of a payload the portal refused (400/422): no tracking number, the portal's messages. */
export function rejectedStatus(
  routed: RoutedGrantV2,
  messages: readonly PortalMessage[],
  idempotencyKey: string,
  now: number,
): GrantStatusV1 {
  return {
    grant_id: routed.grant_id,
    funder_id: routed.funder_id,
    funder_portal: routed.grant.funder_portal,
    audit_trail_id: routed.audit_trail_id,
    idempotency_key: idempotencyKey,
    tracking_number: null,
    status: 'REJECTED_WITH_ERRORS',
    portal_messages: portalMessageTexts(messages),
    terminal: true,
    submitted_at: now,
    observed_at: now,
    next_poll_at: null,
    attempt: 0,
  };
}

/** Where a grant waits for its next attempt. */
export function retryRecord(
  routed: RoutedGrantV2,
  decision: RetryDecision,
  history: {
    attempt: number;
    firstAttemptAt: number;
    idempotencyKey: string;
    /** The trail a resubmission links to, kept for the events of its later attempts. */
    resubmissionOf: string | null;
  },
  now: number,
): SubmissionRetryV2 {
  return {
    grant_id: routed.grant_id,
    audit_trail_id: routed.audit_trail_id,
    routed,
    attempt: history.attempt,
    not_before: now + decision.delayMs,
    last_error_category: decision.category,
    last_error_message: decision.reason,
    idempotency_key: history.idempotencyKey,
    first_attempt_at: history.firstAttemptAt,
    resubmission_of_trail: history.resubmissionOf,
  };
}

/**
 * The notification of a grant whose next attempt would land too close to its
 * deadline. Its id depends only on the grant's filing (not the attempt), so
 * however many retries find the deadline at risk, the compliance officer's
 * webhook sees one key and notifies once.
 */
export function deadlineRiskNotification(
  routed: RoutedGrantV2,
  decision: RetryDecision,
  idempotencyKey: string,
  attempt: number,
  now: number,
): NotificationRequestV1 {
  const deadline = routed.grant.submission_deadline;
  const nextAttemptAt = now + decision.delayMs;
  return {
    notification_id: sha256Hex(`DEADLINE_AT_RISK\n${routed.grant_id}\n${idempotencyKey}`),
    grant_id: routed.grant_id,
    funder_id: routed.funder_id,
    audit_trail_id: routed.audit_trail_id,
    kind: 'DEADLINE_AT_RISK',
    error_category: decision.category,
    severity: 'HIGH',
    summary: `${routed.grant_id}: the portal has not taken it and the next attempt (${new Date(nextAttemptAt).toISOString()}) is ${nextAttemptAt > deadline ? 'after' : 'close to'} the deadline ${new Date(deadline).toISOString()}`,
    details: {
      attempts: String(attempt),
      last_error_category: decision.category,
      last_error: decision.reason,
      next_attempt_at: new Date(nextAttemptAt).toISOString(),
      time_left_ms: String(deadline - now),
    },
    deadline,
    requested_by: 'submission',
    requested_at: now,
  };
}
