// Guarantee: an operator can send a filtered set of dead letters back from the
// console in a real browser (Debian's headless Chromium), under the rules of
// `grantctl dlq redrive`, which is the same code: the list's filter (stage,
// source topic, time) selects the set; a dry run says how many would go and
// which are refused and why (already redriven, a category needing force);
// only a second POST carrying the confirmation and the preview's fingerprint
// sends, so the set sent is the set previewed (a set that changed since is
// refused, and so is one larger than console.redrive.maxSetSize). Each dead
// letter reaches its source topic exactly once (read_committed), committed
// with a REDRIVEN audit event naming the operator; a repeat sends none, from
// the console or from grantctl; a viewer gets no button and the API refuses
// the viewer (403). Real console process, broker and registry. Screenshots
// go to dist/test-output/console.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEventV1Avro,
  AuditEventV1Schema,
  DLQ_HEADERS,
  TOPICS,
  type AuditEventV1,
} from '@grantstream/contracts';
import type { OutgoingMessage, PlatformClients } from '@grantstream/kafka';
import {
  ENTRY,
  createScopedTopics,
  deleteScopedTopics,
  runTs,
  testClients,
  testConfig,
  uniqueName,
} from '@grantstream/testing';
import { launchChromium, signIn as signInOnPage } from '../support/browser';
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

const PASSWORD = 'redrive the set with care';
/** The console's largest set in this scenario: the unfiltered list is larger. */
const MAX_SET_SIZE = 5;
const MINUTE = 60_000;

/** A `datetime-local` value (UTC, as the console reads it). */
const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);

describe('console redrive of a filtered set', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'console-redrive-set-'));
  const overlay = join(dir, 'overlay.yaml');
  const scope = uniqueName('redrive-set').replace(/[^A-Za-z0-9.-]/g, '-');
  const stamp = Date.now().toString(36).toUpperCase();
  const now = Date.now();
  const from = local(now - 60 * MINUTE);
  /** The set: three that went back and one whose payload itself failed. */
  const retried = [1, 2, 3].map((i) => `NSF-2026-RS${stamp}${i}`);
  const schema = `NSF-2026-RX${stamp}`;
  /** Outside the filter: another stage and source topic; failed before the time filter. */
  const otherStage = `NSF-2026-RO${stamp}`;
  const old = `NSF-2026-RT${stamp}`;
  /** Arrives after a preview: the stale preview's confirmation must not send it. */
  const late = `NSF-2026-RL${stamp}`;
  let clients: PlatformClients;
  let topics: Map<string, string>;
  let consoleRun: RunningConsole | null = null;
  let url = '';
  let context: BrowserContext;
  let page: Page;
  const t = (name: string) => topics.get(name) ?? name;

  const deadLetter = (
    grant: string,
    over: { stage?: string; category?: string; source?: string; offset: number; failedAt: number },
  ): OutgoingMessage => ({
    key: grant,
    value: Buffer.from(`original payload of ${grant}`),
    headers: {
      'x-upstream': 'kept as it was',
      [DLQ_HEADERS.STAGE]: over.stage ?? 'submission',
      [DLQ_HEADERS.ERROR_CATEGORY]: over.category ?? 'NETWORK_TIMEOUT',
      [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
      [DLQ_HEADERS.REASON]: 'the portal timed out five times',
      [DLQ_HEADERS.SOURCE_TOPIC]: over.source ?? t(TOPICS.ROUTED),
      [DLQ_HEADERS.SOURCE_PARTITION]: '0',
      [DLQ_HEADERS.SOURCE_OFFSET]: String(over.offset),
      [DLQ_HEADERS.FAILED_AT]: new Date(over.failedAt).toISOString(),
      [DLQ_HEADERS.GRANT_ID]: grant,
    },
  });

  const writeOverlay = (port: number) =>
    writeConsoleOverlay(overlay, {
      dir,
      port,
      topics: { audit: t(TOPICS.AUDIT), status: t(TOPICS.STATUS), deadLetters: t(TOPICS.DLQ) },
      console: [`  redrive: { transactionalId: ${scope}.redrive, maxSetSize: ${MAX_SET_SIZE} }`],
      pollIntervalMs: 200,
    });

  const shot = (name: string) =>
    page.screenshot({ path: join(CONSOLE_SHOTS, `${name}.png`), fullPage: true });

  async function signIn(username: string): Promise<void> {
    await page.goto(`${url}/sign-in`);
    await signInOnPage(page, username, PASSWORD);
    await page.waitForURL(/\/grants$/);
  }

  /** The list with the set's filter, typed into the form as a person would. */
  async function filterTheSet(): Promise<void> {
    await page.goto(`${url}/dead-letters`);
    await page.getByLabel('Stage').fill('submission');
    await page.getByLabel('Source topic').fill(t(TOPICS.ROUTED));
    await page.getByLabel('Failed from (UTC)').fill(from);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/dead-letters\?/);
  }

  /** Filters, previews, and returns the preview's headline once it is not "the console is behind". */
  async function previewTheSet(expected: RegExp): Promise<string> {
    let outcome = '';
    await expect
      .poll(
        async () => {
          await filterTheSet();
          await page.getByRole('button', { name: 'Preview redrive' }).click();
          await page.waitForURL(/\/dead-letters\/set\/preview$/);
          outcome = await page.locator('#redrive-set-outcome').innerText();
          const refusals = await page.locator('#redrive-set-refused tbody tr').allInnerTexts();
          // While the read model has not read the newest REDRIVEN events the console refuses all.
          return refusals.some((r) => r.includes('has not read')) ? 'behind' : outcome;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toMatch(expected);
    return outcome;
  }

  /** The CSRF token of the signed-in page (every page's sign-out form carries it). */
  const csrfOfPage = async () =>
    (await page.locator('input[name=_csrf]').first().getAttribute('value')) ?? '';

  const api = async (path: string, form: Record<string, string>) => {
    const res = await page.request.post(`${url}${path}`, {
      form,
      headers: { 'x-csrf-token': await csrfOfPage() },
    });
    return { status: res.status(), body: (await res.json()) as Record<string, unknown> };
  };

  const SET_FILTER = () => ({ stage: 'submission', sourceTopic: t(TOPICS.ROUTED), from });

  /** Everything committed to a topic, waiting for `expected` and then a little for any more. */
  const committed = (topic: string, expected: number) =>
    clients.io.read(topic, {
      expected: expected + 1,
      timeoutMs: 3_000,
      isolation: 'read_committed',
    });

  async function redrivenEvents(expected: number): Promise<AuditEventV1[]> {
    const records = await clients.io.read(t(TOPICS.AUDIT), {
      expected,
      timeoutMs: 30_000,
      isolation: 'read_committed',
    });
    const events: AuditEventV1[] = [];
    for (const r of records) {
      events.push(
        AuditEventV1Schema.parse((await clients.serde.decodeAs(r.value, AuditEventV1Avro)).value),
      );
    }
    return events.filter((e) => e.action === 'REDRIVEN');
  }

  beforeAll(async () => {
    consoleShotsDir();
    clients = await testClients(config);
    topics = await createScopedTopics(
      clients,
      [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ, TOPICS.ROUTED, TOPICS.INGEST],
      scope,
    );
    const recent = now - 10 * MINUTE;
    await clients.io.produce(t(TOPICS.DLQ), [
      ...retried.map((g, i) => deadLetter(g, { offset: 10 + i, failedAt: recent + i })),
      deadLetter(schema, { category: 'SCHEMA_VIOLATION', offset: 20, failedAt: recent }),
      deadLetter(otherStage, {
        stage: 'ingest',
        source: t(TOPICS.INGEST),
        offset: 30,
        failedAt: recent,
      }),
      deadLetter(old, { offset: 40, failedAt: now - 2 * 24 * 60 * MINUTE }),
    ]);
    writeOverlay(CONSOLE_PORTS.first);
    await writeUsersFile(dir, overlay, PASSWORD, [
      ['otto', 'operator'],
      ['vera', 'viewer'],
    ]);
    consoleRun = await startConsole(overlay, writeOverlay);
    url = consoleRun.url;
    context = await launchChromium(join(dir, 'profile'), CONSOLE_VIEWPORT);
    page = await context.newPage();
  }, config.stack.chromium.installTimeoutMs + 240_000);

  afterAll(async () => {
    await context?.close();
    await stopConsole(consoleRun);
    if (topics) await deleteScopedTopics(clients, topics);
    await clients?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redrives one dead letter from its page, then the rest of a filtered set after a dry run and a confirmation, each once', async () => {
    await signIn('otto');
    await page.goto(`${url}/dead-letters`);
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('tbody tr').count();
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(6);

    // One dead letter of the set, from its own page.
    await page.locator('tbody tr', { hasText: retried[0]! }).locator('td:first-child a').click();
    expect(await page.locator('#redrive-preview').innerText()).toContain(
      `Dry run: would send the original message back to ${t(TOPICS.ROUTED)} (redrive 1)`,
    );
    await page.getByLabel('I checked the cause is fixed').check();
    await page.getByRole('button', { name: 'Redrive', exact: true }).click();
    expect(await page.locator('#redrive-outcome').innerText()).toBe(
      `Redriven to ${t(TOPICS.ROUTED)} by otto.`,
    );
    await shot('dead-letter-redriven');

    // The set: stage, source topic and time select four of the six; one went back
    // already, one failed on its own payload.
    await filterTheSet();
    expect(await page.locator('tbody tr').count()).toBe(4);
    await shot('dead-letters-filtered');
    const preview = await previewTheSet(/would be redriven/);
    expect(preview).toBe('Dry run: 2 dead letter(s) would be redriven, 2 refused.');
    const wouldGo = await page.locator('#redrive-set-send tbody tr').allInnerTexts();
    // The set is read partition by partition: its order is not part of the promise.
    expect(wouldGo.map((r) => r.split('\t')[1]).sort()).toEqual([retried[1], retried[2]].sort());
    const refused = await page.locator('#redrive-set-refused tbody tr').allInnerTexts();
    expect(refused.find((r) => r.includes(retried[0]!))).toMatch(/already redriven/);
    expect(refused.find((r) => r.includes(schema))).toMatch(/category SCHEMA_VIOLATION.*--force/);
    await shot('redrive-set-preview');
    // The dry run sent nothing.
    expect(await committed(t(TOPICS.ROUTED), 1)).toHaveLength(1);

    await page.getByLabel('I checked the cause is fixed').check();
    await page.getByRole('button', { name: 'Redrive 2 dead letter(s)' }).click();
    await page.waitForURL(/\/dead-letters\/set\/confirm$/);
    expect(await page.locator('#redrive-set-outcome').innerText()).toBe(
      'Redriven 2 dead letter(s) by otto, 2 refused.',
    );
    await shot('redrive-set-done');

    // Each of the three reached its source topic once, with its original bytes;
    // nothing outside the filter moved.
    const sent = await committed(t(TOPICS.ROUTED), 3);
    expect(sent.map((m) => m.key?.toString()).sort()).toEqual([...retried].sort());
    for (const m of sent) {
      expect(m.value?.toString()).toBe(`original payload of ${m.key?.toString()}`);
      expect(m.headers['x-upstream']?.toString()).toBe('kept as it was');
      expect(m.headers[DLQ_HEADERS.REDRIVE_COUNT]?.toString()).toBe('1');
    }
    expect(await committed(t(TOPICS.INGEST), 0)).toHaveLength(0);
    const events = await redrivenEvents(3);
    expect(events.map((e) => e.grant_id).sort()).toEqual([...retried].sort());
    for (const e of events) {
      expect(e).toMatchObject({ service_name: 'grantstream-console', stage: 'grantctl' });
      expect(e.details).toMatchObject({ operator: 'otto', to_topic: t(TOPICS.ROUTED) });
    }
    expect(new Set(events.map((e) => `${e.source?.partition}:${e.source?.offset}`)).size).toBe(3);

    // A repeat of the same set redrives none: every one is refused as already redriven.
    const again = await previewTheSet(/0 dead letter\(s\) would be redriven/);
    expect(again).toBe('Dry run: 0 dead letter(s) would be redriven, 4 refused.');
    expect(await page.getByRole('button', { name: /^Redrive \d+ dead letter/ }).count()).toBe(0);
    const reasons = await page.locator('#redrive-set-refused tbody tr').allInnerTexts();
    expect(reasons.filter((r) => r.includes('already redriven'))).toHaveLength(3);
    await shot('redrive-set-repeat');
    const repeat = await api('/api/dead-letters/set/preview', SET_FILTER());
    const confirmedAgain = await api('/api/dead-letters/set/confirm', {
      ...SET_FILTER(),
      confirm: 'true',
      fingerprint: String(repeat.body['fingerprint']),
    });
    expect(confirmedAgain.status).toBe(200);
    expect(confirmedAgain.body['redriven']).toEqual([]);

    // grantctl, the same implementation, finds nothing left to send in the same set.
    const grantctl = await runTs(
      ENTRY.grantctl,
      [
        'dlq',
        'redrive',
        '--topic',
        t(TOPICS.DLQ),
        '--audit-topic',
        t(TOPICS.AUDIT),
        '--stage',
        'submission',
        '--source-topic',
        t(TOPICS.ROUTED),
        '--from',
        new Date(`${from}Z`).toISOString(),
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(grantctl.code, grantctl.stderr).toBe(0);
    const report = JSON.parse(grantctl.stdout) as { redriven: unknown[]; skipped: unknown[] };
    expect(report.redriven).toEqual([]);
    expect(report.skipped).toHaveLength(4);
    expect(await committed(t(TOPICS.ROUTED), 3)).toHaveLength(3);
  });

  it('sends nothing when the set changed since its preview, or is larger than the maximum', async () => {
    const stale = await api('/api/dead-letters/set/preview', SET_FILTER());
    expect(stale.status).toBe(200);
    await clients.io.produce(t(TOPICS.DLQ), [
      deadLetter(late, { offset: 50, failedAt: now - 5 * MINUTE }),
    ]);
    // Once the console has read it, the old preview no longer describes the set.
    await expect
      .poll(
        async () =>
          (await api('/api/dead-letters/set/preview', SET_FILTER())).body['redriven'] as unknown[],
        { timeout: 60_000, interval: 500 },
      )
      .toHaveLength(1);
    const refused = await api('/api/dead-letters/set/confirm', {
      ...SET_FILTER(),
      confirm: 'true',
      fingerprint: String(stale.body['fingerprint']),
    });
    expect(refused.status).toBe(409);
    expect(await committed(t(TOPICS.ROUTED), 3)).toHaveLength(3);

    // Without a filter the list holds seven: more than the console redrives at once.
    await page.goto(`${url}/dead-letters`);
    await page.getByRole('button', { name: 'Preview redrive' }).click();
    const tooLarge = await page.locator('#redrive-set-outcome').innerText();
    expect(tooLarge).toContain(`more than ${MAX_SET_SIZE} dead letters`);
    expect(await page.getByRole('button', { name: /^Redrive \d+ dead letter/ }).count()).toBe(0);
    await shot('redrive-set-too-large');
    expect((await api('/api/dead-letters/set/preview', {})).status).toBe(422);

    // The fresh preview sends the late one, once.
    const fresh = await api('/api/dead-letters/set/preview', SET_FILTER());
    const done = await api('/api/dead-letters/set/confirm', {
      ...SET_FILTER(),
      confirm: 'true',
      fingerprint: String(fresh.body['fingerprint']),
    });
    expect(done.status).toBe(200);
    expect((done.body['redriven'] as { grantId: string }[]).map((r) => r.grantId)).toEqual([late]);
    const sent = await committed(t(TOPICS.ROUTED), 4);
    expect(sent.map((m) => m.key?.toString()).sort()).toEqual([...retried, late].sort());
  });

  it('gives a viewer no redrive button, and the API refuses the viewer', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in$/);
    await signIn('vera');
    await filterTheSet();
    expect(await page.locator('tbody tr').count()).toBe(5);
    expect(await page.getByRole('button', { name: 'Preview redrive' }).count()).toBe(0);
    expect(await page.locator('form[action^="/dead-letters/set"]').count()).toBe(0);
    await shot('dead-letters-viewer');
    const preview = await api('/api/dead-letters/set/preview', SET_FILTER());
    expect(preview.status).toBe(403);
    const confirm = await api('/api/dead-letters/set/confirm', {
      ...SET_FILTER(),
      confirm: 'true',
      fingerprint: 'f'.repeat(64),
    });
    expect(confirm.status).toBe(403);
    const pageForm = await page.request.post(`${url}/dead-letters/set/confirm`, {
      form: {
        ...SET_FILTER(),
        confirm: 'yes',
        fingerprint: 'f'.repeat(64),
        _csrf: await csrfOfPage(),
      },
    });
    expect(pageForm.status()).toBe(403);
    expect(await committed(t(TOPICS.ROUTED), 4)).toHaveLength(4);
  });
});
