import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT, spawnTs, type TsProcess } from '@grantstream/testing';

/** The console's server, started as its own process as an operator would. */
export const CONSOLE_ENTRY = 'services/console/src/main.ts';
/** The console's command that prints a users-file entry for a password read from stdin. */
export const HASH_PASSWORD_ENTRY = 'services/console/src/hash-password.ts';
/** The console's tests listen in this range, apart from every other scenario's ports. */
export const CONSOLE_PORTS = { first: 47000, last: 47999 };
/** Where the screenshots of the console's scenarios are kept (dist/ is not committed). */
export const CONSOLE_SHOTS = join(WORKSPACE_ROOT, 'dist/test-output/console');
/** The browser's window in the console's scenarios. */
export const CONSOLE_VIEWPORT = { width: 1366, height: 900 };
/** A console compiles on start under tsx: on two busy cores that takes a while. */
const CONSOLE_START_MS = 120_000;

/** The screenshot directory, made if missing, so a scenario can write into it. */
export function consoleShotsDir(): string {
  mkdirSync(CONSOLE_SHOTS, { recursive: true });
  return CONSOLE_SHOTS;
}

/** A users-file entry made by the console's own hash-password command, the password on stdin. */
export function hashedUser(
  username: string,
  role: string,
  password: string,
  overlay: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(WORKSPACE_ROOT, HASH_PASSWORD_ENTRY), username, role],
      {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, GRANTSTREAM_CONFIG: overlay },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`hash-password exited ${code}: ${err}`)),
    );
    child.stdin.end(`${password}\n`);
  });
}

/** Writes `<dir>/users.json` with one entry per [user name, role], all with the same password. */
export async function writeUsersFile(
  dir: string,
  overlay: string,
  password: string,
  users: readonly (readonly [username: string, role: string])[],
): Promise<void> {
  const entries = await Promise.all(
    users.map(([username, role]) => hashedUser(username, role, password, overlay)),
  );
  writeFileSync(join(dir, 'users.json'), `[${entries.join(',')}]`);
}

/** What a scenario's console overlay holds besides the port, users file, scrypt and read model. */
export interface ConsoleOverlay {
  /** The scenario's directory: its users file and read-model store live there. */
  dir: string;
  port: number;
  /** The read model's topics (the scenario's own, when it has scoped them). */
  topics: { audit: string; status: string; deadLetters: string };
  /** Top-level lines before `console:` (another section of the config). */
  before?: readonly string[];
  /** Lines under `console:` before its read model (two spaces of indent). */
  console?: readonly string[];
  /** The read model's poll interval, when the scenario shortens it. */
  pollIntervalMs?: number;
  /** Lines under `console:` after its read model (two spaces of indent). */
  after?: readonly string[];
}

/**
 * Writes a console overlay: a cheap scrypt (the hash-password command and the
 * console read the same file, so the entries match) and the read model's store
 * in the scenario's directory.
 */
export function writeConsoleOverlay(path: string, o: ConsoleOverlay): void {
  writeFileSync(
    path,
    [
      'logging: { level: info }',
      ...(o.before ?? []),
      'console:',
      `  port: ${o.port}`,
      `  usersFile: ${join(o.dir, 'users.json')}`,
      '  scrypt: { cost: 1024, blockSize: 8, parallelization: 1, keyBytes: 32, saltBytes: 16, maxMemoryBytes: 16777216 }',
      ...(o.console ?? []),
      '  readModel:',
      `    storePath: ${join(o.dir, 'read-model.sqlite')}`,
      `    topics: { audit: ${o.topics.audit}, status: ${o.topics.status}, deadLetters: ${o.topics.deadLetters} }`,
      ...(o.pollIntervalMs === undefined ? [] : [`    pollIntervalMs: ${o.pollIntervalMs}`]),
      ...(o.after ?? []),
      '',
    ].join('\n'),
  );
}

/** A running console and the URL it said it listens on. */
export interface RunningConsole {
  process: TsProcess;
  url: string;
}

/**
 * Starts the console on a port of CONSOLE_PORTS, from a random one on, so
 * scenarios running at once rarely collide; `writeOverlay` writes the overlay
 * (at `overlay`) for each port tried, and a port in use moves on to the next.
 */
export async function startConsole(
  overlay: string,
  writeOverlay: (port: number) => void,
): Promise<RunningConsole> {
  const span = CONSOLE_PORTS.last - CONSOLE_PORTS.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i += 1) {
    writeOverlay(CONSOLE_PORTS.first + ((offset + i) % span));
    const p = spawnTs(CONSOLE_ENTRY, [], { GRANTSTREAM_CONFIG: overlay });
    const url = await Promise.race([
      p
        .waitFor((e) => e['msg'] === 'console listening', CONSOLE_START_MS)
        .then((e) => String(e['url'])),
      p.exited.then(() => null),
    ]);
    if (url !== null) return { process: p, url };
    if (!/EADDRINUSE/.test(p.stderr())) throw new Error(`console did not start: ${p.stderr()}`);
  }
  throw new Error('no free port for the console');
}

/** Stops a console started by startConsole, if it was, and waits for it to exit. */
export async function stopConsole(running: RunningConsole | null | undefined): Promise<void> {
  if (!running) return;
  running.process.child.kill('SIGTERM');
  await running.process.exited;
}
