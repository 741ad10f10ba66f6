import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stackProcessMarker } from '@grantstream/config';

/** A process of ours found in the process table. */
export interface StackProcess {
  pid: number;
  args: string;
}

/**
 * The marker of a stack component's process (see stackProcessMarker).
 * Processes are found by this marker rather than by pid files: a pid file can
 * go stale or be deleted, the process table cannot lie about what is running.
 */
export function marker(stateDir: string, component: string): string {
  return stackProcessMarker(stateDir, component);
}

/** Every running process carrying the marker of `component` in `stateDir`. */
export function findProcesses(stateDir: string, component: string): StackProcess[] {
  const needle = marker(stateDir, component);
  const out = execFileSync('ps', ['-ww', '-eo', 'pid=,args='], { encoding: 'utf8' });
  const found: StackProcess[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    // Match the whole argument so `/x/stack` does not also match `/x/stack2`.
    if (m[2].split(/\s+/).includes(needle)) found.push({ pid: Number(m[1]), args: m[2] });
  }
  return found;
}

/** True while `pid` exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a detached background process whose stdout and stderr append to
 * `logFile`; `env` adds to this process's environment.
 */
export function spawnDetached(
  command: string,
  args: string[],
  cwd: string,
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Sends SIGTERM, waits up to `timeoutMs`, then SIGKILL. Resolves when the process is gone. */
export async function stopProcess(
  pid: number,
  timeoutMs: number,
): Promise<'terminated' | 'killed'> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'terminated';
    await sleep(200);
  }
  signal('SIGKILL');
  while (isAlive(pid)) await sleep(100);
  return 'killed';
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The last `n` lines of a log file, for error messages when a process dies. */
export function tail(file: string, n: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
}

/** The major version of the JDK whose `bin/java` is given, from its `release` file or its settings. */
export function javaMajorVersion(javaBin: string): number | null {
  const release = join(javaBin, '..', '..', 'release');
  if (existsSync(release)) {
    const m = /JAVA_VERSION="(\d+)/.exec(readFileSync(release, 'utf8'));
    if (m?.[1]) return Number(m[1]);
  }
  // -XshowSettings prints to stderr.
  const r = spawnSync(javaBin, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  const m = /java\.specification\.version = (\d+)/.exec(r.stderr ?? '');
  return m?.[1] ? Number(m[1]) : null;
}

/**
 * Finds a `java` of at least `minVersion`: JAVA_HOME, then the one on PATH,
 * then the newest JDK under `searchPaths`. Returns null when there is none.
 */
export function findJava(
  minVersion: number,
  searchPaths: readonly string[],
  env: NodeJS.ProcessEnv,
): string | null {
  const candidates: string[] = [];
  if (env['JAVA_HOME']) candidates.push(join(env['JAVA_HOME'], 'bin', 'java'));
  for (const p of (env['PATH'] ?? '').split(':')) if (p) candidates.push(join(p, 'java'));
  for (const root of searchPaths) {
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root)) candidates.push(join(root, d, 'bin', 'java'));
  }
  let best: { bin: string; version: number } | null = null;
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const version = javaMajorVersion(bin);
    if (version !== null && version >= minVersion && (!best || version > best.version))
      best = { bin, version };
  }
  return best?.bin ?? null;
}
