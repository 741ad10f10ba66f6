import { describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { marker } from './processes';
import {
  findOnPath,
  parseRedisVersion,
  procTitleTemplate,
  redisFetchFailure,
  redisServerArgs,
  versionAtLeast,
} from './redis-files';

const config = loadGrantstreamConfig({ GRANTSTREAM__STACK__REDIS__PORT: '16390' });

/** `--name value` pairs of a redis-server command line. */
function settings(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) out.set(args[i] ?? '', args[i + 1] ?? '');
  return out;
}

describe('redisServerArgs', () => {
  const args = settings(redisServerArgs(config, '/state/redis', marker('/state', 'redis')));

  it('listens on loopback at the configured port, in the foreground, logging to stdout', () => {
    expect(args.get('--bind')).toBe('127.0.0.1');
    expect(args.get('--port')).toBe('16390');
    expect(args.get('--daemonize')).toBe('no');
    expect(args.get('--logfile')).toBe('');
    expect(args.get('--dir')).toBe('/state/redis');
  });

  it('keeps nothing on disk', () => {
    expect(args.get('--save')).toBe('');
    expect(args.get('--appendonly')).toBe('no');
  });

  it("puts the stack's marker into the process title as a word of its own", () => {
    const title = args.get('--proc-title-template') ?? '';
    expect(title.split(' ')).toContain('-Dgrantstream.stack=/state#redis');
    expect(title.startsWith('{title} ')).toBe(true);
  });
});

describe('procTitleTemplate', () => {
  it.each([
    ['-Dgrantstream.stack=/s#redis', '{title} {listen-addr} -Dgrantstream.stack=/s#redis'],
    [
      '-Dgrantstream.stack=/s/{x}#redis',
      '{title} {listen-addr} -Dgrantstream.stack=/s/{{x}}#redis',
    ],
  ])('escapes %s so Redis expands no variable of the marker', (m, expected) => {
    expect(procTitleTemplate(m)).toBe(expected);
  });
});

describe('parseRedisVersion', () => {
  it.each([
    ['Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=c4f3a2b9', '7.0.15'],
    ['Redis server v=6.2.14 sha=00000000:0 malloc=libc bits=64 build=1', '6.2.14'],
    ['redis-cli 7.0.15', null],
    ['', null],
  ])('reads %j as %j', (output, expected) => {
    expect(parseRedisVersion(output)).toBe(expected);
  });
});

describe('versionAtLeast', () => {
  it.each([
    ['7.0.15', '6.2.0', true],
    ['6.2.0', '6.2.0', true],
    ['6.1.9', '6.2.0', false],
    ['6.10.0', '6.9.0', true],
    ['5.0.14', '6.2.0', false],
  ])('%s >= %s is %s', (v, min, expected) => {
    expect(versionAtLeast(v, min)).toBe(expected);
  });
});

describe('findOnPath', () => {
  const present = new Set(['/opt/redis/bin/redis-server', '/usr/bin/redis-server']);
  const isExecutable = (f: string) => present.has(f);

  it.each([
    ['/usr/local/bin:/opt/redis/bin:/usr/bin', '/opt/redis/bin/redis-server'],
    ['/usr/bin:/opt/redis/bin', '/usr/bin/redis-server'],
    ['::/usr/bin', '/usr/bin/redis-server'],
    ['/usr/local/bin', null],
    [undefined, null],
  ])('with PATH=%s finds %s', (path, expected) => {
    expect(findOnPath('redis-server', { PATH: path }, isExecutable)).toBe(expected);
  });
});

describe('redisFetchFailure', () => {
  it('names the failed command, its reason, and what to install', () => {
    const text = redisFetchFailure(
      ['redis-server', 'liblzf1'],
      'E: Unable to locate package redis-server\n',
    );
    expect(text).toContain('apt-get download redis-server liblzf1');
    expect(text).toContain('E: Unable to locate package redis-server');
    expect(text).toContain('apt-get install redis-server');
    expect(text).toContain('redis-server is on PATH');
  });
});

describe('stack.redis configuration', () => {
  it('refuses a Redis port another stack component already uses', () => {
    expect(() =>
      loadGrantstreamConfig({ GRANTSTREAM__STACK__REDIS__PORT: String(config.stack.kafka.port) }),
    ).toThrow(ConfigError);
  });

  it.each([
    ['GRANTSTREAM__STACK__REDIS__VERSION', '7.0'],
    ['GRANTSTREAM__STACK__REDIS__PACKAGES', '[]'],
    ['GRANTSTREAM__STACK__REDIS__PACKAGES', '["redis-server; rm -rf /"]'],
    ['GRANTSTREAM__REDIS__PORT', '0'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadGrantstreamConfig({ [name]: value })).toThrow(ConfigError);
  });
});
