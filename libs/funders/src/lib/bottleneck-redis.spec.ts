import { describe, expect, it } from 'vitest';
import { bottleneckSentinelOf } from './bottleneck-redis';

describe('bottleneckSentinelOf', () => {
  it('gives the bare sentinel whether or not Redis 7 prefixed it with ERR', () => {
    expect(bottleneckSentinelOf('ERR UNKNOWN_CLIENT')).toBe('UNKNOWN_CLIENT');
    expect(bottleneckSentinelOf('ERR SETTINGS_KEY_NOT_FOUND')).toBe('SETTINGS_KEY_NOT_FOUND');
    expect(bottleneckSentinelOf('UNKNOWN_CLIENT')).toBe('UNKNOWN_CLIENT');
  });

  it('leaves every other error alone', () => {
    expect(bottleneckSentinelOf('ERR unknown command')).toBeUndefined();
    expect(bottleneckSentinelOf('NOSCRIPT No matching script')).toBeUndefined();
    expect(bottleneckSentinelOf('ERR UNKNOWN_CLIENT_X')).toBeUndefined();
  });
});
