import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import { serviceDeclaration } from '@grantstream/contracts';
import { WORKSPACE_ROOT, startStages, type StageProcess } from '@grantstream/harness';
import { listenersInUse } from './ports';

const CONSOLE = 'console';

/** The script that creates the local users file (its operator's password printed once). */
const LOCAL_OPERATOR_SCRIPT = 'services/console/src/local-operator.ts';

const consoleEndpointSchema = z.object({
  console: z.object({ host: z.string(), port: z.number() }),
});

/** The console of a local run: its process, where it answers, and who signs in. */
export interface LocalConsole {
  process: StageProcess;
  url: string;
  usersFile: string;
  username: string;
  /** The operator's password when this run created the users file; null when it existed. */
  password: string | null;
}

/**
 * The files a local console keeps in the stack's state dir (never in the
 * repository): its users file and its read model, which a later run goes on
 * from.
 */
export function localConsoleFiles(stateDir: string): { usersFile: string; storePath: string } {
  const dir = join(stateDir, CONSOLE);
  return { usersFile: join(dir, 'users.json'), storePath: join(dir, 'read-model.sqlite') };
}

/**
 * Starts the console (services/console) for a local run: creates its users
 * file in the stack's state dir on the first run (one `operator` user with a
 * random password, printed by the caller once; only the hash is stored),
 * starts it with that file and its read model there, and resolves once its
 * declared probe answers. Refuses when another process holds its port; fails
 * at once when it exits before it is ready.
 */
export async function startLocalConsole(
  stateDir: string,
  options: {
    logDir: string;
    env: Record<string, string>;
    readyTimeoutMs: number;
    /** A users file of the caller's instead of the state dir's (created the same way when missing). */
    usersFile?: string;
  },
): Promise<LocalConsole> {
  const { host, port } = loadConfig({
    schema: consoleEndpointSchema,
    files: [DEFAULT_CONFIG_FILE],
    env: { ...process.env, ...options.env },
  }).console;
  const busy = await listenersInUse([{ name: CONSOLE, host, port }]);
  if (busy.length > 0) {
    throw new Error(
      `another process listens on ${host}:${port} (the console's port): stop it or set GRANTSTREAM__CONSOLE__PORT, then run again`,
    );
  }
  const files = localConsoleFiles(stateDir);
  const usersFile = options.usersFile ?? files.usersFile;
  const { storePath } = files;
  const made = spawnSync(process.execPath, ['--import', 'tsx', LOCAL_OPERATOR_SCRIPT, usersFile], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
  });
  if (made.status !== 0) {
    throw new Error(
      `${LOCAL_OPERATOR_SCRIPT} failed: ${(made.stderr || made.error?.message || '').trim()}`,
    );
  }
  const user = JSON.parse(made.stdout.trim()) as { username: string; password?: string };
  const [started] = startStages([CONSOLE], {
    logDir: options.logDir,
    env: {
      ...options.env,
      GRANTSTREAM__CONSOLE__USERS_FILE: usersFile,
      GRANTSTREAM__CONSOLE__READ_MODEL__STORE_PATH: storePath,
    },
  });
  if (!started) throw new Error('the console did not start');
  const url = `http://${host}:${port}`;
  const probe = `${url}${serviceDeclaration(CONSOLE).probe}`;
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (started.child.exitCode !== null) {
      throw new Error(`the console exited before answering ${probe} (log ${started.logFile})`);
    }
    try {
      if ((await fetch(probe)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${probe} did not answer within ${options.readyTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    process: started,
    url,
    usersFile,
    username: user.username,
    password: user.password ?? null,
  };
}

/** The summary's lines about the console: where it is and how to sign in. */
export function consoleSummaryLines(c: LocalConsole): string[] {
  return [
    `console ${c.url}`,
    c.password !== null
      ? `    sign in as ${c.username} with ${c.password} (shown this once; only its hash is kept, in ${c.usersFile})`
      : `    sign in as ${c.username} (password shown when ${c.usersFile} was created; delete that file for a new one)`,
  ];
}
