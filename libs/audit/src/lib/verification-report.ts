import type { AuditEventV1 } from '@grantstream/contracts';

/*
 * The vocabulary of an audit verification: what the verifier reads and what
 * its report says. The checking itself is chain-verifier.ts.
 */

/** One record read from the audit topic; `event` null is a tombstone. */
export interface AuditRecord {
  key: string;
  event: AuditEventV1 | null;
  partition: number;
  /** Kafka offset as the client reports it (a string: offsets can exceed 2^53). */
  offset: string;
}

/**
 * What verification can find wrong with a trail:
 * - `ALTERED`: event_hash, event_id or key do not match the event's content.
 * - `TOMBSTONE`: a null value for a key; the pipeline never writes one, so someone deleted an event.
 * - `DUPLICATE_CONFLICT`: one key carrying two versions that differ in more than
 *   the time of the decision, or that name different predecessors.
 * - `FORK`: two different events of one trail claiming the same predecessor.
 * - `GAP`: an event whose predecessor is neither genesis nor any event of its trail.
 * - `NO_GENESIS`: a trail with events, none of them chained to genesis.
 * - `NOT_INGESTED`: a trail whose chain starts at a stage other than `ingest`.
 * - `LINK_UNRESOLVED`: a trail linked (as a duplicate or resubmission) to a
 *   trail the grant does not have, or to itself.
 */
export type FindingKind =
  | 'ALTERED'
  | 'TOMBSTONE'
  | 'DUPLICATE_CONFLICT'
  | 'FORK'
  | 'GAP'
  | 'NO_GENESIS'
  | 'NOT_INGESTED'
  | 'LINK_UNRESOLVED';

/** One problem with one trail, naming the event and its position on the topic when known. */
export interface Finding {
  grantId: string;
  /** The trail (audit_trail_id) the finding is about; absent for a tombstone, whose value is gone. */
  trailId?: string;
  kind: FindingKind;
  eventId?: string;
  key?: string;
  partition?: number;
  offset?: string;
  message: string;
}

/**
 * How a trail relates to an earlier trail of the same grant, as the pipeline
 * recorded it in the trail's events:
 * - `RESUBMISSION`: changed content under the same grant id (`details.resubmission_of_trail`).
 * - `DUPLICATE`: a copy of content already accepted, filed nothing (`details.duplicate_of_trail`).
 * - `RE_READ`: a trail read from the same ingest position as the trail it
 *   names (a new consumer group reading the ingest topic again): named by its
 *   duplicate decision, or, for a re-read that never reached submission
 *   (blocked, dead-lettered), by the ingest position both trails start from.
 */
export type TrailLinkKind = 'RESUBMISSION' | 'DUPLICATE' | 'RE_READ';

/** A link from one trail to an earlier one, and the event that records it. */
export interface TrailLink {
  kind: TrailLinkKind;
  ofTrail: string;
  eventId: string;
}

/** One trail of a grant with several. */
export interface TrailSummary {
  trailId: string;
  /** Distinct events (keys) of the trail. */
  events: number;
  /** When the trail started: the earliest occurred_at of its events. */
  startedAt: number;
  /**
   * Ingest decisions that start the trail: 1, or more for an ingest record
   * read again by another consumer group before trail ids named the group
   * (each read then started the same trail id from the same position).
   */
  reads: number;
  /** Null for a trail that names no earlier one (the first, or a retry after a dead letter). */
  link: TrailLink | null;
}

/** A grant with several trails, trails in the order they started. */
export interface GrantTrails {
  grantId: string;
  trails: TrailSummary[];
}

/**
 * Result of {@link ChainVerifier.finish}. `findings` are ordered by grant id,
 * then by trail (in the order trails started), then by chain position of the
 * event they name (see {@link firstBadEvent}).
 */
export interface VerificationReport {
  /** Grants with at least one record (value or tombstone). */
  grants: number;
  /** Distinct (grant, audit_trail_id) pairs with at least one event. */
  trails: number;
  /** Distinct keys that carried a value. */
  events: number;
  findings: Finding[];
  /** Sorted grant ids with at least one finding. */
  grantsWithFindings: string[];
  /**
   * Grants with more than one trail (resubmissions, duplicates, re-reads) or
   * with a trail started by more than one read, sorted by grant id.
   */
  linkedTrails: GrantTrails[];
  /**
   * Legitimate repeats, which are not findings: `identical` records that
   * repeat a key's bytes (a redelivery after a crash), `remade` versions of a
   * key that differ from the first only in occurred_at (the same decision made
   * again when its input was read again) and name the same predecessor.
   */
  redeliveries: { identical: number; remade: number };
  ok: boolean;
}
