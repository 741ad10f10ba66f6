// Guarantee: the console's pipeline page shows each stage's replicas ready or
// not from the stages' own health and metrics endpoints, and updates itself
// without a reload (server-sent events to a same-origin script): a stage
// started here shows ready, and once it is killed it shows "not ready" within
// one refresh, in a real browser (Debian's headless Chromium). Screenshots go
// to dist/test-output/console.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import { startStages, type StageProcess } from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  freePort,
  ingestScopeFor,
  testClients,
  testConfig,
  uniqueName,
  waitForLog,
} from '@grantstream/testing';
import { launchChromium, signIn } from '../support/browser';
import {
  CONSOLE_PORTS,
  CONSOLE_SHOTS,
  CONSOLE_VIEWPORT,
  consoleShotsDir,
  startConsole,
  stopConsole,
  writeConsoleOverlay,
  writeUsersFile,
  type RunningConsole,
} from '../support/console';
import { createScopedTopics, deleteScopedTopics } from '../support/scoped-topics';

const PASSWORD = 'correct horse battery staple';
/** The page's refresh and probe timeout in this scenario (console.pipeline). */
const REFRESH_MS = 1000;
const PROBE_TIMEOUT_MS = 500;

describe('console pipeline page in a browser', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'console-pipeline-'));
  const overlay = join(dir, 'overlay.yaml');
  const scope = uniqueName('cpipe').replace(/[^A-Za-z0-9.-]/g, '-');
  let clients: PlatformClients;
  let topics: Map<string, string>;
  let stage: StageProcess | null = null;
  let stagePort = 0;
  let consoleRun: RunningConsole | null = null;
  let url = '';
  let context: BrowserContext;
  let page: Page;

  const writeOverlay = (port: number) => {
    const t = (name: string) => topics.get(name) ?? name;
    writeConsoleOverlay(overlay, {
      dir,
      port,
      topics: { audit: t(TOPICS.AUDIT), status: t(TOPICS.STATUS), deadLetters: t(TOPICS.DLQ) },
      after: [
        '  pipeline:',
        `    refreshMs: ${REFRESH_MS}`,
        `    probeTimeoutMs: ${PROBE_TIMEOUT_MS}`,
        `    replicas: { ingest: ['http://127.0.0.1:${stagePort}'] }`,
      ],
    });
  };

  const readyCell = () => page.locator('tr[data-stage="ingest"] td[data-field="ready"]');

  beforeAll(async () => {
    consoleShotsDir();
    clients = await testClients(config);
    // The scenario's own read-model topics and ingest topic: the stage reads
    // only that topic, in a group of its own, so it never touches other runs.
    topics = await createScopedTopics(
      clients,
      [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ, TOPICS.INGEST],
      scope,
    );
    stagePort = await freePort();
    writeOverlay(CONSOLE_PORTS.first);
    await writeUsersFile(dir, overlay, PASSWORD, [['vera', 'viewer']]);
    consoleRun = await startConsole(overlay, writeOverlay);
    url = consoleRun.url;
    context = await launchChromium(join(dir, 'profile'), CONSOLE_VIEWPORT);
    page = await context.newPage();
  }, config.stack.chromium.installTimeoutMs + 180_000);

  afterAll(async () => {
    await context?.close();
    if (stage && stage.child.exitCode === null) {
      stage.child.kill('SIGKILL');
      await stage.exited;
    }
    await stopConsole(consoleRun);
    if (topics) await deleteScopedTopics(clients, topics);
    await clients?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a started stage ready, then not ready within one refresh of its kill, without a reload', async () => {
    await page.goto(`${url}/pipeline`);
    await signIn(page, 'vera', PASSWORD);
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
    await page.screenshot({ path: join(CONSOLE_SHOTS, 'pipeline.png'), fullPage: true });

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
    await page.screenshot({ path: join(CONSOLE_SHOTS, 'pipeline-stage-down.png'), fullPage: true });
  }, 300_000);
});
