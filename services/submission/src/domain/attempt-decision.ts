import type { ErrorCategory } from '@grantstream/errors';
import { fallbackFor, type FallbackChain } from '@grantstream/config';
import {
  classifyForAudit,
  fullJitterBackoff,
  type CircuitOpenOutcome,
  type PortalMessage,
  type SubmitOutcome,
} from '@grantstream/funders';
import type { SubmissionStatusV1 } from '@grantstream/contracts';

/** Our own limiter had no room for the call within the configured bound: nothing was sent. */
export interface ThrottledOutcome {
  kind: 'throttled';
}

/** Every way one attempt can end, as the decision sees it. */
export type AttemptOutcome = SubmitOutcome | CircuitOpenOutcome | ThrottledOutcome;

/** What the decision needs to know about the grant and its history. */
export interface AttemptState {
  /** Attempts made, this one included (1 for the first). */
  attempt: number;
  /** When the first attempt was made, epoch milliseconds. */
  firstAttemptAt: number;
  /** The funder's deadline, epoch milliseconds. */
  deadline: number;
}

/** The limits that shape a decision, all from configuration. */
export interface AttemptPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxRetryAgeMs: number;
  throttledDelayMs: number;
  rateLimitDefaultDelayMs: number;
  deadlineRiskMarginMs: number;
  fallbacks: FallbackChain;
}

/** The portal filed it (now or earlier, under the same key). */
export interface AcceptedDecision {
  kind: 'accepted';
  trackingNumber: string;
  status: SubmissionStatusV1;
  /** False when the portal already had it (a replay of an earlier attempt). */
  created: boolean;
}

/** The portal refused the payload: terminal REJECTED_WITH_ERRORS with its messages. */
export interface RejectedDecision {
  kind: 'rejected';
  httpStatus: number;
  messages: PortalMessage[];
}

/** Try again after `delayMs`; `lookupFirst` when the last attempt's fate is unknown. */
export interface RetryDecision {
  kind: 'retry';
  delayMs: number;
  category: ErrorCategory;
  reason: string;
  lookupFirst: boolean;
  /** Set when the retry would land too close to (or after) the deadline: a person must know now. */
  deadlineAtRisk: boolean;
  /**
   * True when no call was made because our own limiter had no room: flow
   * control, not a decision about the grant, so it writes no audit event
   * (the grant's trail continues unchanged) and never escalates.
   */
  flowControl: boolean;
}

/** Stop: dead-letter with this category (budget spent, or nothing a retry can fix). */
export interface GiveUpDecision {
  kind: 'give_up';
  category: ErrorCategory;
  code: 'RETRY_BUDGET_EXHAUSTED' | 'FUNDER_MISCONFIGURED';
  reason: string;
}

/** What to do after one attempt. */
export type AttemptDecision = AcceptedDecision | RejectedDecision | RetryDecision | GiveUpDecision;

function failureOf(outcome: Exclude<AttemptOutcome, { kind: 'accepted' }>): {
  category: ErrorCategory;
  reason: string;
  askedDelayMs: number | null;
} {
  switch (outcome.kind) {
    case 'throttled':
      return {
        category: 'API_RATE_LIMIT',
        reason: 'our limiter for this funder is full',
        askedDelayMs: null,
      };
    case 'rate_limited':
      return {
        category: 'API_RATE_LIMIT',
        reason: 'portal answered 429',
        askedDelayMs: outcome.retryAfterMs,
      };
    case 'circuit_open':
      return {
        category: 'CIRCUIT_OPEN',
        reason: 'circuit open for this funder',
        askedDelayMs: outcome.retryAfterMs,
      };
    case 'transient':
      return {
        category: classifyForAudit(outcome).category ?? 'INFRASTRUCTURE',
        reason:
          outcome.httpStatus === null
            ? outcome.reason
            : `HTTP ${outcome.httpStatus}: ${outcome.reason}`,
        askedDelayMs: outcome.retryAfterMs,
      };
    case 'timed_out':
      return {
        category: 'NETWORK_TIMEOUT',
        reason: 'no answer within the timeout',
        askedDelayMs: null,
      };
    case 'rejected':
      return {
        category: 'FUNDER_REJECTION',
        reason: `HTTP ${outcome.httpStatus}`,
        askedDelayMs: null,
      };
    case 'misconfigured':
      return {
        category: 'CONFIGURATION',
        reason: `HTTP ${outcome.httpStatus}: ${outcome.reason}`,
        askedDelayMs: null,
      };
  }
}

/**
 * The deterministic fallback after one attempt: the configured chain picks
 * the action by error category (rate limit -> wait as asked, else the
 * configured delay; network and 5xx -> exponential backoff with full jitter;
 * rejection -> terminal; configuration -> dead letter), the retry budget
 * bounds every retry (the funder's maxAttempts for backed-off failures, the
 * maximum age for all), and a retry that would land within
 * the margin before the deadline is flagged so it is escalated rather than
 * waited out silently. `random` is injected so tests can pin the jitter.
 */
export function decideAfterAttempt(
  outcome: AttemptOutcome,
  state: AttemptState,
  policy: AttemptPolicy,
  now: number,
  random: () => number = Math.random,
): AttemptDecision {
  if (outcome.kind === 'accepted') {
    return {
      kind: 'accepted',
      trackingNumber: outcome.trackingNumber,
      status: outcome.status,
      created: outcome.created,
    };
  }
  const { category, reason, askedDelayMs } = failureOf(outcome);
  const action = fallbackFor(policy.fallbacks, category);
  if (outcome.kind === 'rejected') {
    return { kind: 'rejected', httpStatus: outcome.httpStatus, messages: outcome.messages };
  }
  if (action === 'dead_letter' || action === 'notify' || outcome.kind === 'misconfigured') {
    return {
      kind: 'give_up',
      category,
      code: outcome.kind === 'misconfigured' ? 'FUNDER_MISCONFIGURED' : 'RETRY_BUDGET_EXHAUSTED',
      reason: `${reason}; the fallback chain sends ${category} to ${action}`,
    };
  }
  // Attempts bound failures that back off; waits the portal asked for (or our
  // own limiter imposed) are bounded by age alone.
  const attemptsSpent = action === 'requeue' && state.attempt >= policy.maxAttempts;
  if (attemptsSpent || now - state.firstAttemptAt >= policy.maxRetryAgeMs) {
    return {
      kind: 'give_up',
      category,
      code: 'RETRY_BUDGET_EXHAUSTED',
      reason: `${reason}; retry budget spent after ${state.attempt} attempt(s) over ${Math.round((now - state.firstAttemptAt) / 1000)} s`,
    };
  }
  let delayMs: number;
  if (outcome.kind === 'throttled') delayMs = policy.throttledDelayMs;
  else if (outcome.kind === 'circuit_open')
    // Waiting on an outage: back off in proportion to how long the grant has
    // waited already, so a long outage costs each grant a few retries, not
    // one per half-open interval (which would crowd out healthy funders).
    delayMs = Math.max(
      outcome.retryAfterMs,
      Math.min(policy.maxBackoffMs, Math.floor((now - state.firstAttemptAt) / 2)),
    );
  else if (action === 'retry_later')
    delayMs =
      askedDelayMs ??
      (outcome.kind === 'rate_limited' ? policy.rateLimitDefaultDelayMs : policy.throttledDelayMs);
  else
    delayMs = Math.max(
      askedDelayMs ?? 0,
      fullJitterBackoff(
        Math.max(1, state.attempt),
        { initialMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs },
        random,
      ),
    );
  return {
    kind: 'retry',
    delayMs,
    category,
    reason,
    // A timeout or a cut connection may have filed it: ask before sending again.
    lookupFirst:
      outcome.kind === 'timed_out' || (outcome.kind === 'transient' && outcome.httpStatus === null),
    deadlineAtRisk:
      outcome.kind !== 'throttled' && now + delayMs + policy.deadlineRiskMarginMs > state.deadline,
    flowControl: outcome.kind === 'throttled',
  };
}
