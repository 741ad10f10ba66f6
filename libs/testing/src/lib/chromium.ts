import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { GrantstreamConfig } from '@grantstream/config';
import { testConfig } from './environment';

/** Where Chromium lives and how to install it (`stack.chromium` of the configuration). */
export type ChromiumSettings = GrantstreamConfig['stack']['chromium'];

/**
 * Raised by {@link ensureChromium} when Chromium is missing and cannot be
 * installed here: not root, no apt-get, apt-get failed or timed out, or the
 * package installed without the expected executable. The message names the
 * command that would install it.
 */
export class ChromiumUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChromiumUnavailableError';
  }
}

/** What {@link ensureChromium} does to the machine; tests replace it. */
export interface ChromiumHost {
  isExecutable(path: string): boolean;
  isRoot(): boolean;
  /** The absolute path of a command on PATH, or null. */
  which(command: string): string | null;
  /** Runs a command to completion; rejects on a non-zero exit or when the timeout elapses. */
  run(command: string, args: readonly string[], timeoutMs: number): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The real machine: file modes, the effective uid, PATH, and child processes. */
export const localChromiumHost: ChromiumHost = {
  isExecutable,
  isRoot: () => process.getuid?.() === 0,
  which: (command) =>
    (process.env['PATH'] ?? '')
      .split(delimiter)
      .filter((dir) => dir !== '')
      .map((dir) => join(dir, command))
      .find(isExecutable) ?? null,
  run: (command, args, timeoutMs) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `${command} ${args.join(' ')} ${
                signal === null ? `exited ${code}` : `was killed (${signal}) after ${timeoutMs} ms`
              }\n${stderr}`,
            ),
          );
      });
    }),
};

/**
 * The path of a runnable Chromium, installing Debian's package first when it
 * is missing. Idempotent: where the executable already exists (a developer's
 * machine, a second call) nothing runs. A fresh CI machine runs as root and
 * gets `apt-get update` then `apt-get install -y --no-install-recommends
 * <package>`; both share `installTimeoutMs`, so a hung mirror fails the test
 * run instead of stalling it. A test tool's own browser download is not used:
 * it needs a network this project's machines do not have.
 * @throws ChromiumUnavailableError when it is missing and cannot be installed.
 */
export async function ensureChromium(
  settings: ChromiumSettings = testConfig().stack.chromium,
  host: ChromiumHost = localChromiumHost,
): Promise<string> {
  const { executablePath, package: pkg, installTimeoutMs } = settings;
  if (host.isExecutable(executablePath)) return executablePath;
  const install = `apt-get update && apt-get install -y --no-install-recommends ${pkg}`;
  const missing = `Chromium is not installed at ${executablePath}`;
  const aptGet = host.which('apt-get');
  if (aptGet === null) {
    throw new ChromiumUnavailableError(
      `${missing} and apt-get is not available here: install the ${pkg} package by other means (Debian: ${install})`,
    );
  }
  if (!host.isRoot()) {
    throw new ChromiumUnavailableError(`${missing}; run as root: ${install}`);
  }
  const deadline = Date.now() + installTimeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  try {
    await host.run(aptGet, ['update'], left());
    await host.run(aptGet, ['install', '-y', '--no-install-recommends', pkg], left());
  } catch (cause) {
    throw new ChromiumUnavailableError(`${missing} and \`${install}\` failed`, { cause });
  }
  if (!host.isExecutable(executablePath)) {
    throw new ChromiumUnavailableError(
      `\`${install}\` succeeded but ${executablePath} is still missing: set stack.chromium.executablePath`,
    );
  }
  return executablePath;
}
