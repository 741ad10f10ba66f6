import {
  AUDIT_HEAD_HEADER,
  AUDIT_TRAIL_HEADER,
  COMPLIANCE_TAGS,
  payloadHashOf,
  previousEventHashOf,
  stageAuditRecord,
  type AuditDecision,
} from '@grantstream/audit';
import type { RoutedGrantV2 } from '@grantstream/contracts';
import type { InboundMessage, OutboundRecord, ServiceIdentity } from '@grantstream/kafka';
import type { PortalRequest } from '../domain/portal-request';

/**
 * The audit events of one input's attempts, chained one after the other from
 * the head the input carried; the outputs carry the last one as the new head.
 */
export class AttemptTrail {
  private head: string;
  private readonly records: OutboundRecord[] = [];

  constructor(
    private readonly message: InboundMessage<unknown>,
    private readonly routed: RoutedGrantV2,
    private readonly request: PortalRequest,
    private readonly service: ServiceIdentity,
    /** Details every event of the trail carries (the content hash, a resubmission's link). */
    private readonly trailDetails: Record<string, string> = {},
  ) {
    this.head = previousEventHashOf(message.headers);
  }

  /** Appends an event; returns the head headers naming it. */
  add(
    action: AuditDecision['action'],
    occurredAt: number,
    errorCategory: AuditDecision['errorCategory'],
    details: Record<string, string>,
  ): Record<string, string> {
    const { record, headHeaders } = stageAuditRecord(
      {
        grantId: this.routed.grant_id,
        funderId: this.routed.funder_id,
        auditTrailId: this.routed.audit_trail_id,
        stage: this.service.stage,
        action,
        errorCategory,
        severity:
          errorCategory === null ? null : errorCategory === 'FUNDER_REJECTION' ? 'HIGH' : 'MEDIUM',
        complianceTags: [...COMPLIANCE_TAGS],
        ruleSetVersion: this.routed.rule_pack_version,
        payloadHash: payloadHashOf(this.message.raw),
        service: this.service,
        occurredAt,
        source: {
          topic: this.message.topic,
          partition: this.message.partition,
          offset: Number(this.message.offset),
        },
        // Several events of one input differ by this; a redelivery rebuilds the same ones.
        discriminator: `${this.records.length}`,
        details: {
          ...this.trailDetails,
          ...details,
          portal_payload_sha256: this.request.payloadHash,
        },
      },
      this.head,
    );
    this.records.push(record);
    this.head = record.value.event_hash;
    return headHeaders;
  }

  /** The headers naming the latest event (the input's head while there is none) and the trail. */
  headHeaders(): Record<string, string> {
    return { [AUDIT_HEAD_HEADER]: this.head, [AUDIT_TRAIL_HEADER]: this.routed.audit_trail_id };
  }

  /** The events and `outputs`, each output carrying the latest head. */
  finish(
    outputs: readonly Omit<OutboundRecord, 'headers'>[] | readonly OutboundRecord[],
  ): OutboundRecord[] {
    const headHeaders = this.headHeaders();
    return [
      ...outputs.map((o) => ({
        ...o,
        headers: 'headers' in o && o.headers ? o.headers : headHeaders,
      })),
      ...this.records,
    ];
  }
}
