import type { GrantStatusV1, SubmissionStatusV1 } from '@grantstream/contracts';
import type { PortalMessage } from '@grantstream/funders';

/** Statuses a submission never leaves (after Grants.gov): polling stops at them. */
export const TERMINAL_STATUSES: ReadonlySet<SubmissionStatusV1> = new Set<SubmissionStatusV1>([
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
  'REJECTED_WITH_ERRORS',
]);

/**
 * The longest way a healthy submission goes (after Grants.gov), first status
 * to last: how many status transitions a grant that settles normally shows.
 */
export const SETTLING_LIFECYCLE: readonly SubmissionStatusV1[] = [
  'RECEIVED',
  'PROCESSING',
  'VALIDATED',
  'RECEIVED_BY_AGENCY',
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
];

/** Transitions of {@link SETTLING_LIFECYCLE}: a transition bound below it would give up healthy grants. */
export const SETTLING_TRANSITIONS = SETTLING_LIFECYCLE.length - 1;

/** True for a status polling stops at. */
export function isTerminalStatus(status: SubmissionStatusV1): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * True when there is nothing left to follow. The status decides; the record's
 * flag counts too, so a producer that marks a record terminal is obeyed even
 * if it disagrees with the lifecycle (polling it again could not end).
 */
export function isTerminalRecord(record: Pick<GrantStatusV1, 'status' | 'terminal'>): boolean {
  return record.terminal || isTerminalStatus(record.status);
}

/** A portal message as GrantStatusV1.portal_messages carries it: `field: message`, or the message alone. */
export function formatPortalMessage(message: PortalMessage): string {
  return message.field ? `${message.field}: ${message.message}` : message.message;
}

/**
 * Portal messages joined for an audit detail, cut at `maxChars` (with `…`):
 * a portal can send any number of messages, and an audit event is kept
 * forever; the full list travels on the status record.
 */
export function joinMessages(messages: readonly string[], maxChars: number): string {
  const joined = messages.join('; ');
  return joined.length > maxChars ? `${joined.slice(0, Math.max(0, maxChars - 1))}…` : joined;
}
