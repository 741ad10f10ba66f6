import type { ComplianceBlockedGrantV1 } from '@grantstream/contracts';
import { decisionCategoryOf } from '@grantstream/rules';
import { notificationIdOf, type NotificationCause, type NotificationOutcome } from './notification';

/**
 * A grant compliance routing blocked (grants.compliance-blocked.v1): the
 * officer gets every finding of the rule pack, critical ones first in the
 * summary, since those are what stopped the submission.
 */
export function fromComplianceBlock(
  blocked: ComplianceBlockedGrantV1,
  cause: NotificationCause,
): NotificationOutcome {
  const flags = blocked.compliance_flags;
  const critical = flags.filter((f) => f.severity === 'CRITICAL');
  const codes = (critical.length > 0 ? critical : flags).map((f) => f.code);
  const details: Record<string, string> = {
    decision: blocked.decision,
    rule_pack_version: blocked.rule_pack_version,
    funder_portal: blocked.grant.funder_portal,
    compliance_tags: blocked.compliance_tags.join(', '),
    flags: flags.map((f) => `${f.severity}:${f.code}`).join(','),
  };
  flags.forEach((f, i) => {
    details[`finding_${i + 1}`] =
      `${f.severity} ${f.code}${f.field === null ? '' : ` [${f.field}]`}: ${f.message}`;
  });
  const findings = `${critical.length} critical finding${critical.length === 1 ? '' : 's'}`;
  return {
    action: 'notify',
    notification: {
      notificationId: notificationIdOf('COMPLIANCE_BLOCK', blocked.grant_id, cause),
      kind: 'COMPLIANCE_BLOCK',
      grantId: blocked.grant_id,
      funderId: blocked.funder_id,
      auditTrailId: blocked.audit_trail_id,
      // Routing records an unknown funder's block as UNKNOWN_FUNDER: say the same.
      errorCategory: decisionCategoryOf(flags) ?? 'COMPLIANCE_BLOCK',
      // Routing's REJECT is HIGH: a compliance failure.
      severity: 'HIGH',
      summary: `${blocked.grant_id} was blocked by ${blocked.funder_id} compliance rules (${findings}: ${codes.join(', ') || 'none listed'}) and will not be submitted`,
      details,
      deadline: blocked.grant.submission_deadline,
      requestedBy: 'routing',
      requestedAt: blocked.routed_at,
      ruleSetVersion: blocked.rule_pack_version,
    },
  };
}
