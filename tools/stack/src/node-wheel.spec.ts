import { describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { NODE_WHEEL_PACKAGE, nodeVersionProblem, pipDownloadArgs } from './node-wheel';

describe('pipDownloadArgs', () => {
  it('asks pip for exactly that wheel, for this platform, without dependencies or a build', () => {
    const args = pipDownloadArgs('24.19.0', '/cache/node-24.19.0.tmp-1');
    expect(args.slice(0, 3)).toEqual(['-m', 'pip', 'download']);
    expect(args).toContain(`${NODE_WHEEL_PACKAGE}==24.19.0`);
    expect(args).toContain('--no-deps');
    expect(args).toContain('--only-binary=:all:');
    expect(args.slice(-2)).toEqual(['--dest', '/cache/node-24.19.0.tmp-1']);
  });
});

describe('nodeVersionProblem', () => {
  it.each([
    ['v24.19.0\n', '24.19.0', null],
    ['v24.19.1\n', '24.19.0', 'reports v24.19.1, expected v24.19.0'],
    ['v20.20.2\n', '24.19.0', 'reports v20.20.2, expected v24.19.0'],
    ['', '24.19.0', 'printed no version (expected v24.19.0)'],
  ])('%j for %s: %s', (printed, version, problem) => {
    expect(nodeVersionProblem(printed, version)).toBe(problem);
  });
});

describe('stack.node24 in the configuration', () => {
  it('names a Node 24 release by default', () => {
    expect(loadGrantstreamConfig({}).stack.node24.version).toMatch(/^24\.\d+\.\d+$/);
  });

  it('refuses a version of another Node line', () => {
    const load = () => loadGrantstreamConfig({ GRANTSTREAM__STACK__NODE24__VERSION: '22.20.0' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/stack\.node24\.version/);
  });
});
