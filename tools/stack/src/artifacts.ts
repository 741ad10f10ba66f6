import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { StackStartError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import type { GrantstreamConfig as StackConfig } from '@grantstream/config';
import {
  MIN_REDIS_VERSION,
  findOnPath,
  parseRedisVersion,
  redisFetchFailure,
  versionAtLeast,
} from './redis-files';

const POM = resolve(__dirname, '../kafka-runtime.pom.xml');
const COMPLETE = '.complete';

function mvn(args: string[], what: string): void {
  try {
    execFileSync('mvn', ['-B', '-q', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new StackStartError(
      `Maven could not fetch ${what}: mvn ${args.join(' ')}\n${(e.stdout ?? '') + (e.stderr ?? '') || e.message}`,
      { cause: err },
    );
  }
}

/**
 * Fills `dir` once: the work happens in a sibling temp folder that is renamed
 * into place, so an interrupted download never leaves a half-filled cache
 * that a later start would trust.
 */
export function fillOnce(
  dir: string,
  log: GrantLogger,
  what: string,
  fill: (tmp: string) => void,
): string {
  if (existsSync(join(dir, COMPLETE))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${randomUUID()}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log.info(
    { dir },
    `downloading ${what} (first start on this machine; later starts reuse the cache)`,
  );
  const started = Date.now();
  try {
    fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  writeFileSync(join(tmp, COMPLETE), new Date().toISOString());
  // Another start may have filled the same folder meanwhile (the single-node
  // stack and the cluster start side by side on a new machine) and may be
  // running from it: the first complete copy stays, later ones are dropped.
  if (existsSync(join(dir, COMPLETE))) {
    rmSync(tmp, { recursive: true, force: true });
    return dir;
  }
  // A half-filled folder from a crash is replaced; renaming onto a folder
  // that another start has just completed fails, and then that one stays.
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(dir, COMPLETE))) return dir;
    throw err;
  }
  log.info({ dir, ms: Date.now() - started }, `${what} cached`);
  return dir;
}

/** Folder of Kafka runtime jars for the configured version, resolved by Maven from Maven Central. */
export function ensureKafkaJars(config: StackConfig, log: GrantLogger): string {
  const { version } = config.stack.kafka;
  const dir = join(config.stack.cacheDir, `kafka-${version}`);
  return join(
    fillOnce(dir, log, `Apache Kafka ${version}`, (tmp) =>
      mvn(
        [
          '-f',
          POM,
          `-Dkafka.version=${version}`,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          `-DoutputDirectory=${join(tmp, 'libs')}`,
        ],
        `org.apache.kafka:kafka_2.13:${version}`,
      ),
    ),
    'libs',
  );
}

/** Folder holding the unpacked Apicurio Registry (its `quarkus-run.jar`). */
export function ensureRegistry(config: StackConfig, log: GrantLogger): string {
  const { groupId, artifactId, version } = config.stack.registry;
  const coords = `${groupId}:${artifactId}:${version}:tar.gz:all`;
  const dir = join(config.stack.cacheDir, `${artifactId}-${version}`);
  fillOnce(dir, log, `Apicurio Registry ${version}`, (tmp) => {
    mvn(['dependency:copy', `-Dartifact=${coords}`, `-DoutputDirectory=${tmp}`], coords);
    const archive = readdirSync(tmp).find((f) => f.endsWith('.tar.gz'));
    if (!archive) throw new StackStartError(`Maven fetched no archive for ${coords}`);
    execFileSync('tar', ['xzf', join(tmp, archive), '-C', tmp]);
    rmSync(join(tmp, archive));
  });
  // 3.x unpacks a Quarkus fast-jar; 2.6.x a *-runner.jar beside lib/.
  const runner = readdirSync(dir).find((f) => f === 'quarkus-run.jar' || f.endsWith('-runner.jar'));
  if (!runner) throw new StackStartError(`no runnable jar in ${dir}`);
  return join(dir, runner);
}

/** A runnable redis-server: its path, the environment it needs, and where it came from. */
export interface RedisServer {
  bin: string;
  /** Adds the unpacked libraries to the loader path; empty for a redis-server on PATH. */
  env: NodeJS.ProcessEnv;
  version: string;
  source: 'path' | 'cache';
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `redis-server --version` of `bin`, or a StackStartError naming what failed. */
function redisVersionOf(bin: string, env: NodeJS.ProcessEnv): string {
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new StackStartError(`${bin} --version failed: ${e.stderr || e.message}`, {
      cause: err,
    });
  }
  const version = parseRedisVersion(out);
  if (!version) throw new StackStartError(`${bin} --version printed no version: ${out.trim()}`);
  return version;
}

/**
 * Library folders of an unpacked Debian tree (`usr/lib/<multiarch>` and the
 * like), for LD_LIBRARY_PATH: Debian's redis-server links liblzf and jemalloc.
 */
function libraryPath(root: string): string {
  const dirs: string[] = [];
  for (const base of [join(root, 'usr', 'lib'), join(root, 'lib')]) {
    if (!existsSync(base)) continue;
    dirs.push(base);
    for (const d of readdirSync(base)) if (d.includes('-linux-')) dirs.push(join(base, d));
  }
  return dirs.join(delimiter);
}

function runFetchStep(command: string, args: string[], cwd: string, packages: string[]): void {
  try {
    execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string; message: string };
    const detail =
      e.code === 'ENOENT'
        ? `${command} is not available on this machine (not a Debian-based system?)`
        : `${command} ${args.join(' ')} failed:\n${(e.stderr ?? '') + (e.stdout ?? '') || e.message}`;
    throw new StackStartError(redisFetchFailure(packages, detail), { cause: err });
  }
}

/**
 * A redis-server for the stack: the one on PATH if there is one (any Redis
 * from ${MIN_REDIS_VERSION}), else Debian's packages fetched once with
 * `apt-get download` into `<cacheDir>/redis/<version>/` and unpacked there
 * with `dpkg -x` (no root, nothing installed). An unpacked download must be
 * the configured version, so the cache folder never lies about its contents.
 */
export function ensureRedis(
  config: StackConfig,
  log: GrantLogger,
  env: NodeJS.ProcessEnv = process.env,
): RedisServer {
  const onPath = findOnPath('redis-server', env, isExecutableFile);
  if (onPath) {
    const version = redisVersionOf(onPath, {});
    if (!versionAtLeast(version, MIN_REDIS_VERSION)) {
      throw new StackStartError(
        `${onPath} is Redis ${version}; the stack needs ${MIN_REDIS_VERSION}+ (remove it from PATH to use the packaged one)`,
      );
    }
    return { bin: onPath, env: {}, version, source: 'path' };
  }
  const { version, packages } = config.stack.redis;
  const dir = join(config.stack.cacheDir, 'redis', version);
  const serverIn = (root: string) => join(root, 'root', 'usr', 'bin', 'redis-server');
  fillOnce(dir, log, `Redis ${version} (Debian packages ${packages.join(', ')})`, (tmp) => {
    runFetchStep('apt-get', ['download', ...packages], tmp, packages);
    const debs = readdirSync(tmp).filter((f) => f.endsWith('.deb'));
    if (debs.length < packages.length) {
      throw new StackStartError(
        redisFetchFailure(packages, `apt-get download left only ${debs.join(', ') || 'nothing'}`),
      );
    }
    // dpkg -x keeps symlinks: Debian's redis-server is a link to redis-check-rdb.
    for (const deb of debs) runFetchStep('dpkg', ['-x', deb, 'root'], tmp, packages);
    for (const deb of debs) rmSync(join(tmp, deb));
    const bin = serverIn(tmp);
    if (!existsSync(bin)) {
      throw new StackStartError(`the packages ${packages.join(', ')} hold no usr/bin/redis-server`);
    }
    const got = redisVersionOf(bin, { LD_LIBRARY_PATH: libraryPath(join(tmp, 'root')) });
    if (got !== version) {
      throw new StackStartError(
        `apt-get fetched Redis ${got}, but stack.redis.version is ${version}: set it to ${got} ` +
          `(GRANTSTREAM__STACK__REDIS__VERSION=${got}) or put a redis-server on PATH`,
      );
    }
  });
  const inherited = env['LD_LIBRARY_PATH'];
  const libs = libraryPath(join(dir, 'root'));
  return {
    bin: serverIn(dir),
    env: { LD_LIBRARY_PATH: inherited ? `${libs}${delimiter}${inherited}` : libs },
    version,
    source: 'cache',
  };
}
