// Guarantee: the console's pipeline page shows each stage's replicas ready or
// not from the stages' own health and metrics endpoints, and updates itself
// without a reload (server-sent events to a same-origin script): a stage
// started here shows ready, and once it is killed it shows "not ready" within
// one refresh, in a real browser (Debian's headless Chromium). Screenshots go
// to dist/test-output/console.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import { startStages, type StageProcess } from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  WORKSPACE_ROOT,
  ensureChromium,
  freePort,
  ingestScopeFor,
  spawnTs,
  testClients,
  testConfig,
  uniqueName,
  waitForLog,
  type TsProcess,
} from '@grantstream/testing';
import { createScopedTopics, deleteScopedTopics } from '../support/scoped-topics';

const CONSOLE = 'services/console/src/main.ts';
const HASH_PASSWORD = 'services/console/src/hash-password.ts';
/** The console's tests listen in this range. */
const PORTS = { first: 47000, last: 47999 };
const SHOTS = join(WORKSPACE_ROOT, 'dist/test-output/console');
/** Flags that keep Chromium off the network: this machine's network is closed. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSWORD = 'correct horse battery staple';
/** The page's refresh and probe timeout in this scenario (console.pipeline). */
const REFRESH_MS = 1000;
const PROBE_TIMEOUT_MS = 500;

/** A users-file entry made by the console's own hash-password command, the password on stdin. */
function hashedUser(username: string, role: string, overlay: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(WORKSPACE_ROOT, HASH_PASSWORD), username, role],
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
    child.stdin.end(`${PASSWORD}\n`);
  });
}

describe('console pipeline page in a browser', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'console-pipeline-'));
  const overlay = join(dir, 'overlay.yaml');
  const scope = uniqueName('cpipe').replace(/[^A-Za-z0-9.-]/g, '-');
  let clients: PlatformClients;
  let topics: Map<string, string>;
  let stage: StageProcess | null = null;
  let stagePort = 0;
  let consoleProcess: TsProcess | null = null;
  let url = '';
  let context: BrowserContext;
  let page: Page;

  const writeOverlay = (port: number) => {
    const t = (name: string) => topics.get(name) ?? name;
    writeFileSync(
      overlay,
      [
        'logging: { level: info }',
        'console:',
        `  port: ${port}`,
        `  usersFile: ${join(dir, 'users.json')}`,
        '  scrypt: { cost: 1024, blockSize: 8, parallelization: 1, keyBytes: 32, saltBytes: 16, maxMemoryBytes: 16777216 }',
        '  readModel:',
        `    storePath: ${join(dir, 'read-model.sqlite')}`,
        `    topics: { audit: ${t(TOPICS.AUDIT)}, status: ${t(TOPICS.STATUS)}, deadLetters: ${t(TOPICS.DLQ)} }`,
        '  pipeline:',
        `    refreshMs: ${REFRESH_MS}`,
        `    probeTimeoutMs: ${PROBE_TIMEOUT_MS}`,
        `    replicas: { ingest: ['http://127.0.0.1:${stagePort}'] }`,
        '',
      ].join('\n'),
    );
  };

  async function startConsole(): Promise<void> {
    const span = PORTS.last - PORTS.first + 1;
    const offset = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i += 1) {
      const port = PORTS.first + ((offset + i) % span);
      writeOverlay(port);
      const p = spawnTs(CONSOLE, [], { GRANTSTREAM_CONFIG: overlay });
      const outcome = await Promise.race([
        p.waitFor((e) => e['msg'] === 'console listening', 120_000).then((e) => String(e['url'])),
        p.exited.then(() => null),
      ]);
      if (outcome !== null) {
        consoleProcess = p;
        url = outcome;
        return;
      }
      if (!/EADDRINUSE/.test(p.stderr())) throw new Error(`console did not start: ${p.stderr()}`);
    }
    throw new Error('no free port for the console');
  }

  const readyCell = () => page.locator('tr[data-stage="ingest"] td[data-field="ready"]');

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    clients = await testClients(config);
    // The scenario's own read-model topics and ingest topic: the stage reads
    // only that topic, in a group of its own, so it never touches other runs.
    topics = await createScopedTopics(
      clients,
      [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ, TOPICS.INGEST],
      scope,
    );
    stagePort = await freePort();
    writeOverlay(PORTS.first);
    writeFileSync(join(dir, 'users.json'), `[${await hashedUser('vera', 'viewer', overlay)}]`);
    await startConsole();
    const executablePath = await ensureChromium();
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1366, height: 900 },
    });
    page = await context.newPage();
  }, config.stack.chromium.installTimeoutMs + 180_000);

  afterAll(async () => {
    await context?.close();
    if (stage && stage.child.exitCode === null) {
      stage.child.kill('SIGKILL');
      await stage.exited;
    }
    consoleProcess?.child.kill('SIGTERM');
    await consoleProcess?.exited;
    if (topics) await deleteScopedTopics(clients, topics);
    await clients?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a started stage ready, then not ready within one refresh of its kill, without a reload', async () => {
    await page.goto(`${url}/pipeline`);
    await page.getByLabel('User name').fill('vera');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/pipeline$/);
    // Before the stage exists, it is not ready.
    await expect.poll(() => readyCell().textContent()).toMatch(/^not ready/);

    const group = uniqueName('grantstream.ingest.cpipe');
    stage =
      startStages(['ingest'], {
        logDir: dir,
        env: {
          ...ingestScopeFor(group, [topics.get(TOPICS.INGEST) ?? '']),
          GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
          GRANTSTREAM__INGEST__METRICS__PORT: String(stagePort),
        },
      })[0] ?? null;
    if (!stage) throw new Error('ingest did not start');
    await waitForLog(stage, /stage service consuming/, config.stack.readyTimeoutMs);
    // The page was loaded before the stage started: only the live feed can show it ready.
    await page.evaluate('window.loadedOnce = true');
    await expect
      .poll(() => readyCell().textContent(), { timeout: config.stack.readyTimeoutMs })
      .toBe('ready (1/1 replicas)');
    await expect
      .poll(() => page.locator('tr[data-stage="ingest"] td[data-field="memory"]').textContent())
      .toMatch(/MiB$/);
    await page.screenshot({ path: join(SHOTS, 'pipeline.png'), fullPage: true });

    const killedAt = Date.now();
    stage.child.kill('SIGKILL');
    await stage.exited;
    // The next refresh starts within REFRESH_MS and takes at most PROBE_TIMEOUT_MS.
    await page
      .locator('tr[data-stage="ingest"] td[data-field="ready"]', { hasText: /^not ready/ })
      .waitFor({ timeout: 2 * REFRESH_MS + PROBE_TIMEOUT_MS });
    const shownAfterMs = Date.now() - killedAt;
    expect(await readyCell().textContent()).toBe('not ready (0/1 replicas)');
    expect(shownAfterMs).toBeLessThanOrEqual(2 * REFRESH_MS + PROBE_TIMEOUT_MS);
    expect(
      await page.evaluate('window.loadedOnce === true'),
      'the page updated in place, no reload',
    ).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'pipeline-stage-down.png'), fullPage: true });
  }, 300_000);
});
