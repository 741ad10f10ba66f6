import { describe, expect, it } from 'vitest';
import type { NormalizedGrantV1, VerifiedAttachmentV1 } from '@grantstream/contracts';
import { type RulePack, rulePackSchema } from '@grantstream/rules';
import { routeGrant } from './route';

const PDF = 'application/pdf';

const packInput = {
  funder_id: 'TST',
  name: 'Test Funder',
  kind: 'state',
  version: '2026.2.0',
  time_zone: 'America/Los_Angeles',
  portal: 'tst-portal',
  deadline: { buffer_business_days: 2, holidays: ['2026-11-26', '2026-11-27'] },
  fields: {
    title: { type: 'text', from: ['title'], required: true, max_length: 10 },
    program_code: { type: 'code', from: ['program_code'], required: true, pattern: 'AB\\d{2}' },
    area: { type: 'code', from: ['area'], required: true, allowed: ['ARTS', 'HEALTH'] },
    amount: { type: 'amount', from: ['amount'], required: true, min: 100, max: 1000 },
    months: { type: 'integer', from: ['months'], required: true, min: 1, max: 12 },
    start: { type: 'date', from: ['start'], required: true },
    ein: { type: 'ein', from: ['ein'], required: true },
    uei: { type: 'uei', from: ['uei'], required: true },
    email: { type: 'email', from: ['email'], required: true },
    note: { type: 'text', from: ['note'], max_length: 5 },
  },
  attachments: {
    allowed_media_types: [PDF],
    max_file_bytes: 1000,
    max_package_bytes: 1500,
    max_count: 3,
    max_filename_length: 20,
    filename_pattern: '[A-Za-z0-9_\\-. ]+',
    required: [{ media_type: PDF, description: 'Narrative' }],
  },
};

const pack: RulePack = rulePackSchema.parse(packInput);
const withSeverities = (
  severities: Record<string, string>,
  fieldSeverity?: Record<string, string>,
) =>
  rulePackSchema.parse({
    ...packInput,
    severities,
    fields: {
      ...packInput.fields,
      title: { ...packInput.fields.title, ...(fieldSeverity ? { severity: fieldSeverity } : {}) },
    },
  });

// Wednesday 2026-11-18 10:00 in Los Angeles.
const NOW = Date.parse('2026-11-18T18:00:00Z');
const FAR = Date.parse('2026-12-15T01:00:00Z');

const pdf = (filename = 'narrative.pdf', size = 100, media = PDF): VerifiedAttachmentV1 => ({
  uri: `file:///data/${filename}`,
  filename,
  media_type: media,
  declared_media_type: null,
  size_bytes: size,
  sha256: 'a'.repeat(64),
});

const fields: Record<string, string> = {
  title: 'Arts Hub',
  program_code: 'AB12',
  area: 'ARTS',
  amount: '50000',
  months: '12',
  start: '2027-01-04',
  ein: '12-3456789',
  uei: 'ABCDEF123456',
  email: 'pi@univ.edu',
};

function grant(over: Partial<NormalizedGrantV1> = {}): NormalizedGrantV1 {
  return {
    grant_id: 'TST-2026-00001',
    funder_id: 'TST',
    funder_portal: 'tst-portal',
    submission_deadline: FAR,
    audit_trail_id: 'trail-1',
    normalized_fields: fields,
    field_changes: [],
    attachments: [pdf()],
    normalizer_version: '1.0.0+2026.2.0',
    normalized_at: NOW,
    ...over,
  };
}

const withFields = (changes: Record<string, string | undefined>) => {
  const f: Record<string, string> = { ...fields };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete f[k];
    else f[k] = v;
  }
  return grant({ normalized_fields: f });
};

const codes = (g: NormalizedGrantV1, p: RulePack | undefined = pack, now = NOW) =>
  routeGrant(g, p, { now }).flags.map((f) => [f.code, f.rule_id, f.severity, f.field]);

describe('routeGrant', () => {
  it('forwards a compliant grant with no flags and the pack version', () => {
    expect(routeGrant(grant(), pack, { now: NOW })).toEqual({
      decision: 'FORWARD',
      flags: [],
      rulePackVersion: '2026.2.0',
    });
  });

  it('rejects an unknown funder', () => {
    const outcome = routeGrant(grant({ funder_id: 'XYZ' }), undefined, { now: NOW });
    expect(outcome).toEqual({
      decision: 'REJECT',
      flags: [
        {
          rule_id: 'funder.known',
          code: 'UNKNOWN_FUNDER',
          severity: 'CRITICAL',
          field: null,
          message:
            'no rule pack is configured for funder XYZ; the grant cannot be checked or submitted',
        },
      ],
      rulePackVersion: 'none',
    });
  });

  describe('one row per flag code', () => {
    it.each<[string, NormalizedGrantV1, Array<[string, string, string, string | null]>]>([
      [
        'DEADLINE_PASSED at the deadline',
        grant({ submission_deadline: NOW }),
        [['DEADLINE_PASSED', 'deadline.passed', 'CRITICAL', null]],
      ],
      [
        'DEADLINE_PASSED after it',
        grant({ submission_deadline: NOW - 1 }),
        [['DEADLINE_PASSED', 'deadline.passed', 'CRITICAL', null]],
      ],
      [
        'DEADLINE_AT_RISK',
        grant({ submission_deadline: Date.parse('2026-11-19T20:00:00Z') }),
        [['DEADLINE_AT_RISK', 'deadline.buffer', 'WARNING', null]],
      ],
      [
        'PORTAL_MISMATCH',
        grant({ funder_portal: 'grants-gov' }),
        [['PORTAL_MISMATCH', 'portal.match', 'WARNING', null]],
      ],
      [
        'MISSING_REQUIRED_FIELD absent',
        withFields({ title: undefined }),
        [['MISSING_REQUIRED_FIELD', 'title.required', 'CRITICAL', 'title']],
      ],
      [
        'MISSING_REQUIRED_FIELD empty',
        withFields({ email: '' }),
        [['MISSING_REQUIRED_FIELD', 'email.required', 'CRITICAL', 'email']],
      ],
      [
        'TRUNCATION_RISK',
        withFields({ title: 'Arts Hub II' }),
        [['TRUNCATION_RISK', 'title.max_length', 'CRITICAL', 'title']],
      ],
      [
        'PATTERN_MISMATCH',
        withFields({ program_code: 'AB123' }),
        [['PATTERN_MISMATCH', 'program_code.pattern', 'CRITICAL', 'program_code']],
      ],
      [
        'VALUE_NOT_ALLOWED',
        withFields({ area: 'SPORTS' }),
        [['VALUE_NOT_ALLOWED', 'area.allowed', 'CRITICAL', 'area']],
      ],
      [
        'AMOUNT_OUT_OF_RANGE below',
        withFields({ amount: '9999' }),
        [['AMOUNT_OUT_OF_RANGE', 'amount.range', 'CRITICAL', 'amount']],
      ],
      [
        'AMOUNT_OUT_OF_RANGE above',
        withFields({ amount: '100001' }),
        [['AMOUNT_OUT_OF_RANGE', 'amount.range', 'CRITICAL', 'amount']],
      ],
      [
        'AMOUNT_OUT_OF_RANGE integer',
        withFields({ months: '13' }),
        [['AMOUNT_OUT_OF_RANGE', 'months.range', 'CRITICAL', 'months']],
      ],
      [
        'INVALID_FORMAT amount',
        withFields({ amount: '12.50' }),
        [['INVALID_FORMAT', 'amount.format', 'CRITICAL', 'amount']],
      ],
      [
        'INVALID_FORMAT date',
        withFields({ start: '2027-02-30' }),
        [['INVALID_FORMAT', 'start.format', 'CRITICAL', 'start']],
      ],
      [
        'INVALID_FORMAT ein',
        withFields({ ein: '123456789' }),
        [['INVALID_FORMAT', 'ein.format', 'CRITICAL', 'ein']],
      ],
      [
        'INVALID_FORMAT uei',
        withFields({ uei: 'abcdef123456' }),
        [['INVALID_FORMAT', 'uei.format', 'CRITICAL', 'uei']],
      ],
      [
        'INVALID_FORMAT email',
        withFields({ email: 'pi@localhost' }),
        [['INVALID_FORMAT', 'email.format', 'CRITICAL', 'email']],
      ],
      [
        'INVALID_FORMAT integer',
        withFields({ months: '12 months' }),
        [['INVALID_FORMAT', 'months.format', 'CRITICAL', 'months']],
      ],
      [
        'ATTACHMENT_TYPE_NOT_ALLOWED',
        grant({ attachments: [pdf(), pdf('logo.png', 10, 'image/png')] }),
        [
          [
            'ATTACHMENT_TYPE_NOT_ALLOWED',
            'attachments.attachment_type_not_allowed',
            'CRITICAL',
            null,
          ],
        ],
      ],
      [
        'ATTACHMENT_REQUIRED_MISSING',
        grant({ attachments: [] }),
        [
          [
            'ATTACHMENT_REQUIRED_MISSING',
            'attachments.attachment_required_missing',
            'CRITICAL',
            null,
          ],
        ],
      ],
      [
        'ATTACHMENT_TOO_LARGE',
        grant({ attachments: [pdf('big.pdf', 1001)] }),
        [['ATTACHMENT_TOO_LARGE', 'attachments.attachment_too_large', 'CRITICAL', null]],
      ],
      [
        'ATTACHMENT_PACKAGE_TOO_LARGE',
        grant({ attachments: [pdf('a.pdf', 800), pdf('b.pdf', 800)] }),
        [
          [
            'ATTACHMENT_PACKAGE_TOO_LARGE',
            'attachments.attachment_package_too_large',
            'CRITICAL',
            null,
          ],
        ],
      ],
      [
        'ATTACHMENT_COUNT_EXCEEDED',
        grant({
          attachments: [pdf('a.pdf', 1), pdf('b.pdf', 1), pdf('c.pdf', 1), pdf('d.pdf', 1)],
        }),
        [['ATTACHMENT_COUNT_EXCEEDED', 'attachments.attachment_count_exceeded', 'CRITICAL', null]],
      ],
      [
        'ATTACHMENT_FILENAME_INVALID',
        grant({ attachments: [pdf('narrative&budget.pdf')] }),
        [
          [
            'ATTACHMENT_FILENAME_INVALID',
            'attachments.attachment_filename_invalid',
            'CRITICAL',
            null,
          ],
        ],
      ],
    ])('%s', (_name, g, expected) => {
      expect(codes(g)).toEqual(expected);
    });
  });

  describe('field checks', () => {
    it.each<[string, Record<string, string | undefined>, string[]]>([
      ['an optional field may be absent', { note: undefined }, []],
      [
        'an optional field is still checked when present',
        { note: 'too long' },
        ['TRUNCATION_RISK'],
      ],
      ['whitespace only is empty', { title: '   ' }, ['MISSING_REQUIRED_FIELD']],
      ['amount at the minimum', { amount: '10000' }, []],
      ['amount at the maximum', { amount: '100000' }, []],
      ['integer below the minimum', { months: '0' }, ['AMOUNT_OUT_OF_RANGE']],
      [
        'an invalid value gets no further checks',
        { program_code: 'AB1', area: 'X Y', amount: '$5' },
        ['PATTERN_MISMATCH', 'VALUE_NOT_ALLOWED', 'INVALID_FORMAT'],
      ],
      ['a missing field gets no further checks', { program_code: '' }, ['MISSING_REQUIRED_FIELD']],
      ['several checks of one field all report', { title: 'x'.repeat(11) }, ['TRUNCATION_RISK']],
      [
        'fields report in pack order',
        { email: undefined, title: undefined, months: '99' },
        ['MISSING_REQUIRED_FIELD', 'AMOUNT_OUT_OF_RANGE', 'MISSING_REQUIRED_FIELD'],
      ],
      ['length counts code points', { title: '😀'.repeat(10) }, []],
    ])('%s', (_name, changes, expected) => {
      expect(routeGrant(withFields(changes), pack, { now: NOW }).flags.map((f) => f.code)).toEqual(
        expected,
      );
    });

    it('treats a value normalization could not parse as INVALID_FORMAT, even for text', () => {
      const g = grant({
        normalized_fields: { ...fields, title: 'true' },
        field_changes: [{ field: 'title', before: 'true', after: 'true', reason: 'NOT_PARSEABLE' }],
      });
      expect(codes(g)).toEqual([['INVALID_FORMAT', 'title.format', 'CRITICAL', 'title']]);
    });

    it('checks pattern and allowed values together on one field', () => {
      const p = rulePackSchema.parse({
        ...packInput,
        fields: {
          code: { type: 'code', from: ['code'], pattern: '[A-Z]+', allowed: ['AB'], max_length: 2 },
        },
      });
      const g = grant({ normalized_fields: { code: 'AB12X' } });
      expect(routeGrant(g, p, { now: NOW }).flags.map((f) => f.code)).toEqual([
        'TRUNCATION_RISK',
        'PATTERN_MISMATCH',
        'VALUE_NOT_ALLOWED',
      ]);
    });
  });

  describe('severity overrides', () => {
    it.each<[string, RulePack, NormalizedGrantV1, string, 'FORWARD' | 'REJECT']>([
      [
        'pack raises DEADLINE_AT_RISK to CRITICAL',
        withSeverities({ DEADLINE_AT_RISK: 'CRITICAL' }),
        grant({ submission_deadline: Date.parse('2026-11-19T20:00:00Z') }),
        'CRITICAL',
        'REJECT',
      ],
      [
        'pack lowers PORTAL_MISMATCH to INFO',
        withSeverities({ PORTAL_MISMATCH: 'INFO' }),
        grant({ funder_portal: 'x' }),
        'INFO',
        'FORWARD',
      ],
      [
        'pack lowers TRUNCATION_RISK to WARNING',
        withSeverities({ TRUNCATION_RISK: 'WARNING' }),
        withFields({ title: 'x'.repeat(11) }),
        'WARNING',
        'FORWARD',
      ],
      [
        'field override beats the pack override',
        withSeverities({ TRUNCATION_RISK: 'WARNING' }, { TRUNCATION_RISK: 'CRITICAL' }),
        withFields({ title: 'x'.repeat(11) }),
        'CRITICAL',
        'REJECT',
      ],
      [
        'field override alone',
        withSeverities({}, { TRUNCATION_RISK: 'INFO' }),
        withFields({ title: 'x'.repeat(11) }),
        'INFO',
        'FORWARD',
      ],
      [
        'field override does not leak to other fields',
        withSeverities({}, { TRUNCATION_RISK: 'INFO' }),
        withFields({ note: 'xxxxxx' }),
        'CRITICAL',
        'REJECT',
      ],
    ])('%s', (_name, p, g, severity, decision) => {
      const outcome = routeGrant(g, p, { now: NOW });
      expect(outcome.flags.map((f) => f.severity)).toEqual([severity]);
      expect(outcome.decision).toBe(decision);
    });
  });

  it('forwards with only WARNING and INFO flags, and keeps them', () => {
    const p = withSeverities({ PORTAL_MISMATCH: 'INFO' });
    const outcome = routeGrant(
      grant({ funder_portal: 'other', submission_deadline: Date.parse('2026-11-19T20:00:00Z') }),
      p,
      { now: NOW },
    );
    expect(outcome.decision).toBe('FORWARD');
    expect(outcome.flags.map((f) => [f.code, f.severity])).toEqual([
      ['DEADLINE_AT_RISK', 'WARNING'],
      ['PORTAL_MISMATCH', 'INFO'],
    ]);
  });

  it('reports every finding in rule order: deadline, portal, fields, attachments', () => {
    const outcome = routeGrant(
      grant({
        funder_portal: 'other',
        submission_deadline: NOW - 1,
        normalized_fields: withFields({ title: undefined, amount: '1' }).normalized_fields,
        attachments: [pdf('x.png', 1, 'image/png')],
      }),
      pack,
      { now: NOW },
    );
    expect(outcome.flags.map((f) => f.code)).toEqual([
      'DEADLINE_PASSED',
      'PORTAL_MISMATCH',
      'MISSING_REQUIRED_FIELD',
      'AMOUNT_OUT_OF_RANGE',
      'ATTACHMENT_TYPE_NOT_ALLOWED',
      'ATTACHMENT_REQUIRED_MISSING',
    ]);
    expect(outcome.decision).toBe('REJECT');
  });

  describe('business days before the deadline (buffer 2, Los Angeles, Thanksgiving Thu+Fri)', () => {
    const at = (iso: string) => Date.parse(iso);
    it.each<[string, string, string, boolean]>([
      ['Wed 10:00 -> Fri 17:00 is 2 days', '2026-11-18T18:00:00Z', '2026-11-21T01:00:00Z', false],
      ['Wed 10:00 -> Thu 17:00 is 1 day', '2026-11-18T18:00:00Z', '2026-11-20T01:00:00Z', true],
      [
        'Fri 10:00 -> Mon 17:00 is 1 day over the weekend',
        '2026-11-20T18:00:00Z',
        '2026-11-24T01:00:00Z',
        true,
      ],
      ['Fri 10:00 -> Tue 17:00 is 2 days', '2026-11-20T18:00:00Z', '2026-11-25T01:00:00Z', false],
      ['Sat 10:00 -> Tue 17:00 is 2 days', '2026-11-21T18:00:00Z', '2026-11-25T01:00:00Z', false],
      [
        'Tue 10:00 -> Fri 27 (holidays) is 1 day',
        '2026-11-24T18:00:00Z',
        '2026-11-28T01:00:00Z',
        true,
      ],
      [
        'Tue 10:00 -> Mon 30 is 2 days over the holidays',
        '2026-11-24T18:00:00Z',
        '2026-12-01T01:00:00Z',
        false,
      ],
      [
        // Thu 23:59 in Los Angeles is Fri 07:59 UTC: counted by UTC dates it would be 2 days.
        'Wed 10:00 -> Thu 23:59 Los Angeles is 1 day though the UTC date is Friday',
        '2026-11-18T18:00:00Z',
        '2026-11-20T07:59:00Z',
        true,
      ],
      [
        // Wed 23:30 in Los Angeles is Thu 07:30 UTC: counted by UTC dates it would be 1 day.
        'Wed 23:30 -> Fri 17:00 Los Angeles is 2 days though the UTC date is Thursday',
        '2026-11-19T07:30:00Z',
        '2026-11-21T01:00:00Z',
        false,
      ],
    ])('%s', (_name, now, deadline, atRisk) => {
      const flags = routeGrant(grant({ submission_deadline: at(deadline) }), pack, {
        now: at(now),
      }).flags;
      expect(flags.map((f) => f.code)).toEqual(atRisk ? ['DEADLINE_AT_RISK'] : []);
    });
  });

  describe('messages', () => {
    const messageOf = (g: NormalizedGrantV1, now = NOW) =>
      routeGrant(g, pack, { now }).flags[0]?.message;

    it.each<[string, NormalizedGrantV1, string]>([
      [
        'deadline at risk, in the funder’s local time',
        grant({ submission_deadline: Date.parse('2026-11-20T07:59:00Z') }),
        'the deadline 2026-11-19 23:59 PST (America/Los_Angeles) is 1 business day away; TST needs at least 2 business days for review and submission',
      ],
      [
        'deadline passed',
        grant({ submission_deadline: Date.parse('2026-11-18T01:00:00Z') }),
        'the deadline 2026-11-17 17:00 PST (America/Los_Angeles) has passed',
      ],
      [
        'portal',
        grant({ funder_portal: 'grants-gov' }),
        "the grant names portal 'grants-gov'; TST submits through 'tst-portal'",
      ],
      [
        'truncation',
        withFields({ title: 'x'.repeat(12) }),
        'title is 12 characters; TST keeps 10 — the portal would truncate it',
      ],
      [
        'missing',
        withFields({ title: undefined }),
        'title is required by TST but missing (read from title)',
      ],
      [
        'range in dollars',
        withFields({ amount: '100050' }),
        "amount $1,000.50 is above TST's maximum of $1,000.00",
      ],
      ['range of an integer', withFields({ months: '0' }), "months 0 is below TST's minimum of 1"],
      ['format', withFields({ ein: '123' }), "ein '123' is not an EIN (NN-NNNNNNN)"],
      [
        'allowed',
        withFields({ area: 'SPORTS' }),
        "area 'SPORTS' is not one of the values TST accepts: ARTS, HEALTH",
      ],
      [
        'pattern',
        withFields({ program_code: 'AB1' }),
        "program_code 'AB1' does not have the form TST requires (AB\\d{2})",
      ],
      [
        'attachment with its index',
        grant({ attachments: [pdf(), pdf('big.pdf', 2000)] }),
        "attachments[1]: 'big.pdf' is 2,000 bytes; the funder allows at most 1,000 bytes per file",
      ],
      [
        'a duplicate names both attachments once',
        grant({ attachments: [pdf(), pdf('Narrative.PDF')] }),
        "filename 'Narrative.PDF' of attachments[1] repeats the filename of attachments[0]; the funder requires unique filenames (ignoring case)",
      ],
    ])('%s', (_name, g, message) => {
      expect(messageOf(g)).toBe(message);
    });
  });
});
