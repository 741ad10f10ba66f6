import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, buildAuditEvent, payloadHashOf } from '@grantstream/audit';
import { DLQ_HEADERS } from '@grantstream/contracts';
import { createLogger } from '@grantstream/logging';
import { ReadModelStore, auditRowOf, deadLetterRowOf } from '@grantstream/read-model';
import { LocalUsersProvider } from '../auth/identity-provider';
import { SessionStore } from '../auth/sessions';
import { inTestPortRange, testConsoleSection, testUsers } from '../test-support/console-fixture';
import { ConsoleServer } from './console-server';

const SCRIPT = '<script>alert("owned")</script>';
const GRANT = 'NSF-2026-XSS01';

/** A browser's cookie jar for one console: the session cookie only. */
class Client {
  cookie = '';
  constructor(readonly base: string) {}
  async request(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ) {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(init.headers ?? {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0] ?? '';
    return { status: res.status, headers: res.headers, text: await res.text() };
  }
  form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request('POST', path, {
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  }
  /** The CSRF token of the page's first form. */
  static csrfOf(page: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  }
  async signIn(username: string, password: string): Promise<string> {
    const form = await this.request('GET', '/sign-in');
    const res = await this.form('/sign-in', {
      _csrf: Client.csrfOf(form.text),
      username,
      password,
      next: '/grants',
    });
    if (res.status !== 303) throw new Error(`sign-in of ${username} answered ${res.status}`);
    return Client.csrfOf((await this.request('GET', '/grants')).text);
  }
}

describe('console security', () => {
  let server: ConsoleServer;
  let store: ReadModelStore;
  let base: string;
  let password: (name: string) => string;

  beforeAll(async () => {
    store = ReadModelStore.open(':memory:');
    const { event } = buildAuditEvent(
      {
        grantId: GRANT,
        funderId: 'NSF',
        auditTrailId: 'trail-xss',
        stage: 'ingest',
        action: 'VALIDATED',
        payloadHash: payloadHashOf(Buffer.from('x')),
        service: { name: 'ingest', version: '1' },
        occurredAt: Date.UTC(2026, 0, 5),
        source: { topic: 'grants.ingest.v1', partition: 0, offset: 1 },
        details: { title: SCRIPT, attachment_filename: `budget${SCRIPT}.pdf` },
      },
      AUDIT_GENESIS_HASH,
    );
    store.apply({
      audit: [auditRowOf({ partition: 0, offset: '0' }, `${GRANT}:${event.event_id}`, event)],
      statuses: [],
      deadLetters: [
        deadLetterRowOf({
          topic: 'grants.dlq.v1',
          partition: 0,
          offset: '3',
          key: Buffer.from(GRANT),
          value: Buffer.from(SCRIPT),
          headers: {
            [DLQ_HEADERS.REASON]: Buffer.from(SCRIPT),
            [DLQ_HEADERS.STAGE]: Buffer.from('ingest'),
          },
          timestamp: '0',
        }),
      ],
      positions: [],
    });
    const fixture = await testUsers();
    password = fixture.password;
    const readModel = {
      storePath: ':memory:',
      topics: { audit: 'a', status: 's', deadLetters: 'd' },
      maxBytesPerFetch: 1024,
      maxWaitMs: 10,
      maxEmptyFetches: 1,
      pollIntervalMs: 10,
      maxBatchRecords: 1,
    };
    base = await inTestPortRange(async (port) => {
      const settings = testConsoleSection(readModel, port);
      server = new ConsoleServer({
        store,
        lag: () => ({ topics: [], total: 0, measuredAt: null, caughtUpAt: null, lastError: null }),
        identity: new LocalUsersProvider(fixture.users, settings.scrypt.maxMemoryBytes),
        sessions: new SessionStore(settings.session),
        decode: () => Promise.reject(new Error('no registry in this test')),
        // Only the role checks are under test here; the redrive itself runs against the broker in console-redrive.test.ts.
        redriver: {
          preview: (d) =>
            Promise.resolve({
              kind: 'refused',
              entry: d.entry,
              reason: 'preview only',
              unreadable: false,
            }),
          redrive: () => Promise.reject(new Error('a refused request reached the redriver')),
          previewSet: () => Promise.resolve({ redriven: [], skipped: [] }),
          redriveSet: () => Promise.reject(new Error('a refused request reached the redriver')),
        },
        settings,
        logger: createLogger({ service: 'console-test', level: 'silent' }),
        now: Date.now,
      });
      return server.listen();
    });
  });

  afterAll(async () => {
    await server.close();
    store.close();
  });

  it('refuses every page and API without a session: pages redirect to sign-in, APIs answer 401', async () => {
    const anonymous = new Client(base);
    const guarded = server.routes.filter((r) => r.access !== 'public');
    expect(guarded.length).toBeGreaterThan(10);
    for (const r of guarded) {
      const path = r.path.replace(':id', encodeURIComponent(GRANT)).replace(':position', '0:3');
      const res = await anonymous.request(r.method, path);
      if (r.api) expect(res.status, `${r.method} ${path}`).toBe(401);
      else if (r.method === 'GET') {
        expect(res.status, `${r.method} ${path}`).toBe(303);
        expect(res.headers.get('location')).toMatch(/^\/sign-in\?next=/);
      } else expect([303, 401, 403], `${r.method} ${path}`).toContain(res.status);
      expect(res.text).not.toContain(GRANT);
    }
  });

  it('signs in with a HttpOnly SameSite=Strict cookie and a new session id', async () => {
    const c = new Client(base);
    const form = await c.request('GET', '/sign-in');
    const before = c.cookie;
    expect(form.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const res = await c.form('/sign-in', {
      _csrf: Client.csrfOf(form.text),
      username: 'vera',
      password: password('vera'),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(
      /^gs_console_test=[^;]+; Path=\/; HttpOnly; SameSite=Strict/,
    );
    expect(c.cookie).not.toBe(before);
    expect((await c.request('GET', '/grants')).status).toBe(200);
  });

  it('refuses a wrong password without saying which part was wrong', async () => {
    const c = new Client(base);
    const form = await c.request('GET', '/sign-in');
    const res = await c.form('/sign-in', {
      _csrf: Client.csrfOf(form.text),
      username: 'vera',
      password: 'nope',
    });
    expect(res.status).toBe(401);
    expect(res.text).toContain('unknown user name or wrong password');
    expect((await c.request('GET', '/grants')).status).toBe(303);
  });

  it('refuses a state change with a missing or forged CSRF token, or from another origin', async () => {
    const c = new Client(base);
    const form = await c.request('GET', '/sign-in');
    const token = Client.csrfOf(form.text);
    // Sign-in itself is a state change.
    expect(
      (await c.form('/sign-in', { username: 'vera', password: password('vera') })).status,
    ).toBe(403);
    expect(
      (
        await c.form('/sign-in', {
          _csrf: `${token}x`,
          username: 'vera',
          password: password('vera'),
        })
      ).status,
    ).toBe(403);
    const csrf = await c.signIn('vera', password('vera'));
    expect((await c.form('/sign-out', {})).status).toBe(403);
    expect((await c.form('/sign-out', { _csrf: 'forged' })).status).toBe(403);
    expect(
      (await c.form('/sign-out', { _csrf: csrf }, { origin: 'http://evil.example' })).status,
    ).toBe(403);
    // Still signed in after every refusal; the genuine token signs out.
    expect((await c.request('GET', '/grants')).status).toBe(200);
    expect((await c.form('/sign-out', { _csrf: csrf })).status).toBe(303);
    expect((await c.request('GET', '/grants')).status).toBe(303);
  });

  it('refuses what a role does not hold: a viewer gets no evidence bundle, an auditor does', async () => {
    const viewer = new Client(base);
    await viewer.signIn('vera', password('vera'));
    const path = `/grants/${encodeURIComponent(GRANT)}`;
    expect((await viewer.request('GET', `${path}/evidence.html`)).status).toBe(403);
    expect((await viewer.request('GET', path)).text).not.toContain('evidence.html');
    const auditor = new Client(base);
    await auditor.signIn('aude', password('aude'));
    const bundle = await auditor.request('GET', `${path}/evidence.html`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it("refuses a viewer's and an auditor's redrive, with a valid CSRF token, and shows them no redrive form", async () => {
    for (const name of ['vera', 'aude']) {
      const c = new Client(base);
      const csrf = await c.signIn(name, password(name));
      const page = await c.request('GET', '/dead-letters/0:3');
      expect(page.text).not.toContain('/redrive');
      expect(
        (await c.form('/dead-letters/0:3/redrive', { _csrf: csrf, confirm: 'yes' })).status,
      ).toBe(403);
      const api = await c.request('POST', '/api/dead-letters/0:3/redrive', {
        body: JSON.stringify({ confirm: true }),
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      });
      expect(api.status).toBe(403);
    }
    const operator = new Client(base);
    await operator.signIn('otto', password('otto'));
    expect((await operator.request('GET', '/dead-letters/0:3')).text).toContain(
      'action="/dead-letters/0:3/redrive"',
    );
  });

  it('renders a script payload in grant metadata, an attachment filename and a dead letter as text', async () => {
    const c = new Client(base);
    await c.signIn('otto', password('otto'));
    const escaped = '&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;';
    const grant = await c.request('GET', `/grants/${encodeURIComponent(GRANT)}`);
    expect(grant.status).toBe(200);
    expect(grant.text).not.toContain('<script');
    expect(grant.text).toContain(escaped);
    expect(grant.text).toContain(`budget${escaped}.pdf`);
    const letter = await c.request('GET', '/dead-letters/0:3');
    expect(letter.status).toBe(200);
    expect(letter.text).not.toContain('<script');
    expect(letter.text).toContain(escaped);
    // Not Avro: shown as hex, with why.
    expect(letter.text).toContain('not in the Confluent wire format');
    expect(grant.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
