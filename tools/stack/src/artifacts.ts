import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StackStartError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import type { GrantstreamConfig as StackConfig } from '@grantstream/config';

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
function fillOnce(
  dir: string,
  log: GrantLogger,
  what: string,
  fill: (tmp: string) => void,
): string {
  if (existsSync(join(dir, COMPLETE))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log.info(
    { dir },
    `downloading ${what} (first start on this machine; later starts reuse the cache)`,
  );
  const started = Date.now();
  fill(tmp);
  writeFileSync(join(tmp, COMPLETE), new Date().toISOString());
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
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
