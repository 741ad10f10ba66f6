import type { SubmissionStatusV1 } from '@grantstream/contracts';

/** The portal took the submission and gave it a tracking number. */
export interface AcceptedOutcome {
  kind: 'accepted';
  trackingNumber: string;
  status: SubmissionStatusV1;
  /**
   * False when the portal answered 200: it had already seen this Idempotency-Key
   * and replayed the earlier submission, so nothing new was filed.
   */
  created: boolean;
}

/** The portal refused the call for its rate limit (429); nothing was filed. */
export interface RateLimitedOutcome {
  kind: 'rate_limited';
  /** From Retry-After, relative to the adapter's clock; null when the portal gave none or an unreadable one. */
  retryAfterMs: number | null;
}

/** One validation error a portal returned with a rejection. */
export interface PortalMessage {
  /** The field the portal blames, when it names one. */
  field?: string;
  message: string;
}

/** The portal refused the submission as invalid (400/422 or another permanent 4xx): terminal for this payload. */
export interface RejectedOutcome {
  kind: 'rejected';
  httpStatus: number;
  messages: PortalMessage[];
}

/**
 * The call failed for a reason that may pass: a 5xx, a connection error, or a
 * 2xx whose body is unreadable (a portal bug). For a submit, a connection
 * error after the request left may still have filed it; the Idempotency-Key
 * makes a resubmit safe.
 */
export interface TransientOutcome {
  kind: 'transient';
  /** Null for network errors, where no response arrived. */
  httpStatus: number | null;
  /** For operators; never contains the token or the payload. */
  reason: string;
  /** From a Retry-After on a 503, when the portal sent one. */
  retryAfterMs: number | null;
}

/**
 * No answer within the timeout. For a submit the outcome is unknown: the
 * portal may have filed it, so the caller must `lookup` the idempotency key
 * before submitting again.
 */
export interface TimedOutOutcome {
  kind: 'timed_out';
}

/**
 * The portal refused our credentials (401/403) or the base URL does not lead
 * to the API (404 on submit, a redirect): retrying cannot help until the
 * configuration is fixed.
 */
export interface MisconfiguredOutcome {
  kind: 'misconfigured';
  httpStatus: number;
  reason: string;
}

/** One status the portal records a submission passed through. */
export interface StatusHistoryEntry {
  status: SubmissionStatusV1;
  /** When the portal says the submission entered this status, epoch milliseconds UTC; null when unstated. */
  atMs: number | null;
}

/** The portal knows the submission and reports its current status. */
export interface FoundOutcome {
  kind: 'found';
  trackingNumber: string;
  /** The grant the portal filed it under, when it says so. */
  grantId: string | null;
  status: SubmissionStatusV1;
  /** Messages the portal attached (validation errors when rejected). */
  messages: PortalMessage[];
  /** Present once the agency assigned its own number (AGENCY_TRACKING_NUMBER_ASSIGNED). */
  agencyTrackingNumber?: string;
  history: StatusHistoryEntry[];
}

/**
 * The portal does not know the tracking number or idempotency key. For a
 * lookup after a timed-out submit this means the submit never landed and may
 * be sent again (with the same key).
 */
export interface NotFoundOutcome {
  kind: 'not_found';
}

/**
 * The funder's circuit is open: the call was not made. Produced by
 * {@link FunderGuard}, never by an adapter.
 */
export interface CircuitOpenOutcome {
  kind: 'circuit_open';
  /** How long until the circuit lets a probe call through. */
  retryAfterMs: number;
}

/** Every answer a submit can get from a portal. */
export type SubmitOutcome =
  | AcceptedOutcome
  | RateLimitedOutcome
  | RejectedOutcome
  | TransientOutcome
  | TimedOutOutcome
  | MisconfiguredOutcome;

/** Every answer a status query can get from a portal. */
export type StatusOutcome =
  | FoundOutcome
  | NotFoundOutcome
  | RateLimitedOutcome
  | TransientOutcome
  | TimedOutOutcome
  | MisconfiguredOutcome;

/** Every answer a lookup by idempotency key can get; the same as a status query. */
export type LookupOutcome = StatusOutcome;

/** Any outcome an adapter returns. */
export type PortalOutcome = SubmitOutcome | StatusOutcome;

/** Any outcome of a guarded call: a portal's answer, or the circuit refusing to make the call. */
export type FunderOutcome = PortalOutcome | CircuitOpenOutcome;
