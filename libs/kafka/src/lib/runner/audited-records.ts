import { TOPICS } from '@grantstream/contracts';
import {
  AUDIT_GENESIS_HASH,
  payloadHashOf,
  previousEventHashOf,
  stageAuditRecord,
  type AuditDecision,
} from '@grantstream/audit';
import type { InboundMessage, OutboundRecord } from './stage-handler';

/** A stage's decision about one input, less what the input message itself tells. */
export type StageDecision = Omit<AuditDecision, 'payloadHash' | 'source' | 'discriminator'> & {
  /** True for the stage that starts a grant's trail (ingest): upstream headers are not trusted as a head. */
  startsTrail?: boolean;
};

/**
 * A stage's outputs for one input plus the audit event of its decision, for
 * one transaction. The event is chained to the head the input carried, hashes
 * the input's bytes and names its position; every output carries the event's
 * hash as the new head, so the next stage continues the same chain.
 */
export function auditedRecords(
  message: InboundMessage<unknown>,
  decision: StageDecision,
  outputs: readonly Omit<OutboundRecord, 'headers'>[],
  auditTopic: string = TOPICS.AUDIT,
): OutboundRecord[] {
  const { startsTrail, ...rest } = decision;
  const previous = startsTrail ? AUDIT_GENESIS_HASH : previousEventHashOf(message.headers);
  const audit = stageAuditRecord(
    {
      ...rest,
      payloadHash: payloadHashOf(message.raw),
      source: {
        topic: message.topic,
        partition: message.partition,
        offset: Number(message.offset),
      },
    },
    previous,
    auditTopic,
  );
  return [...outputs.map((o) => ({ ...o, headers: audit.headHeaders })), audit.record];
}
