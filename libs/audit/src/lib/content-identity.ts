import type { AuditActionV1 } from '@grantstream/contracts';
import { canonicalJson, sha256Hex } from './hashing';

/**
 * Fields of a GrantSubmission that describe its transport, not the
 * application: left out of {@link contentHashOf}. `audit_timestamp` is when
 * the upstream parser stamped the record, which a retry by that parser may
 * change while the application stays the same. Everything else (grant id,
 * portal, deadline, metadata, attachments with their SHA-256, program code,
 * EIN) is what the funder is sent, so any change to it is a new content.
 */
export const TRANSPORT_ONLY_FIELDS = ['audit_timestamp'] as const;

/**
 * `details` key of the VALIDATED event (ingest) and of submission's
 * DUPLICATE and SUBMITTED events: the application's {@link contentHashOf}.
 */
export const CONTENT_HASH_DETAIL = 'content_hash';

/**
 * `details` key of a duplicate decision: the audit trail id of the earlier
 * trail that carried the same content and was accepted for filing.
 */
export const DUPLICATE_OF_TRAIL_DETAIL = 'duplicate_of_trail';

/**
 * `details` key of the first submission event of a resubmission (same grant,
 * changed content): the trail id of the grant's previously accepted content.
 */
export const RESUBMISSION_OF_TRAIL_DETAIL = 'resubmission_of_trail';

/**
 * The content identity of an application: SHA-256 (lower-case hex) of the
 * canonical JSON of the decoded GrantSubmission without
 * {@link TRANSPORT_ONLY_FIELDS}. Computed on the decoded record rather than
 * its bytes, so the same application written with another compatible writer
 * schema (a field added with its default) hashes the same; canonical JSON
 * makes map and property order irrelevant. Attachment order is kept: it is
 * part of what is filed.
 */
export function contentHashOf(submission: object): string {
  const content: Record<string, unknown> = { ...(submission as Record<string, unknown>) };
  for (const field of TRANSPORT_ONLY_FIELDS) delete content[field];
  return sha256Hex(canonicalJson(content));
}

/** True for an audit event that records a copy of already accepted content (never filed). */
export function isDuplicateEvent(event: { details: Readonly<Record<string, string>> }): boolean {
  return event.details[DUPLICATE_OF_TRAIL_DETAIL] !== undefined;
}

/**
 * The action of a duplicate decision (submission recognised content it had
 * already accepted on another trail and filed nothing), told apart from other
 * rejections by `details.duplicate_of_trail` ({@link isDuplicateEvent}) and
 * `details.outcome` = {@link DUPLICATE_OUTCOME}. Not a symbol of its own:
 * AuditAction is an enum without a default, and a symbol added to it is not
 * FULL_TRANSITIVE compatible (a reader of AuditEvent v1 could not decode the
 * new events; the registry refuses the version), which the audit topic's
 * subject requires.
 */
export const DUPLICATE_ACTION = 'REJECT' satisfies AuditActionV1;

/** `details.outcome` of a duplicate decision. */
export const DUPLICATE_OUTCOME = 'DUPLICATE';
