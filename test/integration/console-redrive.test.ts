// Guarantee: an operator can send a dead letter back from the console, once:
// after a dry run shown on the page and a confirmation, the original key,
// value and headers reach the source topic exactly once, committed together
// with a REDRIVEN audit event that names the operator; a second request is
// refused as already redriven and sends nothing; a viewer sees no redrive
// form and the console refuses the viewer's request. Real console process,
// real broker and registry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEventV1Avro, AuditEventV1Schema, DLQ_HEADERS, TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, uniqueName } from '@grantstream/testing';
import {
  CONSOLE_PORTS,
  startConsole,
  stopConsole,
  writeConsoleOverlay,
  writeUsersFile,
  type RunningConsole,
} from '../support/console';
import { createScopedTopics, deleteScopedTopics } from '../support/scoped-topics';

const PASSWORD = 'redrive with care';

/** One signed-in user's requests, its session cookie kept. */
class Session {
  private cookie = '';
  csrf = '';
  constructor(private readonly base: string) {}
  async request(method: string, path: string, body?: URLSearchParams) {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body: body.toString() } : {}),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0] ?? '';
    return { status: res.status, text: await res.text() };
  }
  async signIn(username: string): Promise<void> {
    const form = await this.request('GET', '/sign-in');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    const res = await this.request(
      'POST',
      '/sign-in',
      new URLSearchParams({ _csrf: csrf, username, password: PASSWORD }),
    );
    if (res.status !== 303) throw new Error(`sign-in of ${username}: ${res.status}`);
    this.csrf =
      /name="_csrf" value="([^"]+)"/.exec((await this.request('GET', '/grants')).text)?.[1] ?? '';
  }
}

describe('console redrive', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'console-redrive-'));
  const overlay = join(dir, 'overlay.yaml');
  const scope = uniqueName('redrive').replace(/[^A-Za-z0-9.-]/g, '-');
  const grant = `NSF-2026-RD${Date.now().toString(36).toUpperCase()}`;
  let clients: PlatformClients;
  let topics: Map<string, string>;
  let consoleRun: RunningConsole | null = null;
  let url = '';
  const t = (name: string) => topics.get(name) ?? name;

  const writeOverlay = (port: number) =>
    writeConsoleOverlay(overlay, {
      dir,
      port,
      topics: { audit: t(TOPICS.AUDIT), status: t(TOPICS.STATUS), deadLetters: t(TOPICS.DLQ) },
      console: [`  redrive: { transactionalId: ${scope}.redrive }`],
      pollIntervalMs: 200,
    });

  beforeAll(async () => {
    clients = await testClients(config);
    topics = await createScopedTopics(
      clients,
      [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ, TOPICS.ROUTED],
      scope,
    );
    await clients.io.produce(t(TOPICS.DLQ), [
      {
        key: grant,
        value: Buffer.from('the original payload'),
        headers: {
          'x-upstream': 'kept as it was',
          [DLQ_HEADERS.STAGE]: 'submission',
          [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
          [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
          [DLQ_HEADERS.REASON]: 'the portal timed out five times',
          [DLQ_HEADERS.SOURCE_TOPIC]: t(TOPICS.ROUTED),
          [DLQ_HEADERS.SOURCE_PARTITION]: '0',
          [DLQ_HEADERS.SOURCE_OFFSET]: '12',
          [DLQ_HEADERS.FAILED_AT]: new Date().toISOString(),
        },
      },
    ]);
    writeOverlay(CONSOLE_PORTS.first);
    await writeUsersFile(dir, overlay, PASSWORD, [
      ['otto', 'operator'],
      ['vera', 'viewer'],
    ]);
    consoleRun = await startConsole(overlay, writeOverlay);
    url = consoleRun.url;
  }, 240_000);

  afterAll(async () => {
    await stopConsole(consoleRun);
    if (topics) await deleteScopedTopics(clients, topics);
    await clients?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redrives a dead letter once, recorded as a REDRIVEN event naming the operator; a viewer cannot', async () => {
    const otto = new Session(url);
    await otto.signIn('otto');
    let position = '';
    await expect
      .poll(
        async () => {
          const r = await otto.request('GET', '/api/dead-letters');
          const list = (JSON.parse(r.text) as { deadLetters: { position: string }[] }).deadLetters;
          position = list[0]?.position ?? '';
          return list.length;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(1);
    const preview = await otto.request('GET', `/dead-letters/${position}`);
    expect(preview.text).toContain(
      `Dry run: would send the original message back to ${t(TOPICS.ROUTED)} (redrive 1)`,
    );

    // Without the confirmation nothing is sent.
    const unconfirmed = await otto.request(
      'POST',
      `/dead-letters/${position}/redrive`,
      new URLSearchParams({ _csrf: otto.csrf }),
    );
    expect(unconfirmed.status).toBe(400);

    const done = await otto.request(
      'POST',
      `/dead-letters/${position}/redrive`,
      new URLSearchParams({ _csrf: otto.csrf, confirm: 'yes' }),
    );
    expect(done.status, done.text).toBe(200);
    expect(done.text).toContain(`Redriven to ${t(TOPICS.ROUTED)} by otto.`);

    const sent = await clients.io.read(t(TOPICS.ROUTED), {
      expected: 1,
      timeoutMs: 30_000,
      isolation: 'read_committed',
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.key?.toString()).toBe(grant);
    expect(sent[0]?.value?.toString()).toBe('the original payload');
    expect(sent[0]?.headers['x-upstream']?.toString()).toBe('kept as it was');
    expect(sent[0]?.headers[DLQ_HEADERS.REASON]).toBeUndefined();
    expect(sent[0]?.headers[DLQ_HEADERS.REDRIVE_COUNT]?.toString()).toBe('1');

    const audit = await clients.io.read(t(TOPICS.AUDIT), {
      expected: 1,
      timeoutMs: 30_000,
      isolation: 'read_committed',
    });
    expect(audit).toHaveLength(1);
    const event = AuditEventV1Schema.parse(
      (await clients.serde.decodeAs(audit[0]!.value, AuditEventV1Avro)).value,
    );
    expect(event).toMatchObject({
      grant_id: grant,
      action: 'REDRIVEN',
      service_name: 'grantstream-console',
    });
    expect(event.details).toMatchObject({
      operator: 'otto',
      to_topic: t(TOPICS.ROUTED),
      redrive_count: '1',
    });

    // Once the console has read its own REDRIVEN event, a second request is refused and sends nothing.
    await expect
      .poll(
        async () => {
          const r = await otto.request(
            'POST',
            `/dead-letters/${position}/redrive`,
            new URLSearchParams({ _csrf: otto.csrf, confirm: 'yes' }),
          );
          return r.status === 409 && r.text.includes('already redriven');
        },
        { timeout: 30_000, interval: 300 },
      )
      .toBe(true);
    const after = await clients.io.read(t(TOPICS.ROUTED), {
      expected: 2,
      timeoutMs: 3_000,
      isolation: 'read_committed',
    });
    expect(after).toHaveLength(1);

    const vera = new Session(url);
    await vera.signIn('vera');
    expect((await vera.request('GET', `/dead-letters/${position}`)).text).not.toContain('/redrive');
    const refused = await vera.request(
      'POST',
      `/dead-letters/${position}/redrive`,
      new URLSearchParams({ _csrf: vera.csrf, confirm: 'yes' }),
    );
    expect(refused.status).toBe(403);
    expect(
      await clients.io.read(t(TOPICS.ROUTED), {
        expected: 2,
        timeoutMs: 3_000,
        isolation: 'read_committed',
      }),
    ).toHaveLength(1);
  });
});
