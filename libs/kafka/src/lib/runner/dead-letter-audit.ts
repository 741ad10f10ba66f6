import { DLQ_HEADERS, TOPICS, funderIdOrNull } from '@grantstream/contracts';
import {
  AUDIT_GENESIS_HASH,
  auditTrailIdFor,
  auditTrailIdOfHeaders,
  payloadHashOf,
  previousEventHashOf,
  stageAuditRecord,
  trailStartDiscriminator,
} from '@grantstream/audit';
import type { DeadLetterFailure, DeadLetterHook } from './stage-handler';
import type { ServiceIdentity } from './stage-runner';

/** Longest reason kept in an audit event; the dead letter's headers and the logs have the rest. */
const MAX_REASON_CHARS = 500;

/** Grant id of a failed input: its decoded grant_id, else the message key. */
function grantIdOf(failure: DeadLetterFailure): string {
  const decoded = failure.decoded as { grant_id?: unknown } | undefined;
  if (typeof decoded?.grant_id === 'string' && decoded.grant_id !== '') return decoded.grant_id;
  if (failure.key !== null && failure.key !== '') return failure.key;
  // Neither value nor key names the grant: the position is the only identity left.
  return `UNKEYED-${failure.topic}-${failure.partition}-${failure.offset}`;
}

/** Options of {@link deadLetterAuditHook}. */
export interface DeadLetterAuditOptions {
  service: ServiceIdentity;
  /**
   * True for the stage that starts a grant's trail (ingest): its inputs come
   * from upstream, whose headers cannot name a head of our chain.
   */
  startsTrail: boolean;
  /**
   * The stage's consumer group, for a stage that starts trails: part of the
   * trail id (and of the event's discriminator), so a record dead-lettered
   * again by another group that re-reads the topic starts a trail of its own
   * instead of taking the original's event key.
   */
  consumerGroup?: string;
  /** Version of the rules in force, recorded on the event. */
  ruleSetVersion?: (failure: DeadLetterFailure) => string | null;
  auditTopic?: string;
}

/**
 * The DEAD_LETTER audit event of every message a stage gives up on, chained
 * to the grant's trail and produced in the dead letter's transaction: every
 * dead letter has evidence, with its category, code and reason. The dead
 * letter carries the event's hash as its audit head, so the notification of
 * it, or a redrive, continues the same chain.
 */
export function deadLetterAuditHook(options: DeadLetterAuditOptions): DeadLetterHook {
  return (failure) => {
    const grantId = grantIdOf(failure);
    const decoded = failure.decoded as { audit_trail_id?: unknown } | undefined;
    const source = {
      topic: failure.topic,
      partition: failure.partition,
      offset: Number(failure.offset),
    };
    const startsGroupTrail = options.startsTrail && options.consumerGroup !== undefined;
    // An undecodable input of a later stage continues the trail its headers name;
    // the first stage's inputs come from upstream, whose headers name none of ours.
    const auditTrailId =
      typeof decoded?.audit_trail_id === 'string'
        ? decoded.audit_trail_id
        : ((options.startsTrail ? null : auditTrailIdOfHeaders(failure.headers)) ??
          auditTrailIdFor(source, startsGroupTrail ? options.consumerGroup : undefined));
    const reason =
      failure.error.message.length > MAX_REASON_CHARS
        ? `${failure.error.message.slice(0, MAX_REASON_CHARS)}…`
        : failure.error.message;
    const { record, headHeaders } = stageAuditRecord(
      {
        grantId,
        funderId: funderIdOrNull(grantId) ?? 'UNKNOWN',
        auditTrailId,
        stage: options.service.stage,
        action: 'DEAD_LETTER',
        errorCategory: failure.error.category,
        severity: failure.error.impact,
        ruleSetVersion: options.ruleSetVersion?.(failure) ?? null,
        payloadHash: payloadHashOf(failure.value),
        service: { name: options.service.name, version: options.service.version },
        occurredAt: Date.now(),
        source,
        details: {
          error_code: failure.error.code,
          reason,
          attempts: String(failure.attempts),
        },
        ...(startsGroupTrail ? { discriminator: trailStartDiscriminator(auditTrailId) } : {}),
      },
      options.startsTrail ? AUDIT_GENESIS_HASH : previousEventHashOf(failure.headers),
      options.auditTopic ?? TOPICS.AUDIT,
    );
    // The trail id travels with the dead letter: whoever acts on it (notification,
    // a redrive) continues this trail, whose id it could not derive (the group).
    return {
      records: [record],
      headers: { ...headHeaders, [DLQ_HEADERS.AUDIT_TRAIL_ID]: auditTrailId },
    };
  };
}
