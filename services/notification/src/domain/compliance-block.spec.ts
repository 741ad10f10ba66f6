import { describe, expect, it } from 'vitest';
import { fromComplianceBlock } from './compliance-block';
import { notificationIdOf, type Notification } from './notification';
import { DEADLINE, ROUTED_AT, aBlockedGrant, aFlag } from '../test-support/builders';

const HEAD = 'c'.repeat(64);

function notice(...args: Parameters<typeof aBlockedGrant>): Notification {
  const outcome = fromComplianceBlock(aBlockedGrant(...args), { auditHead: HEAD });
  if (outcome.action !== 'notify') throw new Error('expected a notification');
  return outcome.notification;
}

describe('fromComplianceBlock', () => {
  it('notifies COMPLIANCE_BLOCK with the grant, its deadline and routing as the requester', () => {
    const n = notice();
    expect(n).toMatchObject({
      notificationId: notificationIdOf('COMPLIANCE_BLOCK', 'NSF-2026-00042', { auditHead: HEAD }),
      kind: 'COMPLIANCE_BLOCK',
      grantId: 'NSF-2026-00042',
      funderId: 'NSF',
      auditTrailId: '0b5c3a9e-1d2f-4a6b-8c7d-9e0f1a2b3c4d',
      errorCategory: 'COMPLIANCE_BLOCK',
      severity: 'HIGH',
      deadline: DEADLINE,
      requestedBy: 'routing',
      requestedAt: ROUTED_AT,
      ruleSetVersion: '2026.1.0',
    });
  });

  it.each<[string, Parameters<typeof aBlockedGrant>[0], RegExp, Record<string, string>]>([
    [
      'one critical finding',
      {},
      /NSF-2026-00042 was blocked by NSF compliance rules \(1 critical finding: BUDGET_OVER_CAP\)/,
      {
        flags: 'CRITICAL:BUDGET_OVER_CAP',
        finding_1:
          'CRITICAL BUDGET_OVER_CAP [requested_amount]: requested_amount $900,000.00 is above the cap of $500,000.00',
        rule_pack_version: '2026.1.0',
        decision: 'REJECT',
        compliance_tags: '2 CFR 200.302, 2 CFR 200.334',
        funder_portal: 'grants-gov',
      },
    ],
    [
      'critical findings named in the summary, warnings only in the details',
      {
        compliance_flags: [
          aFlag({ code: 'TRUNCATION_RISK', severity: 'WARNING', field: 'title', message: 'long' }),
          aFlag(),
          aFlag({ code: 'DEADLINE_PASSED', field: null, message: 'the deadline has passed' }),
        ],
      },
      /\(2 critical findings: BUDGET_OVER_CAP, DEADLINE_PASSED\)/,
      {
        flags: 'WARNING:TRUNCATION_RISK,CRITICAL:BUDGET_OVER_CAP,CRITICAL:DEADLINE_PASSED',
        finding_1: 'WARNING TRUNCATION_RISK [title]: long',
        finding_3: 'CRITICAL DEADLINE_PASSED: the deadline has passed',
      },
    ],
    [
      'no finding at all (a malformed block still reaches a person)',
      { compliance_flags: [] },
      /\(0 critical findings: none listed\)/,
      { flags: '' },
    ],
  ])('%s', (_name, overrides, summary, details) => {
    const n = notice(overrides);
    expect(n.summary).toMatch(summary);
    expect(n.details).toMatchObject(details);
  });

  it('records an unknown funder as routing does', () => {
    const n = notice({
      grant_id: 'XYZ-2026-00001',
      rule_pack_version: 'none',
      compliance_flags: [aFlag({ code: 'UNKNOWN_FUNDER', field: null, message: 'no rule pack' })],
    });
    expect(n.errorCategory).toBe('UNKNOWN_FUNDER');
    expect(n.funderId).toBe('XYZ');
    expect(n.ruleSetVersion).toBe('none');
  });
});
