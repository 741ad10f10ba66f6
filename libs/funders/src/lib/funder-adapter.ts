import type { LookupOutcome, StatusOutcome, SubmitOutcome } from './outcomes';

/** What to file with a portal. */
export interface SubmitRequest {
  /**
   * The grant being filed. The REST portal reads it from the body; it is part of
   * the request so adapters for portals that want it elsewhere (a header, a
   * path, an envelope) need no other input.
   */
  grantId: string;
  /** From {@link idempotencyKeyOf}: the same for every attempt of the same grant and payload. */
  idempotencyKey: string;
  /** The JSON document the portal expects. */
  body: unknown;
}

/**
 * One funder portal, as the submission and status-polling stages see it.
 * Every expected portal answer is a returned outcome, never a thrown error, so
 * callers branch exhaustively on `kind`. Implementations throw only when the
 * caller's `signal` aborts (its reason) or on a bug.
 */
export interface FunderAdapter {
  /** The funder this adapter speaks to (the grant id prefix, e.g. `NSF`). */
  readonly funderId: string;
  /** Files a submission; safe to repeat with the same idempotency key. */
  submit(request: SubmitRequest, signal?: AbortSignal): Promise<SubmitOutcome>;
  /** Reads the current status of a filed submission. */
  status(trackingNumber: string, signal?: AbortSignal): Promise<StatusOutcome>;
  /**
   * Finds the submission filed with an idempotency key, so a submit that timed
   * out can be resolved without filing again.
   */
  lookup(idempotencyKey: string, signal?: AbortSignal): Promise<LookupOutcome>;
}
