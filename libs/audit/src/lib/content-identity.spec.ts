import { describe, expect, it } from 'vitest';
import { TRANSPORT_ONLY_FIELDS, contentHashOf, isDuplicateEvent } from './content-identity';

const submission = {
  grant_id: 'NSF-2026-00042',
  funder_portal: 'research.gov',
  submission_deadline: 1_800_000_000_000,
  metadata: { project_title: 'Water', requested_amount: 350000 },
  attachments: [
    { uri: 'file:///a.pdf', filename: 'a.pdf', size_bytes: 10, sha256: 'ab'.repeat(32) },
  ],
  audit_timestamp: 1_790_000_000_000,
  program_code: null,
  applicant_ein: '12-3456789',
};

describe('contentHashOf', () => {
  it('ignores only the transport-only fields and the order of properties', () => {
    expect(TRANSPORT_ONLY_FIELDS).toEqual(['audit_timestamp']);
    const hash = contentHashOf(submission);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHashOf({ ...submission, audit_timestamp: 1 })).toBe(hash);
    const reordered = {
      ...submission,
      metadata: { requested_amount: 350000, project_title: 'Water' },
    };
    expect(contentHashOf(reordered)).toBe(hash);
  });

  it.each([
    ['the deadline', { submission_deadline: 1_800_000_000_001 }],
    ['a metadata value', { metadata: { project_title: 'Water', requested_amount: 350001 } }],
    [
      'an attachment hash',
      { attachments: [{ ...submission.attachments[0], sha256: 'cd'.repeat(32) }] },
    ],
    ['an optional field', { program_code: 'NSF 24-583' }],
    ['the portal', { funder_portal: 'grants.gov' }],
  ])('changes with %s', (_what, change) => {
    expect(contentHashOf({ ...submission, ...change })).not.toBe(contentHashOf(submission));
  });
});

describe('isDuplicateEvent', () => {
  it('is told by details.duplicate_of_trail', () => {
    expect(isDuplicateEvent({ details: { duplicate_of_trail: 't1' } })).toBe(true);
    expect(isDuplicateEvent({ details: { resubmission_of_trail: 't1' } })).toBe(false);
  });
});
