import type { AuditActionV1, AuditEventV1, SourcePositionV1 } from '@grantstream/contracts';
import { ContractViolationError } from '@grantstream/errors';
import { canonicalJson, isSha256Hex, sha256Hex } from './hashing';

/**
 * Regulatory references every audit event is evidence for: 2 CFR 200.302
 * (financial management: records that identify the source and application of
 * funds) and 2 CFR 200.334 (retention of records).
 */
export const COMPLIANCE_TAGS = ['2 CFR 200.302', '2 CFR 200.334'] as const;

/**
 * `details` key under which a decision's discriminator is stored. The event_id
 * is derived from it, so it must travel inside the event: otherwise a verifier
 * could not recompute the id and tell a genuine event from a re-keyed one.
 */
export const DISCRIMINATOR_DETAIL = 'discriminator';

/** What one stage decided about one grant: the input of {@link buildAuditEvent}. */
export interface AuditDecision {
  grantId: string;
  funderId: string;
  auditTrailId: string;
  /** Stage that decided (ingest, normalization, routing, submission, status, notification, grantctl). */
  stage: string;
  action: AuditActionV1;
  /** Error category when an error caused the decision. */
  errorCategory?: string | null;
  severity?: 'HIGH' | 'MEDIUM' | null;
  /** Version of the rules or configuration that decided, when rules were involved. */
  ruleSetVersion?: string | null;
  /** {@link payloadHashOf} the input message value. */
  payloadHash: string;
  service: { name: string; version: string };
  /** Epoch milliseconds, taken from the decision (never from the clock at build time). */
  occurredAt: number;
  /** Where the input message was read; null for decisions not driven by a message. */
  source?: SourcePositionV1 | null;
  /** Decision-specific facts (tracking_number, status, attempt, ...); never secrets or payloads. */
  details?: Record<string, string>;
  /**
   * Distinguishes two events of the same grant, stage, action and source (e.g. a
   * retry attempt number, a grantctl operation id). Required when `source` is
   * null: without a source position nothing else tells two such decisions apart,
   * and two decisions sharing an id would share a key and compact one away.
   */
  discriminator?: string;
  /** Defaults to {@link COMPLIANCE_TAGS}. */
  complianceTags?: readonly string[];
}

/**
 * The fields an event_id is derived from. Deliberately excludes everything that
 * could differ between a first delivery and a redelivery of the same decision
 * (clock, service version), so a redelivery lands on the same key.
 */
function eventIdFor(
  grantId: string,
  stage: string,
  action: string,
  source: SourcePositionV1 | null,
  discriminator: string | undefined,
): string {
  const identity = {
    grant_id: grantId,
    stage,
    action,
    source:
      source === null
        ? null
        : { topic: source.topic, partition: source.partition, offset: source.offset },
    discriminator,
  };
  return sha256Hex(canonicalJson(identity));
}

/**
 * The event_id an event's identity fields (grant, stage, action, source and the
 * discriminator kept in `details`) imply. A stored event whose event_id differs
 * was altered after it was built.
 */
export function eventIdOf(event: AuditEventV1): string {
  return eventIdFor(
    event.grant_id,
    event.stage,
    event.action,
    event.source,
    event.details[DISCRIMINATOR_DETAIL],
  );
}

/**
 * SHA-256 over the canonical JSON of every field but `event_hash` itself.
 * Because `previous_event_hash` is covered, changing any earlier event changes
 * the hash its successor must point to: the events form a per-grant hash chain.
 */
export function computeEventHash(event: AuditEventV1): string {
  const { event_hash: _ignored, ...hashed } = event;
  return sha256Hex(canonicalJson(hashed));
}

/** Kafka key of an audit event: unique per event so compaction never merges two decisions. */
export function auditKeyOf(event: Pick<AuditEventV1, 'grant_id' | 'event_id'>): string {
  return `${event.grant_id}:${event.event_id}`;
}

/**
 * Builds the audit event of a decision, chained to `previousEventHash` (the
 * grant's last event_hash, or {@link AUDIT_GENESIS_HASH} for its first event).
 *
 * Pure and deterministic: the same decision and previous hash give the same
 * event, id, hash and key, so a decision re-made after a crash and re-produced
 * compacts onto its first copy instead of adding a second event to the trail.
 * The key is `${grant_id}:${event_id}` rather than the grant id because a
 * compacted topic keeps only the last value per key: a per-grant key would erase
 * the grant's history.
 *
 * Throws {@link ContractViolationError} for a decision that could not be audited
 * faithfully (malformed hashes or positions, a sourceless decision without a
 * discriminator, a discriminator contradicting `details`).
 */
export function buildAuditEvent(
  decision: AuditDecision,
  previousEventHash: string,
): { key: string; event: AuditEventV1 } {
  const problems = problemsOf(decision, previousEventHash);
  if (problems.length > 0) {
    throw new ContractViolationError(`invalid audit decision: ${problems.join('; ')}`, {
      metadata: { grantId: decision.grantId, stage: decision.stage, problems },
    });
  }
  const source =
    decision.source === undefined || decision.source === null
      ? null
      : {
          topic: decision.source.topic,
          partition: decision.source.partition,
          offset: decision.source.offset,
        };
  // A discriminator given only in details counts too: eventIdOf reads it from there.
  const discriminator = discriminatorOf(decision);
  const details: Record<string, string> = { ...decision.details };
  if (discriminator !== undefined) details[DISCRIMINATOR_DETAIL] = discriminator;

  const event: AuditEventV1 = {
    event_id: eventIdFor(decision.grantId, decision.stage, decision.action, source, discriminator),
    grant_id: decision.grantId,
    funder_id: decision.funderId,
    audit_trail_id: decision.auditTrailId,
    stage: decision.stage,
    action: decision.action,
    error_category: decision.errorCategory ?? null,
    severity: decision.severity ?? null,
    compliance_tags: [...(decision.complianceTags ?? COMPLIANCE_TAGS)],
    rule_set_version: decision.ruleSetVersion ?? null,
    payload_hash: decision.payloadHash,
    service_name: decision.service.name,
    service_version: decision.service.version,
    occurred_at: decision.occurredAt,
    source,
    previous_event_hash: previousEventHash,
    event_hash: '',
    details,
  };
  event.event_hash = computeEventHash(event);
  return { key: auditKeyOf(event), event };
}

function discriminatorOf(decision: AuditDecision): string | undefined {
  return decision.discriminator ?? decision.details?.[DISCRIMINATOR_DETAIL];
}

function problemsOf(decision: AuditDecision, previousEventHash: string): string[] {
  const problems: string[] = [];
  if (decision.grantId === '') problems.push('grantId is empty');
  if (decision.stage === '') problems.push('stage is empty');
  if (!isSha256Hex(previousEventHash)) {
    problems.push('previousEventHash is not a lower-case hex SHA-256');
  }
  if (!isSha256Hex(decision.payloadHash)) {
    problems.push('payloadHash is not a lower-case hex SHA-256');
  }
  if (!Number.isSafeInteger(decision.occurredAt) || decision.occurredAt < 0) {
    problems.push('occurredAt is not a non-negative integer of epoch milliseconds');
  }
  const source = decision.source;
  if (source !== undefined && source !== null) {
    if (!Number.isInteger(source.partition) || source.partition < 0) {
      problems.push('source.partition is not a non-negative integer');
    }
    if (!Number.isSafeInteger(source.offset) || source.offset < 0) {
      problems.push('source.offset is not a non-negative integer');
    }
  } else if (discriminatorOf(decision) === undefined) {
    problems.push('a decision without a source needs a discriminator to keep its event_id unique');
  }
  const detailed = decision.details?.[DISCRIMINATOR_DETAIL];
  if (
    detailed !== undefined &&
    decision.discriminator !== undefined &&
    detailed !== decision.discriminator
  ) {
    problems.push(`details.${DISCRIMINATOR_DETAIL} contradicts discriminator`);
  }
  return problems;
}
