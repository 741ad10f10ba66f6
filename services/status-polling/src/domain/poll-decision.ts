import type { GrantStatusV1, SubmissionStatusV1 } from '@grantstream/contracts';
import type {
  CircuitOpenOutcome,
  FunderClientConfig,
  StatusOutcome,
  ThrottledResult,
} from '@grantstream/funders';
import {
  formatPortalMessage,
  isTerminalRecord,
  isTerminalStatus,
  joinMessages,
} from './status-lifecycle';

/** A funder's polling settings (`funders.<F>.status`). */
export type PollSettings = FunderClientConfig['status'];

/**
 * A funder's polling settings with the stage's bounds: on any wait
 * (`statusPolling.maxPollDelayMs`), because a scheduled record holds its
 * partition until it is due (the runner defers in offset order), so one
 * funder's long Retry-After or circuit delay would otherwise hold back every
 * other funder's polls in the same partition for as long; and on the status
 * transitions a grant may show before it settles
 * (`statusPolling.maxStatusTransitions`), because a portal whose answer flips
 * back and forth would otherwise be followed, and recorded, one change after
 * another until the give-up age, or forever if the age were checked only
 * when nothing changed.
 */
export interface PollPolicy extends PollSettings {
  maxPollDelayMs: number;
  maxStatusTransitions: number;
}

/**
 * Status transitions published for the grant so far, as its status record's
 * {@link STATUS_TRANSITIONS_HEADER} says: absent (a record of the submission
 * stage, or of a version before the count) or not a plain decimal count, it
 * is 0; the give-up age still bounds such a grant.
 */
export function transitionsOf(header: string | undefined): number {
  return header !== undefined && /^\d{1,9}$/.test(header) ? Number(header) : 0;
}

/**
 * The header that carries, on every status record this stage writes (the
 * grant's statuses and its rescheduled polls), how many status transitions it
 * has published for the grant. Polling's own bookkeeping, like the audit head
 * beside it: it travels with the record through every poll and a redrive,
 * and leaves the GrantStatus contract as readers know it.
 */
export const STATUS_TRANSITIONS_HEADER = 'grantstream.status.transitions';

/**
 * Longest the joined portal messages may be in a STATUS_CHANGED audit
 * detail. A format bound of the audit event, not an operational limit: the
 * status record carries every message in full.
 */
export const MAX_MESSAGES_DETAIL_CHARS = 1000;

/**
 * What becomes of a live status record of a funder with no portal
 * configuration (`statusPolling.unconfiguredFunders`):
 * - `dead_letter` (the default): with one deployment following every funder,
 *   such a record is a configuration error someone must see;
 * - `skip`: this deployment follows only the funders it lists, and another
 *   one, in its own consumer group, follows the rest (or, in tests, another
 *   scenario's): the record is theirs, and passes here without output.
 */
export const UNCONFIGURED_FUNDER_ACTIONS = ['dead_letter', 'skip'] as const;

/** One of {@link UNCONFIGURED_FUNDER_ACTIONS}. */
export type UnconfiguredFunderAction = (typeof UNCONFIGURED_FUNDER_ACTIONS)[number];

/** What to do with a status record before asking the portal anything. */
export type PollPlan =
  /** Terminal: nothing left to follow. */
  | { kind: 'ignore' }
  /** No portal is configured for the record's funder: nothing can poll it. */
  | { kind: 'unknown_funder'; funderId: string }
  /** No portal is configured for the record's funder, and such records are another deployment's. */
  | { kind: 'skip'; funderId: string }
  /** Not terminal, yet no tracking number to ask about: the record breaks its contract. */
  | { kind: 'untrackable' }
  /** Not due yet: the runner hands the record back at `untilMs`. */
  | { kind: 'defer'; untilMs: number }
  /** Due: ask the portal about `trackingNumber`. */
  | { kind: 'poll'; trackingNumber: string };

/**
 * Whether a status record is to be polled now. Terminal records are ignored
 * before anything else, so a terminal record of a funder since removed from
 * the configuration is not a failure. A live record of a funder without
 * settings is `unconfigured`'s to decide, at once rather than when due.
 */
export function planPoll(
  record: GrantStatusV1,
  settings: PollSettings | undefined,
  now: number,
  unconfigured: UnconfiguredFunderAction = 'dead_letter',
): PollPlan {
  if (isTerminalRecord(record)) return { kind: 'ignore' };
  if (settings === undefined) {
    return unconfigured === 'skip'
      ? { kind: 'skip', funderId: record.funder_id }
      : { kind: 'unknown_funder', funderId: record.funder_id };
  }
  if (record.tracking_number === null || record.tracking_number === '') {
    return { kind: 'untrackable' };
  }
  if (record.next_poll_at !== null && record.next_poll_at > now) {
    return { kind: 'defer', untilMs: record.next_poll_at };
  }
  return { kind: 'poll', trackingNumber: record.tracking_number };
}

/**
 * Every answer a poll can get: the portal's (through the funder's circuit
 * breaker), or the funder's limiter refusing to wait longer for a slot.
 */
export type PollOutcome = StatusOutcome | CircuitOpenOutcome | ThrottledResult;

/** Why a record goes back on the schedule. */
export type RescheduleCause = Exclude<PollOutcome['kind'], 'misconfigured'> | 'unchanged';

/** The STATUS_CHANGED audit event's content. */
export interface StatusChange {
  from: SubmissionStatusV1;
  to: SubmissionStatusV1;
  /** FUNDER_REJECTION when the agency rejected the submission; null otherwise. */
  errorCategory: 'FUNDER_REJECTION' | null;
  severity: 'MEDIUM' | null;
  /** Audit details: from, to, tracking_number, attempt, agency_tracking_number and messages when given. */
  details: Record<string, string>;
}

/** Why polling stops without a terminal status. */
export type GiveUpCause =
  /** Past the funder's give-up age. */
  | 'age'
  /** The status changed more often than `maxStatusTransitions` allows without settling. */
  | 'transitions'
  /** The portal files the tracking number under another grant. */
  | 'foreign';

/** What a poll's outcome means for the record. */
export type PollDecision =
  /**
   * The portal reports a new status: publish `next` on grants.status.v1 with
   * its audit event; `transitions` is the grant's count including this one.
   */
  | { kind: 'changed'; next: GrantStatusV1; change: StatusChange; transitions: number }
  /** Nothing new (or no answer): put `next` back on the schedule, due after `delayMs`. */
  | { kind: 'reschedule'; next: GrantStatusV1; cause: RescheduleCause; delayMs: number }
  /**
   * No terminal status in time, an answer that never settles, or an
   * unresolvable one: a person must ask the funder. `polls` counts every
   * poll of the grant, this one included (the attempts its dead letter reports).
   */
  | {
      kind: 'give_up';
      cause: GiveUpCause;
      reason: string;
      ageMs: number;
      polls: number;
      transitions: number;
    }
  /** The portal refuses our credentials or the URL: no poll can succeed until the config is fixed. */
  | { kind: 'misconfigured'; httpStatus: number; reason: string };

/**
 * How long until the record is asked about again. Not sooner than the
 * funder's poll interval (status is not urgent, and the portal's rate is
 * shared with submissions), nor before the portal's Retry-After or the
 * circuit's half-open time when those are later; but never longer than
 * `maxPollDelayMs`, which wins over all of them. A poll that comes back too
 * early only meets the circuit or the portal's 429 again and is rescheduled.
 */
export function rescheduleDelayMs(outcome: PollOutcome, policy: PollPolicy): number {
  const floor = policy.pollIntervalMs;
  let delayMs: number;
  switch (outcome.kind) {
    case 'rate_limited':
    case 'transient':
      delayMs = Math.max(floor, outcome.retryAfterMs ?? 0);
      break;
    case 'circuit_open':
      delayMs = Math.max(floor, outcome.retryAfterMs);
      break;
    default:
      delayMs = floor;
  }
  return Math.min(delayMs, policy.maxPollDelayMs);
}

/** How old a submission is, measured from when the portal accepted it. */
export function ageOf(record: Pick<GrantStatusV1, 'submitted_at'>, now: number): number {
  return now - record.submitted_at;
}

/** True when a submission still not terminal has been followed longer than the funder allows. */
export function isPastGiveUpAge(
  record: Pick<GrantStatusV1, 'submitted_at'>,
  settings: PollSettings,
  now: number,
): boolean {
  return ageOf(record, now) > settings.giveUpAfterMs;
}

function describeOutcome(outcome: PollOutcome, status: SubmissionStatusV1): string {
  switch (outcome.kind) {
    case 'found':
      return outcome.status === status
        ? `the portal still reports ${status}`
        : `the portal now reports ${outcome.status}, not final either`;
    case 'not_found':
      return 'the portal does not know the tracking number';
    case 'rate_limited':
      return 'the portal rate-limited the last poll';
    case 'transient':
      return `the last poll failed: ${outcome.reason}`;
    case 'timed_out':
      return 'the last poll timed out';
    case 'circuit_open':
      return "the funder's circuit is open";
    case 'throttled':
      return "the funder's limiter had no slot for the last poll";
    case 'misconfigured':
      return outcome.reason;
  }
}

function changeOf(
  record: GrantStatusV1,
  next: GrantStatusV1,
  agencyTrackingNumber: string | undefined,
): StatusChange {
  const rejected = next.status === 'REJECTED_WITH_ERRORS';
  const details: Record<string, string> = {
    from: record.status,
    to: next.status,
    tracking_number: next.tracking_number ?? '',
    attempt: String(next.attempt),
  };
  if (agencyTrackingNumber !== undefined) details['agency_tracking_number'] = agencyTrackingNumber;
  if (next.portal_messages.length > 0) {
    details['messages'] = joinMessages(next.portal_messages, MAX_MESSAGES_DETAIL_CHARS);
  }
  return {
    from: record.status,
    to: next.status,
    errorCategory: rejected ? 'FUNDER_REJECTION' : null,
    severity: rejected ? 'MEDIUM' : null,
    details,
  };
}

/**
 * What a poll's outcome means for a due, non-terminal record, at `now` (when
 * the answer came), given the status transitions already published for the
 * grant (`transitions`):
 *
 * | outcome | decision |
 * |---|---|
 * | found, another grant's submission | give_up (the tracking number is not this grant's) |
 * | found, terminal status differs | changed: final status, observed now, no next poll |
 * | found, other status differs, past the give-up age | give_up (age) |
 * | found, other status differs, `maxStatusTransitions` already published | give_up (transitions) |
 * | found, other status differs | changed: new status, observed now, next poll after the interval |
 * | found, same status | reschedule after the poll interval (give_up past the age) |
 * | not_found, throttled, timed_out | reschedule after the poll interval (give_up past the age) |
 * | rate_limited, transient | reschedule after Retry-After, at least the poll interval (give_up past the age) |
 * | circuit_open | reschedule after the circuit's delay, at least the poll interval (give_up past the age) |
 * | misconfigured | misconfigured |
 *
 * The age is checked before a change is published: a portal whose answer
 * keeps changing (VALIDATED, PROCESSING, VALIDATED ...) would otherwise be
 * followed forever, each poll a change. A terminal answer is published
 * whatever the age or the count: it is a fact observed, and exactly what both
 * bounds wait for. A change is a status other than the last recorded one, a
 * flip back to an earlier status included; an unchanged answer writes no
 * status record. Every wait (the next poll after a change, a reschedule) is
 * at most `policy.maxPollDelayMs`. Every poll round counts in `attempt`; a
 * rescheduled record keeps its status, messages and observed_at (when that
 * status was first seen).
 */
export function decidePoll(
  record: GrantStatusV1,
  outcome: PollOutcome,
  policy: PollPolicy,
  now: number,
  transitions = 0,
): PollDecision {
  const attempt = record.attempt + 1;
  const ageMs = ageOf(record, now);
  const giveUp = (cause: GiveUpCause, reason: string): PollDecision => ({
    kind: 'give_up',
    cause,
    reason,
    ageMs,
    polls: attempt,
    transitions,
  });
  if (outcome.kind === 'misconfigured') {
    return { kind: 'misconfigured', httpStatus: outcome.httpStatus, reason: outcome.reason };
  }
  if (outcome.kind === 'found') {
    if (outcome.grantId !== null && outcome.grantId !== record.grant_id) {
      return giveUp(
        'foreign',
        `the portal files tracking number ${outcome.trackingNumber} under grant ${outcome.grantId}, not ${record.grant_id} (after ${attempt} polls)`,
      );
    }
    if (outcome.status !== record.status) {
      const terminal = isTerminalStatus(outcome.status);
      if (!terminal && isPastGiveUpAge(record, policy, now)) {
        return giveUp('age', pastAgeReason(record, outcome, policy, attempt, ageMs, transitions));
      }
      if (!terminal && transitions >= policy.maxStatusTransitions) {
        return giveUp(
          'transitions',
          `the status never settles: after ${attempt} polls and ${transitions} status transitions (the bound) in ${ageMs} ms it changes again, ${record.status} to ${outcome.status}`,
        );
      }
      const next: GrantStatusV1 = {
        ...record,
        status: outcome.status,
        portal_messages: outcome.messages.map(formatPortalMessage),
        terminal,
        observed_at: now,
        next_poll_at: terminal
          ? null
          : now + Math.min(policy.pollIntervalMs, policy.maxPollDelayMs),
        attempt,
      };
      return {
        kind: 'changed',
        next,
        change: changeOf(record, next, outcome.agencyTrackingNumber),
        transitions: transitions + 1,
      };
    }
  }
  if (isPastGiveUpAge(record, policy, now)) {
    return giveUp('age', pastAgeReason(record, outcome, policy, attempt, ageMs, transitions));
  }
  const delayMs = rescheduleDelayMs(outcome, policy);
  return {
    kind: 'reschedule',
    next: { ...record, next_poll_at: now + delayMs, attempt },
    cause: outcome.kind === 'found' ? 'unchanged' : outcome.kind,
    delayMs,
  };
}

function pastAgeReason(
  record: GrantStatusV1,
  outcome: PollOutcome,
  policy: PollPolicy,
  polls: number,
  ageMs: number,
  transitions: number,
): string {
  return `no terminal status ${ageMs} ms after submission (give-up age ${policy.giveUpAfterMs} ms), after ${polls} polls and ${transitions} status transitions; last status ${record.status}; ${describeOutcome(outcome, record.status)}`;
}
