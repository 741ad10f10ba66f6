import { TOPICS, type AuditEventV1, type SourcePositionV1 } from '@grantstream/contracts';
import { buildAuditEvent, type AuditDecision } from './audit-event';
import { AUDIT_GENESIS_HASH, isSha256Hex, sha256Hex } from './hashing';

/**
 * Message header carrying the event_hash of the grant's latest audit event
 * from one stage to the next. The next stage chains its own event to it, so a
 * grant's trail is one hash chain across every stage without any stage having
 * to read the audit topic back.
 */
export const AUDIT_HEAD_HEADER = 'grantstream.audit.head';

/**
 * Message header carrying the audit trail id beside {@link AUDIT_HEAD_HEADER}.
 * A stage that cannot decode its input (bytes a bug or an intruder left on an
 * internal topic) still continues the right trail with its DEAD_LETTER event:
 * the id is otherwise only inside the value it could not read.
 */
export const AUDIT_TRAIL_HEADER = 'grantstream.audit.trail';

/** What a trail id may look like in a header: ours are UUID-shaped; anything else is ignored. */
const TRAIL_ID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The trail id a previous stage put on the message, or null when it is absent or malformed. */
export function auditTrailIdOfHeaders(
  headers: Readonly<Record<string, Buffer | undefined>>,
): string | null {
  const id = headers[AUDIT_TRAIL_HEADER]?.toString();
  return id !== undefined && TRAIL_ID_SHAPE.test(id) ? id : null;
}

/**
 * The hash the next audit event of a grant must point to: the head a previous
 * stage put on the message, or genesis when there is none. A malformed header
 * also yields genesis, which `grantctl audit verify` then reports as a fork or
 * a second root rather than the stage failing on it.
 */
export function previousEventHashOf(headers: Readonly<Record<string, Buffer | undefined>>): string {
  const head = headers[AUDIT_HEAD_HEADER]?.toString();
  return head !== undefined && isSha256Hex(head) ? head : AUDIT_GENESIS_HASH;
}

/**
 * The audit trail id ingest assigns to a submission: derived from where it was
 * read and by which consumer group, so a redelivery to the same group after a
 * crash gets the same id (and the same events), while the same grant
 * submitted again, or the same record read again by another group (a new
 * deployment, an offset reset), starts a trail of its own. UUID-shaped.
 * Without `consumerGroup` the id depends on the position alone (the form of
 * trails started before groups were part of it).
 */
export function auditTrailIdFor(source: SourcePositionV1, consumerGroup?: string): string {
  const position = `${source.topic}\u0000${source.partition}\u0000${source.offset}`;
  const h = sha256Hex(consumerGroup === undefined ? position : `${position}\u0000${consumerGroup}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The discriminator of the events that start a trail at ingest (VALIDATED,
 * DEAD_LETTER). Their event_id otherwise depends only on grant, stage, action
 * and source position, which a re-read by another consumer group shares with
 * the original: without it the re-read's events would take the original's
 * Kafka keys and compaction would fold one trail onto the other.
 */
export function trailStartDiscriminator(auditTrailId: string): string {
  return `trail:${auditTrailId}`;
}

/** An audit event ready to produce, and the header that passes its hash on to the next stage. */
export interface StageAuditRecord {
  /** Structurally a libs/kafka OutboundRecord for the audit topic. */
  record: { topic: string; key: string; value: AuditEventV1 };
  /** Headers for the stage's output about the same grant: the new head of its chain and the trail's id. */
  headHeaders: Record<string, string>;
}

/**
 * The audit record of a stage's decision, chained to `previousEventHash`, and
 * the head header its output should carry. Produced in the same transaction as
 * the output, the event exists exactly when the output does.
 */
export function stageAuditRecord(
  decision: AuditDecision,
  previousEventHash: string,
  topic: string = TOPICS.AUDIT,
): StageAuditRecord {
  const { key, event } = buildAuditEvent(decision, previousEventHash);
  return {
    record: { topic, key, value: event },
    headHeaders: {
      [AUDIT_HEAD_HEADER]: event.event_hash,
      [AUDIT_TRAIL_HEADER]: event.audit_trail_id,
    },
  };
}
