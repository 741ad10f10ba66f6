import { describe, expect, it } from 'vitest';
import { INGEST_TOPIC_PATTERN } from '@grantstream/contracts';
import { exactTopicPattern, scenarioIngest } from './scenario-scope';

describe('scenarioIngest', () => {
  it("matches the scenario's own ingest topics and no other scenario's, nor the main job's", () => {
    const a = scenarioIngest('scope-a');
    const b = scenarioIngest('scope-a');
    const mine = new RegExp(a.pattern);
    expect(INGEST_TOPIC_PATTERN.test(a.topic('records'))).toBe(true);
    expect(mine.test(a.topic('records'))).toBe(true);
    expect(mine.test(a.topic('late'))).toBe(true);
    expect(mine.test(b.topic('records'))).toBe(false);
    expect(mine.test('grants.ingest.v1')).toBe(false);
    expect(mine.test(a.prefix)).toBe(false);
    expect(a.group).not.toBe(b.group);
    expect(a.env['GRANTSTREAM__INGEST__TOPICPATTERN']).toBe(a.pattern);
  });

  it('an exact pattern matches only the listed names, dots and dashes literal', () => {
    const re = new RegExp(exactTopicPattern(['grants.ingest.a-1', 'grants.ingest.b']));
    expect(re.test('grants.ingest.a-1')).toBe(true);
    expect(re.test('grants.ingest.b')).toBe(true);
    expect(re.test('grantsXingest.b')).toBe(false);
    expect(re.test('grants.ingest.b.more')).toBe(false);
  });
});
