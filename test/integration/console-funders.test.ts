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
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  RETRY_TIER_TOPICS,
  WORKSPACE_ROOT,
  aRoutedGrant,
  clientFor,
  endScenario,
  ensureChromium,
  exactTopicPattern,
  produceRouted,
  scenarioLogDir,
  simFunder,
  spawnTs,
  startServiceGroup,
  startSimulator,
  testClients,
  testConfig,
  tokenEnv,
  uniqueName,
  type ServiceGroup,
  type Simulator,
  type TsProcess,
} from '@grantstream/testing';

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
/** The console's refresh and chart sampling in this scenario: a sample per refresh. */
const REFRESH_MS = 1000;
/** The healthy funder's limit: the page must show it. */
const RATE_PER_SECOND = 10;
/** The failing funder's circuit stays open this long: its next probe is in the future on the page. */
const HALF_OPEN_MS = 120_000;
const MINUTE = 60_000;

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
  let consoleProcess: TsProcess | null = null;
  let url = '';
  let context: BrowserContext;
  let page: Page;

  const writeOverlay = (port: number) => {
    const metrics = (submission.metricsUrls[0] ?? '').replace(/\/metrics$/, '');
    writeFileSync(
      overlay,
      [
        'logging: { level: info }',
        `rules: { packDir: ${JSON.stringify(packDir)} }`,
        `submission: { retryTopicPattern: ${JSON.stringify(exactTopicPattern(submission.retryTiers))} }`,
        'console:',
        `  port: ${port}`,
        `  usersFile: ${join(dir, 'users.json')}`,
        '  scrypt: { cost: 1024, blockSize: 8, parallelization: 1, keyBytes: 32, saltBytes: 16, maxMemoryBytes: 16777216 }',
        '  readModel:',
        `    storePath: ${join(dir, 'read-model.sqlite')}`,
        `    topics: { audit: ${TOPICS.AUDIT}, status: ${TOPICS.STATUS}, deadLetters: ${TOPICS.DLQ} }`,
        '    pollIntervalMs: 200',
        '  pipeline:',
        `    refreshMs: ${REFRESH_MS}`,
        '    probeTimeoutMs: 500',
        `    replicas: { submission: ['${metrics}'] }`,
        `  charts: { sampleIntervalMs: ${REFRESH_MS}, maxSamples: 600 }`,
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

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
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
  }, config.stack.chromium.installTimeoutMs + 240_000);

  afterAll(async () => {
    await context?.close();
    consoleProcess?.child.kill('SIGTERM');
    await consoleProcess?.exited;
    await endScenario(clients, [submission], simulator);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows limits, answers, an open circuit, the tiers and a grant at risk in the funder calendar, with charts', async () => {
    await page.goto(`${url}/funders`);
    await page.getByLabel('User name').fill('vera');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
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
    await page.screenshot({ path: join(SHOTS, 'funders.png'), fullPage: true });

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
    await page.screenshot({ path: join(SHOTS, 'pipeline-charts.png'), fullPage: true });
  }, 300_000);
});
