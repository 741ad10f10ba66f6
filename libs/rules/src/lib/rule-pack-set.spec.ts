import { describe, expect, it } from 'vitest';
import { ConfigError } from '@grantstream/errors';
import type { RulePack } from './rule-pack';
import { RulePackSet } from './rule-pack-set';

const pack = (funder_id: string, version = '1') => ({ funder_id, version }) as RulePack;

describe('RulePackSet', () => {
  it('looks packs up by funder id and lists the ids in order', () => {
    const set = RulePackSet.of([pack('NSF'), pack('BCF', '2')]);
    expect(set.funderIds).toEqual(['NSF', 'BCF']);
    expect(set.get('BCF')?.version).toBe('2');
    expect(set.get('nsf')).toBeUndefined();
    expect(set.get('XYZ')).toBeUndefined();
  });

  it('refuses two packs for one funder', () => {
    expect(() => RulePackSet.of([pack('NSF'), pack('NSF', '2')])).toThrow(ConfigError);
  });

  it('is immutable', () => {
    const set = RulePackSet.of([pack('NSF')]);
    expect(Object.isFrozen(set.funderIds)).toBe(true);
  });

  it('may be empty', () => {
    expect(RulePackSet.of([]).funderIds).toEqual([]);
  });
});
