import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@grantstream/logging';
import { allows, ROLES, type Role } from '../auth/roles';
import { SessionStore } from '../auth/sessions';
import { inTestPortRange, testConsoleSection } from '../test-support/console-fixture';
import { ConsoleServer, type ConsoleDeps, type Route } from './console-server';

/*
 * The guard in front of every route, checked over the list the server
 * dispatches from (ConsoleServer.routes), so a route added anywhere is
 * checked without this file naming it. The server here has sessions and
 * settings but no store, identity provider, decoder or redriver: only the
 * guard can answer, and a request that slipped past it would reach a handler
 * with nothing to work with and fail with 500 instead of being refused.
 */

/** What anyone may reach without signing in: the sign-in form and its POST, health, and the console's own static files. */
function mayBePublic(r: Route): boolean {
  return r.path === '/sign-in' || r.path === '/healthz' || /^\/assets\/[\w.-]+$/.test(r.path);
}

/** The route's path with every parameter filled in (the guard runs before any parameter is read). */
function pathOf(r: Route): string {
  return r.path.replace(/:[A-Za-z]+/g, (p) => (p === ':position' ? '0:3' : 'NSF-2026-00001'));
}

const readModel = {
  storePath: ':memory:',
  topics: { audit: 'a', status: 's', deadLetters: 'd' },
  maxBytesPerFetch: 1024,
  maxWaitMs: 10,
  maxEmptyFetches: 1,
  pollIntervalMs: 10,
  maxBatchRecords: 1,
};
const settings = testConsoleSection(readModel, 0);
const sessions = new SessionStore(settings.session);
const deps = {
  settings,
  sessions,
  logger: createLogger({ service: 'console-test', level: 'silent' }),
  now: Date.now,
} as Partial<ConsoleDeps> as ConsoleDeps;
const routes = new ConsoleServer(deps).routes;
const guarded = routes.filter((r) => r.access !== 'public');
const posts = routes.filter((r) => r.method === 'POST');
const name = (r: Route) => `${r.method} ${r.path}`;

describe("the console router's guard", () => {
  let server: ConsoleServer;
  let base = '';

  beforeAll(async () => {
    base = await inTestPortRange(async (port) => {
      server = new ConsoleServer({ ...deps, settings: { ...settings, port } });
      return server.listen();
    });
  });

  afterAll(async () => {
    await server.close();
  });

  const request = async (
    method: string,
    path: string,
    init: { cookie?: string; body?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(base + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(init.cookie ? { cookie: `${settings.session.cookieName}=${init.cookie}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(init.headers ?? {}),
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  const signedIn = (role: Role) => sessions.create({ username: role, role, provider: 'local' });

  it('has routes to check, and opens only sign-in, health and static files to everyone', () => {
    expect(guarded.length).toBeGreaterThan(10);
    expect(posts.length).toBeGreaterThan(2);
    const open = routes.filter((r) => r.access === 'public');
    expect(open.filter((r) => !mayBePublic(r)).map(name)).toEqual([]);
  });

  it.each(guarded.map((r) => [name(r), r] as const))(
    '%s without a signed-in session: a page redirects to sign-in, an API answers 401',
    async (_name, r) => {
      const path = pathOf(r);
      // No cookie, a forged session id, and a session that never signed in (the sign-in form's own).
      const anonymous = sessions.create(null);
      for (const cookie of [undefined, 'forged-session-id', anonymous.id]) {
        const methods = r.method === 'GET' ? ['GET', 'HEAD'] : [r.method];
        for (const method of methods) {
          const init = {
            ...(cookie !== undefined ? { cookie } : {}),
            ...(method === 'POST' ? { body: `_csrf=${anonymous.csrfToken}` } : {}),
          };
          const res = await request(method, path, init);
          const what = `${method} ${path} with ${cookie ?? 'no cookie'}`;
          if (r.api) {
            expect(res.status, what).toBe(401);
          } else {
            expect(res.status, what).toBe(303);
            expect(res.headers.get('location'), what).toBe(
              `/sign-in?next=${encodeURIComponent(path)}`,
            );
          }
        }
      }
    },
  );

  it.each(posts.map((r) => [name(r), r] as const))(
    '%s with a missing, forged or another session’s CSRF token is refused before its handler',
    async (_name, r) => {
      const path = pathOf(r);
      // An operator holds every permission: only the CSRF check can refuse.
      const session = signedIn('operator');
      const other = signedIn('operator');
      const tokens: [string, Record<string, string>][] = [
        ['missing', {}],
        ['empty', { _csrf: '' }],
        ['forged', { _csrf: `${session.csrfToken.slice(0, -2)}xx` }],
        ["another session's", { _csrf: other.csrfToken }],
      ];
      for (const [what, fields] of tokens) {
        const form = await request('POST', path, {
          cookie: session.id,
          body: new URLSearchParams(fields).toString(),
        });
        expect(form.status, `${what} token in the form`).toBe(403);
        expect(form.text).toContain('CSRF');
        const header = await request('POST', path, {
          cookie: session.id,
          body: '',
          headers: { 'x-csrf-token': fields['_csrf'] ?? '' },
        });
        expect(header.status, `${what} token in the header`).toBe(403);
      }
    },
  );

  const beyond = ROLES.flatMap((role) =>
    guarded
      .filter((r) => r.access !== 'public' && !allows(role, r.access))
      .map((r) => [`${role}: ${name(r)}`, role, r] as const),
  );

  it('refuses some route to every role but the operator (a viewer cannot redrive)', () => {
    expect(beyond.filter(([, role]) => role === 'viewer').length).toBeGreaterThan(0);
    expect(beyond.filter(([, role]) => role === 'operator')).toEqual([]);
    expect(
      guarded.filter((r) => r.access === 'redrive' && r.method === 'POST').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it.each(beyond)(
    '%s beyond the role is refused with 403, even with a valid CSRF token',
    async (_name, role, r) => {
      const session = signedIn(role);
      const res = await request(r.method, pathOf(r), {
        cookie: session.id,
        ...(r.method === 'POST'
          ? { body: new URLSearchParams({ _csrf: session.csrfToken, confirm: 'yes' }).toString() }
          : {}),
      });
      expect(res.status).toBe(403);
      expect(res.text).toContain(`your role (${role}) may not do this`);
    },
  );
});
