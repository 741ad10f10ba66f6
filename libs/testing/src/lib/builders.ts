import type { GrantSubmissionV1 } from '@grantstream/contracts';

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
