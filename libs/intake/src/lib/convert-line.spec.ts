import { describe, expect, it } from 'vitest';
import { convertLine } from './convert-line';

const NOW = Date.parse('2026-12-01T15:00:00Z');
const ctx = { attachmentsBase: '/data/batch', now: NOW };

const line = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    grant_id: 'NSF-2026-00042',
    funder_portal: 'grants-gov',
    submission_deadline: '2027-01-15T17:00:00-05:00',
    metadata: { project_title: 'Coastal Marsh Carbon', requested_amount: 125000 },
    attachments: [
      { uri: 'attachments/NSF-2026-00042/pd.pdf', filename: 'Project_Description.pdf' },
    ],
    ...overrides,
  });

describe('convertLine', () => {
  it('turns the JSON form into a GrantSubmission v2 with defaults filled', () => {
    const result = convertLine(line(), ctx);
    expect(result).toEqual({
      ok: true,
      grantId: 'NSF-2026-00042',
      record: {
        grant_id: 'NSF-2026-00042',
        funder_portal: 'grants-gov',
        submission_deadline: Date.parse('2027-01-15T22:00:00Z'),
        metadata: { project_title: 'Coastal Marsh Carbon', requested_amount: 125000 },
        attachments: [
          {
            uri: 'file:///data/batch/attachments/NSF-2026-00042/pd.pdf',
            media_type: null,
            size_bytes: null,
            sha256: null,
            filename: 'Project_Description.pdf',
          },
        ],
        audit_timestamp: NOW,
        program_code: null,
        applicant_ein: null,
      },
    });
  });

  it('accepts epoch milliseconds and keeps given optional fields', () => {
    const result = convertLine(
      line({
        submission_deadline: 1_800_000_000_000,
        audit_timestamp: '2026-11-30T08:00:00Z',
        program_code: 'NSF 25-541',
        applicant_ein: '12-3456789',
      }),
      ctx,
    );
    expect(result.ok && result.record).toMatchObject({
      submission_deadline: 1_800_000_000_000,
      audit_timestamp: Date.parse('2026-11-30T08:00:00Z'),
      program_code: 'NSF 25-541',
      applicant_ein: '12-3456789',
    });
  });

  it('stamps an explicit null audit_timestamp with the run time, like a missing one', () => {
    const result = convertLine(line({ audit_timestamp: null }), ctx);
    expect(result.ok && result.record.audit_timestamp).toBe(NOW);
  });

  it.each([
    ['not JSON', '{"grant_id": "NSF-2026-1",', null, '(root)', /not valid JSON/],
    ['not an object', '[1, 2]', null, '(root)', /expected a JSON object/],
    ['null', 'null', null, '(root)', /expected a JSON object/],
    [
      'a deadline without an offset',
      line({ submission_deadline: '2027-01-15T17:00:00' }),
      'NSF-2026-00042',
      'submission_deadline',
      /UTC offset/,
    ],
    [
      'a fractional epoch',
      line({ audit_timestamp: 1.5 }),
      'NSF-2026-00042',
      'audit_timestamp',
      /epoch milliseconds/,
    ],
    [
      'a missing deadline',
      line({ submission_deadline: undefined }),
      'NSF-2026-00042',
      'submission_deadline',
      /^required/,
    ],
    [
      'a nested metadata object',
      line({ metadata: { budget: { total: 5 } } }),
      'NSF-2026-00042',
      'metadata.budget',
      /Invalid input/,
    ],
    [
      'a fractional size',
      line({ attachments: [{ uri: 'a.pdf', filename: 'a.pdf', size_bytes: 1.5 }] }),
      'NSF-2026-00042',
      'attachments[0].size_bytes',
      /expected int/,
    ],
    [
      'an attachment without filename',
      line({ attachments: [{ uri: 'a.pdf' }] }),
      'NSF-2026-00042',
      'attachments[0].filename',
      /expected string/,
    ],
    [
      'an attachment that is not an object',
      line({ attachments: ['a.pdf'] }),
      'NSF-2026-00042',
      'attachments[0]',
      /expected object/,
    ],
    ['an unknown field', line({ priority: 'high' }), 'NSF-2026-00042', '(root)', /priority/],
    ['a numeric grant id', line({ grant_id: 42 }), null, 'grant_id', /expected string/],
  ])('reports %s with its field', (_name, text, grantId, field, message) => {
    const result = convertLine(text, ctx);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.grantId).toBe(grantId);
    expect(result.problems.map((p) => p.field)).toContain(field);
    expect(result.problems.find((p) => p.field === field)?.message).toMatch(message);
  });

  it('reports every problem of a line, not only the first', () => {
    const result = convertLine(
      line({ submission_deadline: 'soon', funder_portal: 7, attachments: 'none' }),
      ctx,
    );
    expect(result.ok ? [] : result.problems.map((p) => p.field).sort()).toEqual([
      'attachments',
      'funder_portal',
      'submission_deadline',
    ]);
  });

  it('reports a refused timestamp once, not again as a schema problem', () => {
    const result = convertLine(line({ submission_deadline: 'soon' }), ctx);
    expect(result.ok ? [] : result.problems.map((p) => p.field)).toEqual(['submission_deadline']);
  });

  it.each([
    ['the grant id', { grant_id: 'NSF-2026-\ud800' }, 'grant_id'],
    ['a metadata value', { metadata: { project_title: 'Marsh \udc00' } }, 'metadata.project_title'],
    [
      'an attachment reference',
      { attachments: [{ uri: 'a\ud800.pdf', filename: 'a.pdf' }] },
      'attachments[0].uri',
    ],
    ['a program code', { program_code: '\udbff' }, 'program_code'],
  ])('refuses a lone surrogate in %s, naming the field', (_name, overrides, field) => {
    // JSON.stringify writes a lone surrogate as an escape, as JSON text carries it.
    const text = line(overrides);
    expect(text).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
    const result = convertLine(text, ctx);
    expect(result.ok ? [] : result.problems).toEqual([
      { field, message: expect.stringMatching(/lone UTF-16 surrogate/) as string },
    ]);
  });

  it('refuses a lone surrogate in a timestamp once, for the surrogate', () => {
    const result = convertLine(line({ submission_deadline: '2027-01-15T17:00:00Z\ud800' }), ctx);
    expect(result.ok ? [] : result.problems).toEqual([
      {
        field: 'submission_deadline',
        message: expect.stringMatching(/lone UTF-16 surrogate/) as string,
      },
    ]);
  });

  it('keeps a surrogate pair (a character outside the BMP) as it is', () => {
    const result = convertLine(line({ metadata: { project_title: 'Marsh \ud83c\udf31' } }), ctx);
    expect(result.ok && result.record.metadata['project_title']).toBe('Marsh \u{1f331}');
  });

  it('resolves attachment URIs against the base of the context', () => {
    const result = convertLine(line(), { ...ctx, attachmentsBase: '/mnt/other' });
    expect(result.ok && result.record.attachments[0]?.uri).toBe(
      'file:///mnt/other/attachments/NSF-2026-00042/pd.pdf',
    );
  });
});
