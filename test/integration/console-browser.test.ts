// Guarantee: a person can use the operations and audit console in a real
// browser (Debian's headless Chromium) against the real broker and registry:
// signing in is required; a grant found by its id shows its whole timeline
// with a verified hash chain; a grant whose trail was altered shows the chain
// broken at the altered event, by its place in the timeline; a script in a
// grant's metadata or in an attachment file name shows as visible text and
// never runs; dead letters are listed and one shows its headers and decoded
// value; the console says how far behind the topics it is. Screenshots of the
// main pages go to dist/test-output/console.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, TOPICS, type GrantStatusV1 } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, uniqueName } from '@grantstream/testing';
import { chainFor, produceEvents } from '../support/audit';
import { README_VIEWPORT, launchChromium, signIn } from '../support/browser';
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

const T0 = Date.UTC(2026, 5, 1, 8, 0);
/** A grant title and an attachment file name that would run script if rendered as markup. */
const TITLE_PAYLOAD = '<script>alert("title")</script>';
const FILENAME_PAYLOAD = '<img src=x onerror=alert("file")>.pdf';
const PASSWORD = 'correct horse battery staple';

function statusOf(grantId: string, status: GrantStatusV1['status'], at: number): GrantStatusV1 {
  return {
    grant_id: grantId,
    funder_id: grantId.split('-')[0] ?? 'X',
    funder_portal: 'simulator',
    audit_trail_id: `at-${grantId}`,
    idempotency_key: `idem-${grantId}`,
    tracking_number: `TRK-${grantId}`,
    status,
    portal_messages: ['received by the portal'],
    terminal: false,
    submitted_at: at,
    observed_at: at,
    next_poll_at: null,
    attempt: 0,
  };
}

describe('console in a browser', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  const overlay = join(dir, 'overlay.yaml');
  const scope = uniqueName('console').replace(/[^A-Za-z0-9.-]/g, '-');
  const stamp = Date.now().toString(36).toUpperCase();
  const good = `NSF-2026-CG${stamp}`;
  const tampered = `NSF-2026-CT${stamp}`;
  const hostile = `NSF-2026-CH${stamp}`;
  let clients: PlatformClients;
  let topics: Map<string, string>;
  let consoleRun: RunningConsole | null = null;
  let url = '';
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  const writeOverlay = (port: number) => {
    const t = (name: string) => topics.get(name) ?? name;
    writeConsoleOverlay(overlay, {
      dir,
      port,
      topics: { audit: t(TOPICS.AUDIT), status: t(TOPICS.STATUS), deadLetters: t(TOPICS.DLQ) },
      pollIntervalMs: 200,
    });
  };

  const shot = (name: string) =>
    page.screenshot({ path: join(CONSOLE_SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    consoleShotsDir();
    clients = await testClients(config);
    topics = await createScopedTopics(clients, [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ], scope);
    const auditTopic = topics.get(TOPICS.AUDIT)!;
    const statusTopic = topics.get(TOPICS.STATUS)!;
    // A grant's whole life, a grant whose third event was altered after the
    // fact (its hash no longer matches its content), and a grant whose
    // details carry markup.
    const life = chainFor(good, 5, T0);
    const altered = chainFor(tampered, 5, T0 + 60_000).map((e, i) =>
      i === 2
        ? {
            ...e,
            event: {
              ...e.event,
              details: { ...e.event.details, rule_set: 'forged' },
            },
          }
        : e,
    );
    const markup = chainFor(hostile, 2, T0 + 120_000).map((e, i) =>
      i === 0
        ? {
            ...e,
            event: {
              ...e.event,
              details: { title: TITLE_PAYLOAD, attachment_filename: FILENAME_PAYLOAD },
            },
          }
        : e,
    );
    await produceEvents(clients, auditTopic, [...life, ...altered, ...markup]);
    await clients.io.produce(statusTopic, [
      {
        key: good,
        value: await clients.serde.encode(statusTopic, statusOf(good, 'RECEIVED', T0 + 300_000)),
      },
    ]);
    // A dead letter whose value is Avro the registry knows, and one that is not Avro at all.
    await clients.io.produce(topics.get(TOPICS.DLQ)!, [
      {
        key: good,
        value: await clients.serde.encode(statusTopic, statusOf(good, 'PROCESSING', T0 + 400_000)),
        headers: {
          [DLQ_HEADERS.STAGE]: 'status-polling',
          [DLQ_HEADERS.ERROR_CATEGORY]: 'STATUS_UNRESOLVED',
          [DLQ_HEADERS.ERROR_CODE]: 'STATUS_UNRESOLVED',
          [DLQ_HEADERS.REASON]: 'the portal never resolved the status',
          [DLQ_HEADERS.SOURCE_TOPIC]: statusTopic,
          [DLQ_HEADERS.SOURCE_PARTITION]: '0',
          [DLQ_HEADERS.SOURCE_OFFSET]: '0',
          [DLQ_HEADERS.FAILED_AT]: new Date(T0 + 400_000).toISOString(),
        },
      },
      {
        key: hostile,
        value: Buffer.from('{"not":"avro"}'),
        headers: {
          [DLQ_HEADERS.STAGE]: 'ingest',
          [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION',
          [DLQ_HEADERS.ERROR_CODE]: 'WIRE_FORMAT_INVALID',
          [DLQ_HEADERS.REASON]: '<b>not</b> Confluent wire format',
          [DLQ_HEADERS.SOURCE_TOPIC]: TOPICS.INGEST,
          [DLQ_HEADERS.SOURCE_PARTITION]: '2',
          [DLQ_HEADERS.SOURCE_OFFSET]: '7',
          [DLQ_HEADERS.FAILED_AT]: new Date(T0 + 500_000).toISOString(),
        },
      },
    ]);
    writeOverlay(CONSOLE_PORTS.first);
    await writeUsersFile(dir, overlay, PASSWORD, [
      ['vera', 'viewer'],
      ['aude', 'auditor'],
    ]);
    consoleRun = await startConsole(overlay, writeOverlay);
    url = consoleRun.url;
    context = await launchChromium(join(dir, 'profile'), CONSOLE_VIEWPORT);
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, config.stack.chromium.installTimeoutMs + 180_000);

  afterAll(async () => {
    await context?.close();
    await stopConsole(consoleRun);
    if (topics) await deleteScopedTopics(clients, topics);
    await clients?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for sign-in, then finds a grant and shows its timeline with a verified chain', async () => {
    await page.goto(`${url}/grants`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await shot('sign-in');
    await signIn(page, 'aude', PASSWORD);
    await page.waitForURL(/\/grants$/);

    // The read model catches up within a few passes; search until the grant is there.
    await expect
      .poll(
        async () => {
          await page.goto(`${url}/grants?grant=${encodeURIComponent('NSF-2026-C')}&match=prefix`);
          return page.locator('tbody tr').count();
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(3);
    await shot('grant-search');
    await page.getByLabel('Grant id').fill(good);
    await page.getByLabel('Match').selectOption('exact');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: good }).click();
    await page.waitForURL(new RegExp(`/grants/${good}$`));
    expect(await page.locator('#chain-badge').getAttribute('data-verdict')).toBe('VERIFIED');
    expect(await page.locator('#chain-badge').innerText()).toBe('Chain verified');
    // The whole trail, genesis first: ingest to submission, with the routing rule pack and tracking number.
    const stages = await page
      .locator('section[aria-labelledby=timeline] tbody tr td:nth-child(3)')
      .allInnerTexts();
    expect(stages).toEqual(['ingest', 'validation', 'normalization', 'routing', 'submission']);
    const timeline = await page.locator('section[aria-labelledby=timeline]').innerText();
    expect(timeline).toContain('rules-2026.1');
    expect(timeline).toContain(`TRK-${good}`);
    expect(await page.locator('section[aria-labelledby=statuses]').innerText()).toContain(
      'RECEIVED',
    );
    expect(await page.getByRole('link', { name: /evidence bundle/ }).count()).toBe(1);
    await shot('grant-verified');
    // A laptop's screen of the page, not the whole page (the README's is a grant of the sample batch).
    await page.setViewportSize(README_VIEWPORT);
    await page.screenshot({ path: join(CONSOLE_SHOTS, 'grant-page-readme.png') });
    await page.setViewportSize(CONSOLE_VIEWPORT);
  });

  it('shows a tampered trail broken at the altered event', async () => {
    await page.goto(`${url}/grants/${tampered}`);
    expect(await page.locator('#chain-badge').getAttribute('data-verdict')).toBe('BROKEN');
    const first = await page.locator('#first-broken').innerText();
    expect(first).toContain('ALTERED');
    expect(first).toContain('at event 3 (normalization NORMALIZED)');
    // The row of the altered event is the one marked, and only it.
    expect(await page.locator('tr.broken td:first-child').allInnerTexts()).toEqual([
      '3 (first broken)',
    ]);
    await shot('grant-tampered');
  });

  it('renders a script in grant metadata and in an attachment filename as visible text and never runs it', async () => {
    await page.goto(`${url}/grants/${hostile}`);
    const timeline = page.locator('section[aria-labelledby=timeline]');
    for (const payload of [TITLE_PAYLOAD, FILENAME_PAYLOAD]) {
      const shown = timeline.getByText(payload, { exact: false });
      expect(await shown.count(), payload).toBeGreaterThan(0);
      expect(await shown.first().isVisible(), `${payload} visible`).toBe(true);
    }
    // Nothing of either payload became an element: no script, no image, no handler.
    expect(await page.locator('main script, main img, main [onerror]').count()).toBe(0);
    // The search lists the grant without running anything either.
    await page.goto(`${url}/grants?grant=${hostile}&match=exact`);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.goto(`${url}/grants/${hostile}`);
    await shot('grant-markup');
    expect(dialogs).toEqual([]);
  });

  it('lists dead letters and shows one with its headers and decoded value, or hex and why', async () => {
    await page.goto(`${url}/dead-letters`);
    await expect.poll(() => page.locator('tbody tr').count(), { timeout: 30_000 }).toBe(2);
    await shot('dead-letters');
    await page.getByLabel('Error category').fill('STATUS_UNRESOLVED');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.locator('tbody tr td:first-child a').click();
    const body = await page.locator('main').innerText();
    expect(body).toContain(DLQ_HEADERS.REASON);
    expect(body).toContain('the portal never resolved the status');
    expect(body).toMatch(/Avro, writer schema id \d+/);
    expect(body).toContain('"status": "PROCESSING"');
    await shot('dead-letter');
    await page.goto(`${url}/dead-letters?category=SCHEMA_VIOLATION`);
    await page.locator('tbody tr td:first-child a').click();
    const raw = await page.locator('main').innerText();
    expect(raw).toContain('<b>not</b> Confluent wire format');
    expect(raw).toContain('not in the Confluent wire format');
    expect(raw).toContain('7b 22 6e 6f 74');
  });

  it('says how far behind the topics the read model is', async () => {
    await page.goto(`${url}/read-model`);
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('#lag-total').getAttribute('data-lag');
        },
        { timeout: 30_000 },
      )
      .toBe('0');
    expect(await page.locator('main').innerText()).toContain(topics.get(TOPICS.AUDIT)!);
    await shot('read-model');
  });

  it('refuses a viewer the evidence bundle, in the page and at the URL', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.goto(`${url}/grants/${good}`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await signIn(page, 'vera', PASSWORD);
    await page.waitForURL(new RegExp(`/grants/${good}$`));
    expect(await page.getByRole('link', { name: /evidence bundle/ }).count()).toBe(0);
    const res = await page.goto(`${url}/grants/${good}/evidence.html`);
    expect(res?.status()).toBe(403);
  });
});
