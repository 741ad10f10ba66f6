import { funderIdOf, type GrantSubmissionV1, type RoutedGrantV1 } from '@grantstream/contracts';

/**
 * A realistic GrantSubmission with every metadata value kind and an attachment
 * reference; override any field.
 */
export function aGrantSubmission(overrides: Partial<GrantSubmissionV1> = {}): GrantSubmissionV1 {
  return {
    grant_id: 'NSF-2026-00042',
    funder_portal: 'research.gov',
    submission_deadline: Date.UTC(2026, 11, 15, 22, 0, 0),
    metadata: {
      project_title: 'Watershed sensing for rural schools',
      requested_amount: 249_500,
      indirect_rate: 0.265,
      human_subjects: false,
      co_investigators: ['A. Rivera', 'M. Chen'],
      program_officer: null,
    },
    attachments: [
      {
        uri: 'file:///attachments/NSF-2026-00042/project-description.pdf',
        media_type: 'application/pdf',
        size_bytes: 1_204_332,
        sha256: 'a3f1c2e4b5d6978812aa0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566'.slice(0, 64),
        filename: 'project-description.pdf',
      },
    ],
    audit_timestamp: Date.UTC(2026, 10, 28, 12, 0, 0),
    ...overrides,
  };
}

/**
 * A RoutedGrant (compliance FORWARD) for `grantId`, as submission consumes it:
 * a few normalized fields, one verified PDF, no flags. The funder is the grant
 * id's prefix; override the deadline or anything else.
 */
export function aRoutedGrant(
  grantId: string,
  overrides: { deadline?: number; auditTrailId?: string } = {},
): RoutedGrantV1 {
  const funderId = funderIdOf(grantId);
  const auditTrailId = overrides.auditTrailId ?? `trail-${grantId}`;
  const at = Date.UTC(2026, 10, 28, 12, 0, 0);
  return {
    grant_id: grantId,
    funder_id: funderId,
    audit_trail_id: auditTrailId,
    decision: 'FORWARD',
    compliance_flags: [],
    compliance_tags: ['2 CFR 200.302', '2 CFR 200.334'],
    rule_pack_version: `${funderId.toLowerCase()}-test-1`,
    grant: {
      grant_id: grantId,
      funder_id: funderId,
      funder_portal: 'portal.example',
      submission_deadline: overrides.deadline ?? Date.now() + 30 * 86_400_000,
      audit_trail_id: auditTrailId,
      normalized_fields: {
        project_title: 'Watershed sensing for rural schools',
        requested_amount_cents: '24950000',
      },
      field_changes: [],
      attachments: [
        {
          uri: `file:///attachments/${grantId}/narrative.pdf`,
          filename: 'narrative.pdf',
          media_type: 'application/pdf',
          declared_media_type: 'application/pdf',
          size_bytes: 1024,
          sha256: 'ab'.repeat(32),
        },
      ],
      normalizer_version: '1.0.0',
      normalized_at: at,
    },
    routed_at: at,
  };
}
