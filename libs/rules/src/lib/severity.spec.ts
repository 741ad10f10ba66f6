import { describe, expect, it } from 'vitest';
import {
  type FieldRule,
  type FlagCode,
  type RulePack,
  type Severity,
  rulePackSchema,
} from './rule-pack';
import { decisionCategoryOf, severityOf } from './severity';

const pack: RulePack = rulePackSchema.parse({
  funder_id: 'TST',
  name: 'Test',
  kind: 'foundation',
  version: '1',
  time_zone: 'UTC',
  portal: 'p',
  deadline: { buffer_business_days: 1 },
  fields: {
    title: { type: 'text', from: ['title'], severity: { TRUNCATION_RISK: 'INFO' } },
    summary: { type: 'text', from: ['summary'] },
  },
  attachments: {
    allowed_media_types: ['application/pdf'],
    max_file_bytes: 1,
    max_package_bytes: 1,
    max_count: 1,
    max_filename_length: 1,
    filename_pattern: '.*',
  },
  severities: { TRUNCATION_RISK: 'WARNING', PORTAL_MISMATCH: 'INFO' },
});

describe('severityOf', () => {
  const title = pack.fields['title'];
  const summary = pack.fields['summary'];
  it.each<[string, FlagCode, FieldRule | undefined, Severity]>([
    ['field override wins over pack override', 'TRUNCATION_RISK', title, 'INFO'],
    ['pack override when the field has none', 'TRUNCATION_RISK', summary, 'WARNING'],
    ['pack override without a field', 'PORTAL_MISMATCH', undefined, 'INFO'],
    ['default when nobody overrides', 'MISSING_REQUIRED_FIELD', title, 'CRITICAL'],
    ['default warning', 'DEADLINE_AT_RISK', undefined, 'WARNING'],
  ])('%s', (_name, code, field, expected) => {
    expect(severityOf(pack, code, field)).toBe(expected);
  });
});

describe('decisionCategoryOf', () => {
  it.each([
    ['no flags', [], null],
    ['warnings only', [{ code: 'DEADLINE_AT_RISK', severity: 'WARNING' as const }], null],
    [
      'a critical rule',
      [{ code: 'TRUNCATION_RISK', severity: 'CRITICAL' as const }],
      'COMPLIANCE_BLOCK',
    ],
    [
      'an unknown funder',
      [
        { code: 'PORTAL_MISMATCH', severity: 'WARNING' as const },
        { code: 'UNKNOWN_FUNDER', severity: 'CRITICAL' as const },
      ],
      'UNKNOWN_FUNDER',
    ],
  ])('%s', (_, flags, expected) => {
    expect(decisionCategoryOf(flags)).toBe(expected);
  });
});
