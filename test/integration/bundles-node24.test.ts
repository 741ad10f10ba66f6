// Guarantee: every service's bundle, laid out as its image holds it (the
// bundle, config/, package.json and examples/rule-packs, no node_modules),
// loads and runs its start-up on Node 24, the Node the images run, as it does
// on the suite's own Node (20, the oldest the code supports): a setting its
// configuration schema refuses ends it with exit code 2 and the problem named,
// before it connects to anything; and the funder simulator, which needs no
// broker, answers its health probe on Node 24 and stops cleanly on SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceDeclaration, settingEnvName } from '@grantstream/contracts';
import { STAGE_SERVICES, WORKSPACE_ROOT, type StageServiceName } from '@grantstream/harness';
import { ENTRY, runTs, testConfig } from '@grantstream/testing';

const SIMULATOR = 'funder-simulator';
const SERVICES = Object.keys(STAGE_SERVICES) as StageServiceName[];
/** Where each image holds its bundle: dist/bundles/<name>/main.js under /app. */
const BUNDLE_DIR = 'dist/bundles';
/** What each image copies beside its bundle (services/<name>/Dockerfile). */
const IMAGE_FILES = ['config', 'package.json', 'examples/rule-packs'];
/** A start that fails on configuration is over in seconds; this only stops a hang. */
const RUN_TIMEOUT_MS = 30_000;

/** The override each service's schema refuses: a port that is not a number. */
function badPortVariable(name: StageServiceName): string {
  return settingEnvName(serviceDeclaration(name).portSetting);
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A bundle's process in the image layout under `app`, with only the environment given. */
function startBundle(node: string, app: string, name: StageServiceName, env: NodeJS.ProcessEnv) {
  const child = spawn(node, ['--enable-source-maps', join(BUNDLE_DIR, name, 'main.js')], {
    cwd: app,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
  return { child, exited };
}

/**
 * The first JSON log line on `stream` whose message is `msg`; rejects if the
 * stream ends first. The stream keeps flowing, so the process never blocks on it.
 */
function logLine(stream: NodeJS.ReadableStream, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry['msg'] === msg) resolve(entry);
      } catch {
        // Not a log line: keep reading.
      }
    });
    lines.on('close', () => reject(new Error(`the output ended before "${msg}"`)));
  });
}

describe('the service bundles on Node 24 and on the suite Node', () => {
  let app = '';
  let build = '';
  let node24 = '';

  beforeAll(async () => {
    const fetched = await runTs(ENTRY.stack, ['node24']);
    expect(fetched.code, fetched.stderr).toBe(0);
    node24 = fetched.stdout.trim().split('\n').at(-1) ?? '';
    // Built beside dist/bundles, at the same depth, so that the paths the
    // bundler rewrites (config/, package.json, rule packs) resolve inside the
    // image layout copied to `app`, not back into the checkout.
    mkdirSync(join(WORKSPACE_ROOT, 'dist'), { recursive: true });
    build = mkdtempSync(join(WORKSPACE_ROOT, 'dist', 'bundles-node24-'));
    app = mkdtempSync(join(tmpdir(), 'grantstream-node24-'));
    const built = await runTs('tools/stack/src/bundle.ts', ['--out', build]);
    expect(built.code, built.stderr).toBe(0);
    for (const name of SERVICES) {
      cpSync(join(build, name), join(app, BUNDLE_DIR, name), { recursive: true });
    }
    for (const file of IMAGE_FILES) {
      cpSync(join(WORKSPACE_ROOT, file), join(app, file), { recursive: true });
    }
  }, 240_000);

  afterAll(() => {
    for (const dir of [build, app]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const runtimes = [
    ['Node 24', () => node24],
    [`Node ${process.versions.node}`, () => process.execPath],
  ] as const;

  it('runs Node 24 from the configured wheel', () => {
    const printed = execFileSync(node24, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    expect(printed.trim()).toBe(testConfig().stack.node24.version);
    expect(printed.trim().split('.')[0]).toBe('24');
  });

  describe.each(runtimes)('on %s', (_label, node) => {
    it.each(SERVICES)(
      '%s starts, refuses a bad setting and exits 2 with the problem named',
      async (name) => {
        const variable = badPortVariable(name);
        const { exited } = startBundle(node(), app, name, { [variable]: 'not-a-port' });
        const r = await exited;
        expect(r.stderr).toMatch(/invalid configuration \(\d+ problem\(s\)\)/);
        expect(r.stderr).toContain(`env ${variable}`);
        expect(r.stderr).not.toMatch(/^\s+at /m);
        expect(r.code).toBe(2);
      },
      RUN_TIMEOUT_MS * 2,
    );
  });

  it(
    'the funder simulator bundle answers its health probe on Node 24 and stops on SIGTERM',
    async () => {
      // Port 0: the simulator picks a free port and logs its address.
      const { child, exited } = startBundle(node24, app, SIMULATOR, {
        GRANTSTREAM__SIMULATOR__PORT: '0',
      });
      const listening = await logLine(child.stdout, 'funder simulator listening');
      const health = await fetch(`${String(listening['url'])}/__sim/health`);
      expect(health.status).toBe(200);
      child.kill('SIGTERM');
      const r = await exited;
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    },
    RUN_TIMEOUT_MS * 2,
  );
});
