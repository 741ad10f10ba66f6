import { describe, expect, it } from 'vitest';
import type { MetadataValue, ValidatedGrantV3, VerifiedAttachmentV1 } from '@grantstream/contracts';
import { type RulePack, rulePackSchema } from '@grantstream/rules';
import { normalizeGrant } from './normalize';

const pack: RulePack = rulePackSchema.parse({
  funder_id: 'TST',
  name: 'Test Funder',
  kind: 'federal',
  version: '2026.1.0',
  time_zone: 'America/New_York',
  portal: 'test-portal',
  deadline: { buffer_business_days: 2 },
  fields: {
    title: { type: 'text', from: ['project_title', 'title'], required: true },
    requested_amount: { type: 'amount', from: ['requested_amount', 'amount'] },
    start_date: { type: 'date', from: ['project_start_date', 'start_date'] },
    applicant_ein: { type: 'ein', from: ['applicant_ein', 'ein'] },
    applicant_uei: { type: 'uei', from: ['uei'] },
    pi_email: { type: 'email', from: ['pi_email', 'email'] },
    duration_months: { type: 'integer', from: ['duration_months'] },
    program_code: { type: 'code', from: ['program_code', 'solicitation'] },
    keywords: { type: 'list', from: ['keywords'] },
  },
  attachments: {
    allowed_media_types: ['application/pdf'],
    max_file_bytes: 100,
    max_package_bytes: 100,
    max_count: 5,
    max_filename_length: 50,
    filename_pattern: '.+',
  },
});

const attachment: VerifiedAttachmentV1 = {
  uri: 'file:///data/a.pdf',
  filename: 'a.pdf',
  media_type: 'application/pdf',
  declared_media_type: 'application/pdf',
  size_bytes: 10,
  sha256: 'a'.repeat(64),
};

function grant(
  metadata: Record<string, MetadataValue>,
  top: { program_code?: string | null; applicant_ein?: string | null; funder_portal?: string } = {},
): ValidatedGrantV3 {
  return {
    grant_id: 'TST-2026-00001',
    funder_id: 'TST',
    audit_trail_id: 'trail-1',
    content_hash: 'c'.repeat(64),
    submission: {
      grant_id: 'TST-2026-00001',
      funder_portal: top.funder_portal ?? 'test-portal',
      submission_deadline: 1_800_000_000_000,
      metadata,
      attachments: [],
      audit_timestamp: 1,
      program_code: top.program_code ?? null,
      applicant_ein: top.applicant_ein ?? null,
    },
    verified_attachments: [attachment],
    source_topic: 'grants.ingest.v1',
    validated_at: 2,
  };
}

const ctx = { normalizerVersion: '1.4.0', now: 1_700_000_000_000 };

describe('normalizeGrant', () => {
  it('produces the record around the fields', () => {
    const out = normalizeGrant(
      grant({ title: 'T' }, { funder_portal: ' test-portal ' }),
      pack,
      ctx,
    );
    expect(out).toEqual({
      grant_id: 'TST-2026-00001',
      funder_id: 'TST',
      funder_portal: 'test-portal',
      submission_deadline: 1_800_000_000_000,
      audit_trail_id: 'trail-1',
      content_hash: 'c'.repeat(64),
      normalized_fields: { title: 'T' },
      field_changes: [],
      attachments: [attachment],
      normalizer_version: '1.4.0+2026.1.0',
      normalized_at: 1_700_000_000_000,
    });
  });

  it.each<[string, Record<string, MetadataValue>, Record<string, string>, string[]]>([
    [
      'text',
      { title: '  A  study ' },
      { title: 'A study' },
      ['TRIMMED_WHITESPACE', 'COLLAPSED_WHITESPACE'],
    ],
    [
      'amount',
      { requested_amount: '$1,250.50' },
      { requested_amount: '125050' },
      ['CURRENCY_TO_CENTS'],
    ],
    ['date', { start_date: '3/1/2026' }, { start_date: '2026-03-01' }, ['DATE_TO_ISO8601']],
    ['ein', { applicant_ein: '123456789' }, { applicant_ein: '12-3456789' }, ['EIN_FORMATTED']],
    [
      'uei',
      { uei: 'abcdef123456' },
      { applicant_uei: 'ABCDEF123456' },
      ['MAPPED_FROM_SOURCE', 'UEI_UPPERCASED'],
    ],
    [
      'email',
      { pi_email: 'Pi@Univ.EDU' },
      { pi_email: 'Pi@univ.edu' },
      ['EMAIL_DOMAIN_LOWERCASED'],
    ],
    ['integer', { duration_months: 36 }, { duration_months: '36' }, ['NUMBER_TO_TEXT']],
    ['code', { program_code: 'nsf 24-583' }, { program_code: 'NSF 24-583' }, ['CODE_UPPERCASED']],
    ['list', { keywords: ['coast', 'flood'] }, { keywords: 'coast; flood' }, ['LIST_JOINED']],
    [
      'unparseable',
      { duration_months: '12 months' },
      { duration_months: '12 months' },
      ['NOT_PARSEABLE'],
    ],
    ['NFC', { title: 'Cafe\u0301' }, { title: 'Caf\u00e9' }, ['UNICODE_NFC']],
    ['null', { title: null }, {}, ['DROPPED_NULL']],
  ])('normalizes a %s field', (_name, metadata, fields, reasons) => {
    const out = normalizeGrant(grant(metadata), pack, ctx);
    expect(out.normalized_fields).toEqual(fields);
    expect(out.field_changes.map((c) => c.reason)).toEqual(reasons);
  });

  describe('sources', () => {
    it('takes the first present source in from order and maps its key', () => {
      const out = normalizeGrant(grant({ title: 'Second', 'Project Title': 'First' }), pack, ctx);
      expect(out.normalized_fields['title']).toBe('First');
      expect(out.normalized_fields['extra_title']).toBe('Second');
      expect(out.field_changes).toEqual([
        { field: 'title', before: 'Project Title', after: 'title', reason: 'MAPPED_FROM_SOURCE' },
        {
          field: 'extra_title',
          before: 'title',
          after: 'extra_title',
          reason: 'MAPPED_FROM_SOURCE',
        },
      ]);
    });

    it.each([['projectTitle'], ['project-title'], ['PROJECT_TITLE'], [' Project Title ']])(
      'matches %j to project_title',
      (key) => {
        expect(normalizeGrant(grant({ [key]: 'X' }), pack, ctx).normalized_fields).toEqual({
          title: 'X',
        });
      },
    );

    it('skips null sources for later ones', () => {
      const out = normalizeGrant(grant({ project_title: null, title: 'Real' }), pack, ctx);
      expect(out.normalized_fields).toEqual({ title: 'Real' });
      expect(out.field_changes).toEqual([
        { field: 'project_title', before: 'project_title', after: null, reason: 'DROPPED_NULL' },
      ]);
    });

    it('prefers a later non-blank source over a blank one, and keeps the blank', () => {
      const out = normalizeGrant(grant({ project_title: '  ', title: 'Real' }), pack, ctx);
      expect(out.normalized_fields).toEqual({ title: 'Real', project_title: '  ' });
    });

    it('uses a blank source when nothing better exists', () => {
      const out = normalizeGrant(grant({ title: '   ' }), pack, ctx);
      expect(out.normalized_fields).toEqual({ title: '' });
      expect(out.field_changes.map((c) => c.reason)).toEqual(['TRIMMED_WHITESPACE']);
    });

    it('reads the v2 top-level program_code and applicant_ein', () => {
      const out = normalizeGrant(
        grant({}, { program_code: 'nsf 24-583', applicant_ein: '98-7654321' }),
        pack,
        ctx,
      );
      expect(out.normalized_fields).toEqual({
        applicant_ein: '98-7654321',
        program_code: 'NSF 24-583',
      });
    });

    it('lets the top-level field win over the metadata key and carries the loser', () => {
      const out = normalizeGrant(
        grant(
          { program_code: 'NSF 11-111', ein: '11-1111111' },
          { program_code: 'NSF 24-583', applicant_ein: '222222222' },
        ),
        pack,
        ctx,
      );
      expect(out.normalized_fields).toEqual({
        applicant_ein: '22-2222222',
        program_code: 'NSF 24-583',
        extra_program_code: 'NSF 11-111',
        ein: '11-1111111',
      });
    });

    it('omits a missing field without a change', () => {
      const out = normalizeGrant(grant({}), pack, ctx);
      expect(out.normalized_fields).toEqual({});
      expect(out.field_changes).toEqual([]);
    });
  });

  describe('carried keys', () => {
    it('carries unconsumed metadata as text under its canonical key', () => {
      const out = normalizeGrant(
        grant({
          title: 'T',
          'Co PI': ['A', 'B'],
          is_renewal: false,
          budget_year: 3,
          note: ' as is ',
        }),
        pack,
        ctx,
      );
      expect(out.normalized_fields).toEqual({
        title: 'T',
        co_pi: 'A; B',
        is_renewal: 'false',
        budget_year: '3',
        note: ' as is ',
      });
      expect(out.field_changes).toEqual([
        { field: 'co_pi', before: 'Co PI', after: 'co_pi', reason: 'MAPPED_FROM_SOURCE' },
      ]);
    });

    it('never overwrites a pack field, even an absent one, or an earlier carried key', () => {
      const out = normalizeGrant(
        grant({
          solicitation: 'NSF 24-583',
          Keywords: 'x',
          'extra keywords': 'y',
          'Extra-Keywords': 'z',
        }),
        pack,
        ctx,
      );
      expect(out.normalized_fields).toMatchObject({
        program_code: 'NSF 24-583',
        keywords: 'x',
        extra_keywords: 'y',
        extra_extra_keywords: 'z',
      });
    });

    it('renames a carried key that collides with a pack field name', () => {
      const out = normalizeGrant(grant({ pi_email: 'a@b.org', 'PI Email': 'c@d.org' }), pack, ctx);
      expect(out.normalized_fields).toEqual({ pi_email: 'a@b.org', extra_pi_email: 'c@d.org' });
    });

    it('records each null entry as dropped', () => {
      const out = normalizeGrant(grant({ 'Fax Number': null }), pack, ctx);
      expect(out.normalized_fields).toEqual({});
      expect(out.field_changes).toEqual([
        { field: 'fax_number', before: 'Fax Number', after: null, reason: 'DROPPED_NULL' },
      ]);
    });
  });

  describe('unknown funder', () => {
    it('carries every entry as text and versions the output with "none"', () => {
      const out = normalizeGrant(
        grant({ 'Project Title': ' T ', amount: 5, gone: null }, { program_code: 'X 1' }),
        undefined,
        ctx,
      );
      expect(out.normalized_fields).toEqual({
        program_code: 'X 1',
        project_title: ' T ',
        amount: '5',
      });
      expect(out.field_changes.map((c) => c.reason)).toEqual([
        'MAPPED_FROM_SOURCE',
        'DROPPED_NULL',
      ]);
      expect(out.normalizer_version).toBe('1.4.0+none');
    });
  });

  it('records changes in the order applied, pack fields first', () => {
    const out = normalizeGrant(
      grant({ other: 'o', Amount: ' 10 ', 'Project Title': 'T' }),
      pack,
      ctx,
    );
    expect(out.field_changes).toEqual([
      { field: 'title', before: 'Project Title', after: 'title', reason: 'MAPPED_FROM_SOURCE' },
      {
        field: 'requested_amount',
        before: 'Amount',
        after: 'requested_amount',
        reason: 'MAPPED_FROM_SOURCE',
      },
      { field: 'requested_amount', before: ' 10 ', after: '10', reason: 'TRIMMED_WHITESPACE' },
      { field: 'requested_amount', before: '10', after: '1000', reason: 'CURRENCY_TO_CENTS' },
    ]);
  });
});
