import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The workspace root. */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Outcome of a CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the workspace's TypeScript entry points (e.g. `tools/grantctl/src/main.ts`)
 * the way a user does, as a separate process, and collects its output.
 */
export function runTs(
  entry: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      resolve(WORKSPACE_ROOT, 'node_modules/.bin/tsx'),
      [resolve(WORKSPACE_ROOT, entry), ...args],
      {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = options.timeoutMs
      ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Entry points of the workspace's commands. */
export const ENTRY = {
  grantctl: 'tools/grantctl/src/main.ts',
  stack: 'tools/stack/src/cli.ts',
  mainJob: 'tools/stack/src/main-job.ts',
} as const;
