import type {
  ComplianceBlockedGrantV1,
  ComplianceFlagV1,
  GrantStatusV1,
  NotificationRequestV1,
} from '@grantstream/contracts';

// Inputs of the unit tests: a valid record of each input topic, with overrides.

/** When routing blocked the grant in these records. */
export const ROUTED_AT = Date.parse('2026-03-02T10:00:00Z');
/** The grant's submission deadline in these records. */
export const DEADLINE = Date.parse('2026-04-01T21:00:00Z');

/** A critical finding by default. */
export function aFlag(overrides: Partial<ComplianceFlagV1> = {}): ComplianceFlagV1 {
  return {
    rule_id: 'budget.cap',
    code: 'BUDGET_OVER_CAP',
    severity: 'CRITICAL',
    field: 'requested_amount',
    message: 'requested_amount $900,000.00 is above the cap of $500,000.00',
    ...overrides,
  };
}

/** A grant routing blocked, as it sits on grants.compliance-blocked.v1. */
export function aBlockedGrant(
  overrides: Partial<ComplianceBlockedGrantV1> = {},
): ComplianceBlockedGrantV1 {
  const grantId = overrides.grant_id ?? 'NSF-2026-00042';
  return {
    grant_id: grantId,
    funder_id: grantId.split('-')[0] ?? 'NSF',
    audit_trail_id: '0b5c3a9e-1d2f-4a6b-8c7d-9e0f1a2b3c4d',
    decision: 'REJECT',
    compliance_flags: [aFlag()],
    compliance_tags: ['2 CFR 200.302', '2 CFR 200.334'],
    rule_pack_version: '2026.1.0',
    grant: {
      grant_id: grantId,
      funder_id: grantId.split('-')[0] ?? 'NSF',
      funder_portal: 'grants-gov',
      submission_deadline: DEADLINE,
      audit_trail_id: '0b5c3a9e-1d2f-4a6b-8c7d-9e0f1a2b3c4d',
      normalized_fields: { project_title: 'Watershed sensors' },
      field_changes: [],
      attachments: [],
      normalizer_version: '1.0.0',
      normalized_at: ROUTED_AT - 1000,
    },
    routed_at: ROUTED_AT,
    ...overrides,
  };
}

/** A status event; a terminal rejection by default. */
export function aStatus(overrides: Partial<GrantStatusV1> = {}): GrantStatusV1 {
  return {
    grant_id: 'BCF-2026-00007',
    funder_id: 'BCF',
    funder_portal: 'bcf-portal',
    audit_trail_id: '1c6d4b0f-2e3a-4b7c-9d8e-0f1a2b3c4d5e',
    idempotency_key: 'a'.repeat(64),
    tracking_number: 'BCF-TRK-000123',
    status: 'REJECTED_WITH_ERRORS',
    portal_messages: ['budget_narrative: missing', 'ein: does not match the registered entity'],
    terminal: true,
    submitted_at: ROUTED_AT + 60_000,
    observed_at: ROUTED_AT + 120_000,
    next_poll_at: null,
    attempt: 3,
    ...overrides,
  };
}

/** Submission's DEADLINE_AT_RISK request. */
export function aRequest(overrides: Partial<NotificationRequestV1> = {}): NotificationRequestV1 {
  return {
    notification_id: 'f'.repeat(64),
    grant_id: 'SCDA-2026-00003',
    funder_id: 'SCDA',
    audit_trail_id: '2d7e5c1a-3f4b-4c8d-0e9f-1a2b3c4d5e6f',
    kind: 'DEADLINE_AT_RISK',
    error_category: 'DEADLINE_AT_RISK',
    severity: 'MEDIUM',
    summary: 'SCDA-2026-00003 waits 15 min for a retry but its deadline is in 9 min',
    details: { next_attempt_at: '2026-03-02T10:15:00.000Z' },
    deadline: DEADLINE,
    requested_by: 'submission',
    requested_at: ROUTED_AT,
    ...overrides,
  };
}
