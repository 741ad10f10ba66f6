import { Controller, Inject } from '@nestjs/common';
import {
  NormalizedGrantV2Avro,
  NormalizedGrantV2Schema,
  TOPICS,
  type ComplianceBlockedGrantV1,
  type NormalizedGrantV2,
  type RoutedGrantV2,
} from '@grantstream/contracts';
import { COMPLIANCE_TAGS } from '@grantstream/audit';
import {
  StageEvent,
  auditedRecords,
  type HandlerResult,
  type InboundMessage,
  type ServiceIdentity,
} from '@grantstream/kafka';
import { decisionCategoryOf, type RulePackSet } from '@grantstream/rules';
import { routeGrant } from '../domain/route';

/** Injection token of {@link RoutingDeps}. */
export const ROUTING_DEPS = Symbol('ROUTING_DEPS');

/** What the handler needs, provided by the module. */
export interface RoutingDeps {
  packs: RulePackSet;
  service: ServiceIdentity;
  now: () => number;
}

/**
 * grants.normalized.v1 → grants.routed.v1 (FORWARD) or
 * grants.compliance-blocked.v1 (REJECT), with the decision's audit event,
 * its flags and rule-pack version, in the same transaction.
 */
@Controller()
export class GrantsNormalizedHandler {
  constructor(@Inject(ROUTING_DEPS) private readonly deps: RoutingDeps) {}

  @StageEvent(TOPICS.NORMALIZED, { avro: NormalizedGrantV2Avro, zod: NormalizedGrantV2Schema })
  handle(message: InboundMessage<NormalizedGrantV2>): HandlerResult {
    const { packs, service, now } = this.deps;
    const grant = message.value;
    const at = now();
    const outcome = routeGrant(grant, packs.get(grant.funder_id), { now: at });
    const value: RoutedGrantV2 | ComplianceBlockedGrantV1 = {
      grant_id: grant.grant_id,
      funder_id: grant.funder_id,
      audit_trail_id: grant.audit_trail_id,
      decision: outcome.decision,
      compliance_flags: outcome.flags,
      compliance_tags: [...COMPLIANCE_TAGS],
      rule_pack_version: outcome.rulePackVersion,
      grant,
      routed_at: at,
    };
    const blocked = outcome.decision === 'REJECT';
    const records = auditedRecords(
      message,
      {
        grantId: grant.grant_id,
        funderId: grant.funder_id,
        auditTrailId: grant.audit_trail_id,
        stage: service.stage,
        action: outcome.decision,
        errorCategory: decisionCategoryOf(outcome.flags),
        severity: blocked ? 'HIGH' : null,
        ruleSetVersion: outcome.rulePackVersion,
        service,
        occurredAt: at,
        details: {
          flags: outcome.flags.map((f) => `${f.severity}:${f.code}`).join(','),
        },
      },
      [{ topic: blocked ? TOPICS.COMPLIANCE_BLOCKED : TOPICS.ROUTED, key: grant.grant_id, value }],
    );
    return { records };
  }
}
