import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** The workspace root. */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/**
 * Node arguments that run a TypeScript entry point in ONE process (tsx as a
 * loader, not the tsx binary, which would put a second process in between):
 * a signal sent to the child then reaches the program itself.
 */
function tsxArgs(entry: string, args: readonly string[]): string[] {
  return ['--import', 'tsx', resolve(WORKSPACE_ROOT, entry), ...args];
}

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
    // One process: the timeout's SIGKILL ends the command itself, not a wrapper around it.
    const child = spawn(process.execPath, tsxArgs(entry, args), {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

/** A TypeScript entry point running as a child process, with its stdout as JSON events. */
export interface TsProcess {
  child: ChildProcess;
  /** Every JSON line printed so far. */
  events: Record<string, unknown>[];
  /** Resolves with the first event (seen so far or later) that matches. */
  waitFor(
    predicate: (e: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  stderr(): string;
}

/** Starts an entry point in the background; stdout lines that parse as JSON become events. */
export function spawnTs(
  entry: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): TsProcess {
  const child = spawn(process.execPath, tsxArgs(entry, args), {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as Record<string, unknown>;
        events.push(e);
        for (const w of [...waiters]) {
          if (w.predicate(e)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e);
          }
        }
      } catch {
        /* not an event line */
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    events,
    exited,
    stderr: () => stderr,
    waitFor(predicate, timeoutMs) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching event within ${timeoutMs} ms; stderr:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolvePromise(e);
          },
        });
      });
    },
  };
}
