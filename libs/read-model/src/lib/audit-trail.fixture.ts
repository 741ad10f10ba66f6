import {
  AUDIT_GENESIS_HASH,
  buildAuditEvent,
  payloadHashOf,
  type AuditDecision,
} from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';

/** A step of a trail: its stage and action, and whatever else the spec sets. */
export type TrailStep = Pick<AuditDecision, 'stage' | 'action'> & Partial<AuditDecision>;

/** One grant's trail for the specs, chained from genesis, one minute apart from `from`. */
export function auditTrail(grantId: string, steps: TrailStep[], from: number): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return steps.map((step, i) => {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: grantId.split('-')[0] ?? 'X',
        auditTrailId: `trail-${grantId}`,
        payloadHash: payloadHashOf(Buffer.from(`${grantId}:${i}`)),
        service: { name: step.stage, version: '1.0.0' },
        occurredAt: from + i * 60_000,
        source: { topic: `grants.${step.stage}.v1`, partition: 0, offset: i },
        ...step,
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}
