import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRulePacks } from './load-rule-packs';

const examples = join(__dirname, '../../../../examples/rule-packs');

describe('examples/rule-packs', () => {
  const set = loadRulePacks(examples);

  it('loads the three example funders', () => {
    expect([...set.funderIds].sort()).toEqual(['BCF', 'NSF', 'SCDA']);
  });

  it.each([
    ['NSF', '2026.11.0', 'America/New_York', 'grants-gov', 12],
    ['BCF', '2026.3.2', 'America/Chicago', 'bcf-portal', 8],
    ['SCDA', '2026.7.0', 'America/Los_Angeles', 'scda-egrants', 9],
  ])('%s: version %s, %s, portal %s, %i fields', (id, version, tz, portal, fieldCount) => {
    const pack = set.get(id);
    expect(pack?.version).toBe(version);
    expect(pack?.time_zone).toBe(tz);
    expect(pack?.portal).toBe(portal);
    expect(Object.keys(pack?.fields ?? {})).toHaveLength(fieldCount);
  });

  it('keeps Grants.gov filename rules for NSF', () => {
    const re = new RegExp(set.get('NSF')!.attachments.filename_pattern, 'u');
    expect(re.test('Project Description_v2-final.pdf')).toBe(true);
    expect(re.test('Projekt-Übersicht.pdf')).toBe(false);
    expect(re.test('a&b.pdf')).toBe(false);
  });

  it('carries the funders’ severity overrides', () => {
    expect(set.get('BCF')?.severities).toEqual({
      DEADLINE_AT_RISK: 'WARNING',
      PORTAL_MISMATCH: 'INFO',
      PDF_ACTIVE_CONTENT: 'WARNING',
    });
    expect(set.get('SCDA')?.severities).toEqual({ DEADLINE_AT_RISK: 'CRITICAL' });
  });
});
