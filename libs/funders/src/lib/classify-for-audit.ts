import type { ErrorCategory } from '@grantstream/errors';
import type { FunderOutcome } from './outcomes';

/** The audit error category of a funder outcome, and whether the same call may succeed later. */
export interface AuditClassification {
  /** Null for outcomes that are not failures (accepted, found, not_found). */
  category: ErrorCategory | null;
  retriable: boolean;
}

/**
 * Maps a funder outcome to the audit's error category, so every stage files
 * portal failures the same way:
 *
 * | outcome | category | retriable |
 * |---|---|---|
 * | accepted, found, not_found | null | false |
 * | rate_limited | API_RATE_LIMIT | yes, after Retry-After or the configured tier |
 * | timed_out | NETWORK_TIMEOUT | yes, after a `lookup` of the idempotency key |
 * | transient without HTTP status (network error) | NETWORK_TIMEOUT | yes |
 * | transient with HTTP status (5xx, malformed 2xx) | INFRASTRUCTURE | yes |
 * | rejected | FUNDER_REJECTION | no |
 * | misconfigured | CONFIGURATION | no |
 * | circuit_open | CIRCUIT_OPEN | yes, after the circuit's delay |
 *
 * A 5xx is the portal's infrastructure failing, not the network timing out,
 * hence INFRASTRUCTURE (an existing category) rather than a new one.
 */
export function classifyForAudit(outcome: FunderOutcome): AuditClassification {
  switch (outcome.kind) {
    case 'accepted':
    case 'found':
    case 'not_found':
      return { category: null, retriable: false };
    case 'rate_limited':
      return { category: 'API_RATE_LIMIT', retriable: true };
    case 'timed_out':
      return { category: 'NETWORK_TIMEOUT', retriable: true };
    case 'transient':
      return {
        category: outcome.httpStatus === null ? 'NETWORK_TIMEOUT' : 'INFRASTRUCTURE',
        retriable: true,
      };
    case 'rejected':
      return { category: 'FUNDER_REJECTION', retriable: false };
    case 'misconfigured':
      return { category: 'CONFIGURATION', retriable: false };
    case 'circuit_open':
      return { category: 'CIRCUIT_OPEN', retriable: true };
  }
}
