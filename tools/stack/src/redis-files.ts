import { delimiter, join } from 'node:path';
import type { GrantstreamConfig as StackConfig } from '@grantstream/config';

/**
 * Limiter state is short-lived and rebuilt by its clients, so Redis keeps
 * nothing on disk: no snapshot on shutdown, no append-only file. Shared with
 * docker-compose.yml, whose Redis must behave the same.
 */
export const REDIS_NO_PERSISTENCE = ['--save', '', '--appendonly', 'no'] as const;

/**
 * The oldest Redis the stack can run: `proc-title-template`, which carries the
 * process marker, arrived in 6.2.
 */
export const MIN_REDIS_VERSION = '6.2.0';

/**
 * Redis's process title with the stack's marker as one of its words, so the
 * process table names this stack's Redis as it names Kafka and the registry.
 * Braces are doubled because the template expands `{...}` variables.
 */
export function procTitleTemplate(marker: string): string {
  return `{title} {listen-addr} ${marker.replace(/\{/g, '{{').replace(/\}/g, '}}')}`;
}

/**
 * Command-line settings of the stack's redis-server: loopback only, no
 * persistence, its own folder, logs on stdout (which the stack appends to a
 * file), in the foreground so the process found by its marker is the server.
 */
export function redisServerArgs(config: StackConfig, dir: string, marker: string): string[] {
  return [
    '--bind',
    config.stack.host,
    '--port',
    String(config.stack.redis.port),
    ...REDIS_NO_PERSISTENCE,
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--proc-title-template',
    procTitleTemplate(marker),
  ];
}

/** The version in `redis-server --version` output (`Redis server v=7.0.15 sha=...`), or null. */
export function parseRedisVersion(output: string): string | null {
  return /\bv=(\d+\.\d+\.\d+)\b/.exec(output)?.[1] ?? null;
}

/** True when dotted version `v` is `min` or newer. */
export function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** The first `name` in the PATH of `env` that `isExecutable` accepts, or null. */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv,
  isExecutable: (file: string) => boolean,
): string | null {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

/**
 * What to tell a user whose machine cannot fetch Redis by itself: the failed
 * command, why it failed, and the two ways out (install it, or put any recent
 * redis-server on PATH).
 */
export function redisFetchFailure(packages: readonly string[], detail: string): string {
  return [
    `could not fetch Redis with \`apt-get download ${packages.join(' ')}\`: ${detail.trim()}`,
    'Install Redis so that redis-server is on PATH, for example:',
    '  sudo apt-get update && sudo apt-get install redis-server   (Debian, Ubuntu)',
    `or any other Redis ${MIN_REDIS_VERSION}+ build whose redis-server is on PATH, then run stack:up again.`,
  ].join('\n');
}
