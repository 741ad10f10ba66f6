// Guarantee: the console's funders page shows, in a real browser (Debian's
// headless Chromium), what a run of the submission stage against the funder
// simulator leaves: each funder's limiter (its limit, queued and running
// calls), its portal's answers by status, an open circuit with the time of
// its next probe, the retry tiers' backlog, and a grant the portal has not
// received whose deadline is near, with that deadline in the funder's own
// time zone (its rule pack's) and in business days; its charts (calls per
// second against the limit, grants by status) and the pipeline page's lag
// and throughput charts are drawn from the console's own samples of that
// run. Screenshots go to dist/test-output/console.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  RETRY_TIER_TOPICS,
  WORKSPACE_ROOT,
  aRoutedGrant,
  clientFor,
  endScenario,
  exactTopicPattern,
  produceRouted,
  scenarioLogDir,
  simFunder,
  startServiceGroup,
  startSimulator,
  testClients,
  testConfig,
  tokenEnv,
  uniqueName,
  type ServiceGroup,
  type Simulator,
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

const PASSWORD = 'correct horse battery staple';
/** The console's refresh and chart sampling in this scenario: a sample per refresh. */
const REFRESH_MS = 1000;
/** The healthy funder's limit: the page must show it. */
const RATE_PER_SECOND = 10;
/** The failing funder's circuit stays open this long: its next probe is in the future on the page. */
const HALF_OPEN_MS = 120_000;
const MINUTE = 60_000;

describe('console funders page in a browser', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'console-funders-'));
  const overlay = join(dir, 'overlay.yaml');
  const packDir = join(dir, 'rule-packs');
  const logDir = scenarioLogDir('console-funders');
  const tag = uniqueName('f')
    .replace(/[^a-z0-9]/gi, '')
    .slice(-6)
    .toUpperCase();
  /** A funder whose portal answers; its pack puts it in New York. */
  const HEALTHY = `FOK${tag}`;
  /** A funder whose portal fails every call: its circuit opens. */
  const FAILING = `FDN${tag}`;
  const healthyGrants = Array.from({ length: 30 }, (_, i) =>
    aRoutedGrant(`${HEALTHY}-2026-${String(i).padStart(5, '0')}`),
  );
  // Due within the hour: every retry would land within submission's escalation margin.
  const late = `${FAILING}-2026-00001`;
  const lateDeadline = Date.now() + 30 * MINUTE;
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  let consoleRun: RunningConsole | null = null;
  let url = '';
  let context: BrowserContext;
  let page: Page;

  const writeOverlay = (port: number) => {
    const metrics = (submission.metricsUrls[0] ?? '').replace(/\/metrics$/, '');
    writeConsoleOverlay(overlay, {
      dir,
      port,
      topics: { audit: TOPICS.AUDIT, status: TOPICS.STATUS, deadLetters: TOPICS.DLQ },
      before: [
        `rules: { packDir: ${JSON.stringify(packDir)} }`,
        `submission: { retryTopicPattern: ${JSON.stringify(exactTopicPattern(submission.retryTiers))} }`,
      ],
      pollIntervalMs: 200,
      after: [
        '  pipeline:',
        `    refreshMs: ${REFRESH_MS}`,
        '    probeTimeoutMs: 500',
        `    replicas: { submission: ['${metrics}'] }`,
        `  charts: { sampleIntervalMs: ${REFRESH_MS}, maxSamples: 600 }`,
      ],
    });
  };

  beforeAll(async () => {
    consoleShotsDir();
    mkdirSync(packDir, { recursive: true });
    // The scenario's funders get NSF's calendar (New York, its holidays and buffer) under their ids.
    const nsf = readFileSync(join(WORKSPACE_ROOT, 'examples/rule-packs/nsf.yaml'), 'utf8');
    for (const id of [HEALTHY, FAILING])
      writeFileSync(
        join(packDir, `${id}.yaml`),
        nsf.replace(/^funder_id: NSF$/m, `funder_id: ${id}`),
      );
    clients = await testClients(config);
    simulator = await startSimulator(
      { [HEALTHY]: simFunder(), [FAILING]: simFunder({ serverErrorRate: 1 }) },
      logDir,
    );
    submission = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: 1,
      logDir,
      env: {
        ...tokenEnv(simulator),
        GRANTSTREAM__FUNDERS: JSON.stringify({
          [HEALTHY]: clientFor(HEALTHY, simulator, { ratePerSecond: RATE_PER_SECOND }),
          [FAILING]: clientFor(FAILING, simulator, {
            retry: { maxAttempts: 50, initialBackoffMs: 200, maxBackoffMs: 2000 },
            circuit: { consecutiveFailures: 3, halfOpenAfterMs: HALF_OPEN_MS },
          }),
        }),
      },
    });
    writeOverlay(CONSOLE_PORTS.first);
    await writeUsersFile(dir, overlay, PASSWORD, [['vera', 'viewer']]);
    consoleRun = await startConsole(overlay, writeOverlay);
    url = consoleRun.url;
    context = await launchChromium(join(dir, 'profile'), CONSOLE_VIEWPORT);
    page = await context.newPage();
  }, config.stack.chromium.installTimeoutMs + 240_000);

  afterAll(async () => {
    await context?.close();
    await stopConsole(consoleRun);
    await endScenario(clients, [submission], simulator);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows limits, answers, an open circuit, the tiers and a grant at risk in the funder calendar, with charts', async () => {
    await page.goto(`${url}/funders`);
    await signIn(page, 'vera', PASSWORD);
    await page.waitForURL(/\/funders$/);
    await page.evaluate('window.loadedOnce = true');

    // The run: submission files the healthy funder's grants and keeps retrying the late one.
    await produceRouted(clients, [
      ...healthyGrants,
      aRoutedGrant(late, { deadline: lateDeadline }),
    ]);

    const cell = (funder: string, field: string) =>
      page.locator(`#funders-live tr[data-funder="${funder}"] td[data-field="${field}"]`);
    const within = { timeout: config.stack.readyTimeoutMs };
    // Everything below arrives through the live region: the page is never reloaded.
    await expect
      .poll(() => cell(HEALTHY, 'answers').textContent(), within)
      .toMatch(new RegExp(`201: ${healthyGrants.length}\\b`));
    expect(await cell(HEALTHY, 'limit').textContent()).toBe(`${RATE_PER_SECOND}/s, 20 at once`);
    expect(await cell(HEALTHY, 'queued').textContent()).toMatch(/^\d+$/);
    expect(await cell(HEALTHY, 'running').textContent()).toMatch(/^\d+$/);
    expect(await cell(HEALTHY, 'latency').textContent()).toMatch(/^mean \d+ ms, p95/);
    expect(await cell(HEALTHY, 'circuit').textContent()).toBe('closed');

    await expect.poll(() => cell(FAILING, 'circuit').textContent(), within).toBe('open');
    expect(await cell(FAILING, 'answers').textContent()).toMatch(/\b5\d\d: \d+/);
    const probe = (await cell(FAILING, 'probe').textContent()) ?? '';
    expect(probe).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in \d+ s\)$/);
    const probeAt = Date.parse(probe.split(' ')[0] ?? '');
    expect(probeAt).toBeGreaterThan(Date.now());
    expect(probeAt).toBeLessThanOrEqual(Date.now() + HALF_OPEN_MS + MINUTE);

    // The late grant: not received, deadline within the hour, in New York time.
    const atRisk = page.locator(`#funders-live table.at-risk tr[data-grant="${late}"]`);
    await atRisk.waitFor(within);
    const local = (await atRisk.locator('td[data-field="deadline"]').textContent()) ?? '';
    expect(local).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T$/);
    const utcMinute = new Date(Math.floor(lateDeadline / MINUTE) * MINUTE);
    const newYork = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/New_York',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .format(utcMinute)
      .replace(',', '');
    expect(local.slice(0, 16)).toBe(newYork);
    expect(await atRisk.textContent()).toContain('America/New_York');
    expect(await atRisk.locator('td[data-field="left"]').textContent()).toMatch(
      /^[01] business days?$/,
    );
    expect(Number(await cell(FAILING, 'atRisk').textContent())).toBeGreaterThanOrEqual(1);
    // The healthy funder's grants were received: none of them is at risk.
    expect(await page.locator(`table.at-risk tr[data-grant^="${HEALTHY}-"]`).count()).toBe(0);

    // The late grant waits in one of the group's own retry tiers.
    await expect
      .poll(async () => page.locator('#funders-live table.tiers tr[data-tier]').count(), within)
      .toBeGreaterThan(0);

    // Charts drawn from the console's samples of the run, each with its table.
    for (const id of [
      `funder-calls-${HEALTHY}`,
      `funder-states-${HEALTHY}`,
      `funder-states-${FAILING}`,
    ]) {
      await expect
        .poll(
          async () => Number(await page.locator(`figure#${id}`).getAttribute('data-points')),
          within,
        )
        .toBeGreaterThan(1);
      const chart = page.locator(`figure#${id}`);
      expect(await chart.locator('svg[role="img"] > title').textContent()).toMatch(/\S/);
      expect(await chart.locator('svg polyline, svg circle').count()).toBeGreaterThan(0);
      expect(await chart.locator('details table tbody tr').count()).toBeGreaterThan(1);
    }
    expect(
      await page.locator(`figure#funder-states-${HEALTHY} svg [data-series="RECEIVED"]`).count(),
    ).toBeGreaterThan(0);
    expect(await page.evaluate('window.loadedOnce === true'), 'updated in place').toBe(true);
    await page.screenshot({ path: join(CONSOLE_SHOTS, 'funders.png'), fullPage: true });

    const api = (await (await page.request.get(`${url}/api/funders`)).json()) as {
      funders: { funderId: string; figures: { circuit: string } | null }[];
    };
    expect(api.funders.find((f) => f.funderId === FAILING)?.figures?.circuit).toBe('open');

    await page.goto(`${url}/pipeline`);
    const lag = page.locator('figure#stage-lag-submission');
    await lag.waitFor(within);
    await expect
      .poll(async () => Number(await lag.getAttribute('data-points')), within)
      .toBeGreaterThan(1);
    expect(
      await page
        .locator(
          'figure#stage-throughput-submission svg polyline, figure#stage-throughput-submission svg circle',
        )
        .count(),
    ).toBeGreaterThan(0);
    await page.locator('#pipeline-charts').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(CONSOLE_SHOTS, 'pipeline-charts.png'), fullPage: true });
  }, 300_000);
});
