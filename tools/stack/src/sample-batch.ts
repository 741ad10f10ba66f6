import type { GrantSubmissionV1 } from '@grantstream/contracts';

const FUNDERS = [
  { id: 'NSF', portal: 'research.gov', program: 'Improving Undergraduate STEM Education' },
  { id: 'GATES', portal: 'gates-foundation-portal', program: 'Global Health Discovery' },
  { id: 'CADOE', portal: 'ca-dept-of-education', program: 'After School Education and Safety' },
] as const;

/**
 * A deterministic batch of applications across a federal agency, a private
 * foundation and a state agency, each with metadata of every value kind and
 * attachment references. `runTag` keeps grant ids unique between runs.
 */
export function sampleBatch(count: number, runTag: string, now: number): GrantSubmissionV1[] {
  return Array.from({ length: count }, (_, i) => {
    const funder = FUNDERS[i % FUNDERS.length] ?? FUNDERS[0];
    const grantId = `${funder.id}-2026-${runTag}-${String(i + 1).padStart(5, '0')}`;
    return {
      grant_id: grantId,
      funder_portal: funder.portal,
      submission_deadline: now + (10 + (i % 30)) * 86_400_000,
      metadata: {
        program: funder.program,
        project_title: `Community program ${i + 1}`,
        requested_amount: 25_000 + (i % 40) * 5_000,
        indirect_rate: 0.1 + (i % 5) * 0.05,
        first_time_applicant: i % 4 === 0,
        key_personnel: ['Principal Investigator', 'Program Director'],
        previous_award: i % 3 === 0 ? `${funder.id}-2023-${String(i).padStart(5, '0')}` : null,
      },
      attachments: [
        {
          uri: `file:///attachments/${grantId}/narrative.pdf`,
          media_type: 'application/pdf',
          size_bytes: 180_000 + i * 17,
          sha256: null,
          filename: 'narrative.pdf',
        },
        {
          uri: `file:///attachments/${grantId}/budget.xlsx`,
          media_type: null,
          size_bytes: null,
          sha256: null,
          filename: 'budget.xlsx',
        },
      ],
      audit_timestamp: now,
    };
  });
}
