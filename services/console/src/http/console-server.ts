import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GrantLogger } from '@grantstream/logging';
import type { ProjectionLag, ReadModelStore } from '@grantstream/read-model';
import type { PasswordIdentityProvider } from '../auth/identity-provider';
import { allows, type Permission, type Principal } from '../auth/roles';
import { sameToken, type Session, type SessionStore } from '../auth/sessions';
import type { ConsoleSection } from '../console.config';
import type { PipelineMonitor } from '../pipeline/pipeline-monitor';
import type { ChartHistory } from '../charts/chart-history';
import type { FundersMonitor } from '../funders/funders-monitor';
import type { Redriver } from '../redrive/console-redriver';
import { CONSOLE_CSS } from './layout';
import { BodyTooLargeError, cookiesOf, fieldsOf, readBody } from './request';
import { consoleRoutes } from './routes';

/** A decoded Avro value and the writer schema id it was written with. */
export interface DecodedValue {
  schemaId: number;
  value: unknown;
}

/** What the console reads and who it asks: the read model, the projector's lag, sign-in, the Avro decoder. */
export interface ConsoleDeps {
  store: ReadModelStore;
  lag(): ProjectionLag;
  identity: PasswordIdentityProvider;
  sessions: SessionStore;
  /** Decodes a Confluent wire-format value with its writer schema from the registry. */
  decode(value: Buffer): Promise<DecodedValue>;
  /** Sends dead letters back for operators. */
  redriver: Redriver;
  settings: ConsoleSection;
  /** The stages' health and metrics for the pipeline page; absent, the page says so. */
  pipeline?: PipelineMonitor;
  /** The funders page's figures and deadlines; absent, the page is unavailable. */
  funders?: FundersMonitor;
  /** The console's chart samples (pipeline and funders pages). */
  charts?: ChartHistory;
  logger: GrantLogger;
  now(): number;
}

/** A response: status, content type, body and any extra headers. */
export interface Reply {
  status: number;
  type?: string;
  body: string | Buffer;
  headers?: Record<string, string | string[]>;
}

/** What a handler gets: the request's URL and path parameters, its session, principal and fields. */
export interface RequestContext {
  url: URL;
  params: Record<string, string>;
  session: Session | null;
  /** Set on every route that is not public (the server refused the request otherwise). */
  principal: Principal | null;
  /** Form or JSON fields of a POST. */
  fields: URLSearchParams;
  /** The Set-Cookie value for a session. */
  sessionCookie(session: Session): string;
  /** The Set-Cookie value that ends the session cookie. */
  clearedCookie(): string;
}

/**
 * One route. `access` is `public` (sign-in, health, the stylesheet) or the
 * permission a signed-in user needs; `api` routes answer in JSON (401 without
 * a session), pages redirect to sign-in instead.
 */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  access: 'public' | Permission;
  api: boolean;
  handle(ctx: RequestContext, deps: ConsoleDeps): Promise<Reply>;
  /**
   * A live feed instead of one reply: the server has sent the event-stream
   * headers; the route writes events to `res` until it or the client ends it.
   */
  stream?(ctx: RequestContext, deps: ConsoleDeps, res: ServerResponse): void;
}

function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i += 1) {
    const want = p[i] ?? '';
    const got = s[i] ?? '';
    if (want.startsWith(':')) {
      if (got === '') return null;
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) return null;
  }
  return params;
}

/**
 * Headers on every answer: no script but the console's own files may run
 * (and reach only the console), nothing is framed, cached or sniffed.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own forms.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const json = (status: number, body: unknown): Reply => ({
  status,
  type: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

/** The stylesheet route and the health route: public, and they show nothing about grants. */
const BUILT_IN: Route[] = [
  {
    method: 'GET',
    path: '/assets/console.css',
    access: 'public',
    api: false,
    handle: () =>
      Promise.resolve({ status: 200, type: 'text/css; charset=utf-8', body: CONSOLE_CSS }),
  },
  {
    method: 'GET',
    path: '/healthz',
    access: 'public',
    api: true,
    handle: () => Promise.resolve(json(200, { ok: true })),
  },
];

/**
 * The console's HTTP server (node:http, no framework: NestJS owns the
 * lifecycle, see console.module.ts). Every request is checked in one place
 * before any handler runs: a session for every route that is not public,
 * the route's permission for the user's role, and for every POST a body
 * within the limit, a CSRF token equal to the session's and, when the
 * browser sends one, an Origin of this console.
 */
export class ConsoleServer {
  readonly routes: readonly Route[] = [...BUILT_IN, ...consoleRoutes()];
  private server: Server | null = null;
  private origin = '';

  constructor(private readonly deps: ConsoleDeps) {}

  /** Listens on the configured host and port (0: any free port); returns the console's URL. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.deps.logger.error({ err, path: req.url }, 'console request failed');
        if (!res.headersSent)
          this.send(res, { status: 500, type: 'text/plain', body: 'internal error' });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.deps.settings.port, this.deps.settings.host, () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const host = this.deps.settings.host.includes(':')
      ? `[${this.deps.settings.host}]`
      : this.deps.settings.host;
    this.origin = `http://${host}:${port}`;
    return this.origin;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private send(res: ServerResponse, reply: Reply): void {
    res.writeHead(reply.status, {
      ...SECURITY_HEADERS,
      'content-type': reply.type ?? 'text/html; charset=utf-8',
      ...(reply.headers ?? {}),
    });
    res.end(reply.body);
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    const s = this.deps.settings.session;
    return [
      `${s.cookieName}=${value}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Strict',
      `Max-Age=${maxAgeSeconds}`,
      ...(s.secureCookie ? ['Secure'] : []),
    ].join('; ');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let route: Route | undefined;
    let params: Record<string, string> = {};
    let pathKnown = false;
    for (const r of this.routes) {
      const m = match(r.path, url.pathname);
      if (m === null) continue;
      pathKnown = true;
      if (r.method === method) {
        route = r;
        params = m;
        break;
      }
    }
    if (!route) {
      if (url.pathname === '/')
        return this.send(res, { status: 303, body: '', headers: { location: '/grants' } });
      return this.send(
        res,
        pathKnown
          ? { status: 405, type: 'text/plain', body: 'method not allowed' }
          : { status: 404, type: 'text/plain', body: 'not found' },
      );
    }
    const settings = this.deps.settings;
    const session = this.deps.sessions.get(cookiesOf(req).get(settings.session.cookieName));
    const principal = session?.principal ?? null;
    if (route.access !== 'public') {
      if (principal === null) {
        return this.send(
          res,
          route.api
            ? json(401, { error: 'sign in first' })
            : {
                status: 303,
                body: '',
                headers: {
                  location: `/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`,
                },
              },
        );
      }
      if (!allows(principal.role, route.access)) {
        return this.send(
          res,
          route.api
            ? json(403, { error: `your role (${principal.role}) may not do this` })
            : {
                status: 403,
                type: 'text/plain',
                body: `Forbidden: your role (${principal.role}) may not do this.`,
              },
        );
      }
    }
    let fields = new URLSearchParams();
    if (method === 'POST') {
      // Cross-site requests are refused by origin when the browser says where it is.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== this.origin) {
        return this.send(res, json(403, { error: 'cross-origin request refused' }));
      }
      let body: Buffer;
      try {
        body = await readBody(req, settings.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError)
          return this.send(res, json(413, { error: 'request body too large' }));
        throw err;
      }
      fields = fieldsOf(req.headers['content-type'], body);
      const header = req.headers['x-csrf-token'];
      const token = (typeof header === 'string' ? header : undefined) ?? fields.get('_csrf') ?? '';
      if (session === null || token === '' || !sameToken(token, session.csrfToken)) {
        return this.send(res, json(403, { error: 'missing or invalid CSRF token' }));
      }
    }
    const ctx: RequestContext = {
      url,
      params,
      session,
      principal,
      fields,
      sessionCookie: (s) => this.cookie(s.id, Math.floor(settings.session.ttlMs / 1000)),
      clearedCookie: () => this.cookie('', 0),
    };
    if (route.stream && method === 'GET') {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
      });
      route.stream(ctx, this.deps, res);
      return;
    }
    const reply = await route.handle(ctx, this.deps);
    this.send(res, req.method === 'HEAD' ? { ...reply, body: '' } : reply);
  }
}
