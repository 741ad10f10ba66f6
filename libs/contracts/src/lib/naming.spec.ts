import { describe, expect, it } from 'vitest';
import { funderIdOf, funderIdOrNull, funderPrefixOf, subjectFor } from './naming';

describe('funderIdOf', () => {
  it.each([
    ['NSF-2026-00042', 'NSF'],
    ['GATES-2026-0117', 'GATES'],
    ['CADOE-2026-00311', 'CADOE'],
    ['NIH-R01-2026-1', 'NIH'],
  ])('%s belongs to %s', (grantId, funder) => {
    expect(funderIdOf(grantId)).toBe(funder);
  });

  it.each(['NSF2026', '-2026-1', ''])('refuses %j, which has no funder prefix', (grantId) => {
    expect(() => funderIdOf(grantId)).toThrow(/no funder prefix/);
  });
});

describe('funderIdOrNull and funderPrefixOf', () => {
  it.each([
    ['NSF-2026-00042', 'NSF', 'NSF'],
    ['NSF_2026_1', null, 'NSF'],
    ['-2026-1', null, '(none)'],
    ['', null, '(none)'],
  ])('%j: funder id %j, counted under %j', (grantId, id, prefix) => {
    expect(funderIdOrNull(grantId)).toBe(id);
    expect(funderPrefixOf(grantId)).toBe(prefix);
  });
});

describe('subjectFor', () => {
  it('follows the TopicNameStrategy', () => {
    expect(subjectFor('grants.ingest.v1')).toBe('grants.ingest.v1-value');
  });
});
