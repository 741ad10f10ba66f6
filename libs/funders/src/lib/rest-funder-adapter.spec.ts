import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PortalCall } from './funder-api-metrics';
import { MAX_PORTAL_RESPONSE_BYTES, RestFunderAdapter } from './rest-funder-adapter';

interface Hit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (hit: Hit, res: ServerResponse) => void;

const NOW = Date.parse('2026-03-01T12:00:00Z');
const TOKEN = 'tok-secret-123';

function reply(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

describe('RestFunderAdapter against a local portal', () => {
  const hits: Hit[] = [];
  let handler: Handler = (_hit, res) => reply(res, 500);
  let base = '';
  // A fresh server per test: a new port is a new origin, so fetch's connection pool never hands one
  // test a socket another test left hanging.
  let server: Server;
  const startServer = () =>
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const hit = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        hits.push(hit);
        handler(hit, res);
      });
    });

  const adapter = (overrides: { baseUrl?: string; timeoutMs?: number } = {}): RestFunderAdapter =>
    new RestFunderAdapter(
      { funderId: 'NSF', baseUrl: base, token: TOKEN, timeoutMs: 2000, ...overrides },
      { now: () => NOW },
    );
  const request = {
    grantId: 'NSF-2026-00042',
    idempotencyKey: 'gs1-key',
    body: { grant_id: 'NSF-2026-00042' },
  };

  beforeEach(async () => {
    server = startServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    hits.length = 0;
  });

  describe('submit', () => {
    it('posts the body with bearer token and Idempotency-Key, and reads a 201 as a new filing', async () => {
      handler = (_hit, res) =>
        reply(res, 201, { tracking_number: 'GRANT00001', status: 'RECEIVED' });
      const outcome = await adapter().submit(request);
      expect(outcome).toEqual({
        kind: 'accepted',
        trackingNumber: 'GRANT00001',
        status: 'RECEIVED',
        created: true,
      });
      expect(hits).toHaveLength(1);
      const hit = hits[0];
      expect(hit?.method).toBe('POST');
      expect(hit?.url).toBe('/v2/submissions');
      expect(hit?.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(hit?.headers['idempotency-key']).toBe('gs1-key');
      expect(hit?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(hit?.body ?? '')).toEqual(request.body);
    });

    it('reads a 200 as the portal replaying an earlier filing with the same key', async () => {
      handler = (_hit, res) =>
        reply(res, 200, { tracking_number: 'GRANT00001', status: 'PROCESSING', extra: 'ignored' });
      expect(await adapter().submit(request)).toEqual({
        kind: 'accepted',
        trackingNumber: 'GRANT00001',
        status: 'PROCESSING',
        created: false,
      });
    });

    it('appends /v2/submissions to a base URL with a path and a trailing slash', async () => {
      handler = (_hit, res) => reply(res, 201, { tracking_number: 'T1', status: 'RECEIVED' });
      await adapter({ baseUrl: `${base}/portal/nsf/` }).submit(request);
      expect(hits[0]?.url).toBe('/portal/nsf/v2/submissions');
    });

    it.each([
      ['delta-seconds', '120', 120_000],
      ['an HTTP-date, against the injected clock', new Date(NOW + 90_000).toUTCString(), 90_000],
      ['an HTTP-date in the past', new Date(NOW - 5_000).toUTCString(), 0],
      ['an unreadable value', 'soon', null],
    ])('reads 429 with Retry-After as %s', async (_name, header, expected) => {
      handler = (_hit, res) => reply(res, 429, { error: 'slow down' }, { 'Retry-After': header });
      expect(await adapter().submit(request)).toEqual({
        kind: 'rate_limited',
        retryAfterMs: expected,
      });
    });

    it('reads 429 without Retry-After as rate limited with no delay known', async () => {
      handler = (_hit, res) => reply(res, 429);
      expect(await adapter().submit(request)).toEqual({ kind: 'rate_limited', retryAfterMs: null });
    });

    it.each([400, 422])(
      'reads %i as a terminal rejection with the portal’s errors',
      async (status) => {
        handler = (_hit, res) =>
          reply(res, status, {
            errors: [
              { field: 'budget.total', message: 'exceeds the program cap' },
              { field: null, message: 'narrative missing' },
            ],
          });
        expect(await adapter().submit(request)).toEqual({
          kind: 'rejected',
          httpStatus: status,
          messages: [
            { field: 'budget.total', message: 'exceeds the program cap' },
            { message: 'narrative missing' },
          ],
        });
      },
    );

    it('keeps a rejection terminal even when its error body is unreadable', async () => {
      handler = (_hit, res) => reply(res, 422, '<html>bad</html>', { 'Content-Type': 'text/html' });
      const outcome = await adapter().submit(request);
      expect(outcome.kind).toBe('rejected');
      expect(outcome).toMatchObject({
        httpStatus: 422,
        messages: [{ message: expect.stringContaining('HTTP 422') }],
      });
    });

    it('reads a single { error } body as the rejection’s message', async () => {
      handler = (_hit, res) => reply(res, 400, { error: 'body is not JSON' });
      expect(await adapter().submit(request)).toEqual({
        kind: 'rejected',
        httpStatus: 400,
        messages: [{ message: 'body is not JSON' }],
      });
    });

    it('reads another permanent 4xx (413) as a rejection', async () => {
      handler = (_hit, res) => reply(res, 413);
      expect(await adapter().submit(request)).toMatchObject({ kind: 'rejected', httpStatus: 413 });
    });

    it.each([500, 502, 503, 504])('reads %i as transient', async (status) => {
      handler = (_hit, res) => reply(res, status, { error: 'down' });
      expect(await adapter().submit(request)).toEqual({
        kind: 'transient',
        httpStatus: status,
        reason: `portal error (HTTP ${status})`,
        retryAfterMs: null,
      });
    });

    it('keeps the Retry-After of a 503', async () => {
      handler = (_hit, res) => reply(res, 503, undefined, { 'Retry-After': '30' });
      expect(await adapter().submit(request)).toMatchObject({
        kind: 'transient',
        httpStatus: 503,
        retryAfterMs: 30_000,
      });
    });

    it.each([408, 409, 425])('reads %i as transient: it passes on its own', async (status) => {
      handler = (_hit, res) => reply(res, status);
      expect(await adapter().submit(request)).toMatchObject({
        kind: 'transient',
        httpStatus: status,
      });
    });

    it.each([
      [401, 'credentials'],
      [403, 'credentials'],
      [404, 'base URL'],
      [405, 'base URL'],
    ])('reads %i as misconfigured (%s)', async (status, about) => {
      handler = (_hit, res) => reply(res, status);
      const outcome = await adapter().submit(request);
      expect(outcome).toMatchObject({ kind: 'misconfigured', httpStatus: status });
      expect(JSON.stringify(outcome)).toContain(about);
      expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    });

    it('does not follow a redirect (it would re-send the token elsewhere): misconfigured', async () => {
      handler = (_hit, res) =>
        reply(res, 308, undefined, { Location: 'https://portal.example/v2/submissions' });
      expect(await adapter().submit(request)).toEqual({
        kind: 'misconfigured',
        httpStatus: 308,
        reason:
          'portal redirected (HTTP 308) to https://portal.example/v2/submissions: fix the base URL',
      });
      expect(hits).toHaveLength(1);
    });

    it.each([
      ['not JSON', 'Internal <b>oops</b>', /not JSON/],
      ['empty', '', /empty body/],
      ['missing the tracking number', { status: 'RECEIVED' }, /tracking_number/],
      ['an unknown status', { tracking_number: 'T1', status: 'LOST' }, /status/],
      ['a JSON array', [], /\(body\)/],
    ])('reads a 201 whose body is %s as transient, not a crash', async (_name, body, reason) => {
      handler = (_hit, res) => reply(res, 201, body);
      const outcome = await adapter().submit(request);
      expect(outcome).toMatchObject({ kind: 'transient', httpStatus: 201 });
      expect(outcome.kind === 'transient' && outcome.reason).toMatch(reason);
    });

    it('reads an oversized body as transient without buffering it all', async () => {
      handler = (_hit, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(Buffer.alloc(MAX_PORTAL_RESPONSE_BYTES + 1, 0x20));
      };
      const outcome = await adapter().submit(request);
      expect(outcome).toMatchObject({ kind: 'transient', httpStatus: 201 });
      expect(outcome.kind === 'transient' && outcome.reason).toMatch(/larger than/);
    });

    it('reads a portal that never answers as timed out (outcome unknown)', async () => {
      handler = () => undefined;
      const started = Date.now();
      expect(await adapter({ timeoutMs: 100 }).submit(request)).toEqual({ kind: 'timed_out' });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(hits).toHaveLength(1);
    });

    it('reads a body that stops half way as timed out: the timeout covers the body', async () => {
      handler = (_hit, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.write('{"tracking_number":');
      };
      expect(await adapter({ timeoutMs: 100 }).submit(request)).toEqual({ kind: 'timed_out' });
    });

    it('reads a dropped connection as a transient network error', async () => {
      handler = (_hit, res) => res.socket?.destroy();
      const outcome = await adapter().submit(request);
      expect(outcome).toMatchObject({ kind: 'transient', httpStatus: null, retryAfterMs: null });
      expect(outcome.kind === 'transient' && outcome.reason).toMatch(/^network error: /);
    });

    it('reads a refused connection as a transient network error', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const outcome = await adapter({ baseUrl: `http://127.0.0.1:${port}` }).submit(request);
      expect(outcome).toMatchObject({ kind: 'transient', httpStatus: null });
      expect(outcome.kind === 'transient' && outcome.reason).toMatch(/ECONNREFUSED/);
    });

    it('throws the caller’s abort reason instead of an outcome', async () => {
      handler = () => undefined;
      const controller = new AbortController();
      const shutdown = new Error('shutting down');
      setTimeout(() => controller.abort(shutdown), 50);
      await expect(adapter().submit(request, controller.signal)).rejects.toBe(shutdown);
    });

    it('makes no call when the caller’s signal is already aborted', async () => {
      const shutdown = new Error('shutting down');
      await expect(adapter().submit(request, AbortSignal.abort(shutdown))).rejects.toBe(shutdown);
      expect(hits).toHaveLength(0);
    });
  });

  describe('status', () => {
    const resource = {
      tracking_number: 'GRANT/00001',
      grant_id: 'NSF-2026-00042',
      status: 'AGENCY_TRACKING_NUMBER_ASSIGNED',
      status_history: [
        { status: 'RECEIVED', at: '2026-03-01T12:00:00Z' },
        { status: 'PROCESSING', at: NOW + 1000 },
        'VALIDATED',
        { status: 'AGENCY_TRACKING_NUMBER_ASSIGNED' },
      ],
      messages: ['filed', { field: 'budget', message: 'rounded' }],
      agency_tracking_number: 'AGY-7',
    };

    it('gets the submission by its (encoded) tracking number with the bearer token', async () => {
      handler = (_hit, res) => reply(res, 200, resource);
      expect(await adapter().status('GRANT/00001')).toEqual({
        kind: 'found',
        trackingNumber: 'GRANT/00001',
        grantId: 'NSF-2026-00042',
        status: 'AGENCY_TRACKING_NUMBER_ASSIGNED',
        messages: [{ message: 'filed' }, { field: 'budget', message: 'rounded' }],
        agencyTrackingNumber: 'AGY-7',
        history: [
          { status: 'RECEIVED', atMs: NOW },
          { status: 'PROCESSING', atMs: NOW + 1000 },
          { status: 'VALIDATED', atMs: null },
          { status: 'AGENCY_TRACKING_NUMBER_ASSIGNED', atMs: null },
        ],
      });
      expect(hits[0]).toMatchObject({ method: 'GET', url: '/v2/submissions/GRANT%2F00001' });
      expect(hits[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    });

    it('defaults a missing history and messages, and omits an absent agency number', async () => {
      handler = (_hit, res) => reply(res, 200, { tracking_number: 'T1', status: 'PROCESSING' });
      const outcome = await adapter().status('T1');
      expect(outcome).toEqual({
        kind: 'found',
        trackingNumber: 'T1',
        grantId: null,
        status: 'PROCESSING',
        messages: [],
        history: [],
      });
      expect(outcome).not.toHaveProperty('agencyTrackingNumber');
    });

    it.each([
      [404, { kind: 'not_found' }],
      [410, { kind: 'not_found' }],
      [429, { kind: 'rate_limited', retryAfterMs: 1000 }],
      [500, { kind: 'transient', httpStatus: 500 }],
      [401, { kind: 'misconfigured', httpStatus: 401 }],
      [400, { kind: 'misconfigured', httpStatus: 400 }],
    ])('reads %i as %o', async (status, expected) => {
      handler = (_hit, res) => reply(res, status, { error: 'x' }, { 'Retry-After': '1' });
      expect(await adapter().status('T1')).toMatchObject(expected);
    });

    it('reads a malformed 200 as transient', async () => {
      handler = (_hit, res) =>
        reply(res, 200, { tracking_number: 'T1', status: 'RECEIVED', status_history: [{}] });
      const outcome = await adapter().status('T1');
      expect(outcome).toMatchObject({ kind: 'transient', httpStatus: 200 });
      expect(outcome.kind === 'transient' && outcome.reason).toMatch(/status_history/);
    });

    it('reads a portal that never answers as timed out', async () => {
      handler = () => undefined;
      expect(await adapter({ timeoutMs: 100 }).status('T1')).toEqual({ kind: 'timed_out' });
    });
  });

  describe('lookup', () => {
    it('asks for the submission by idempotency key', async () => {
      handler = (_hit, res) => reply(res, 200, { tracking_number: 'T9', status: 'RECEIVED' });
      expect(await adapter().lookup('gs1-a+b/c')).toMatchObject({
        kind: 'found',
        trackingNumber: 'T9',
      });
      expect(hits[0]).toMatchObject({
        method: 'GET',
        url: '/v2/submissions?idempotency_key=gs1-a%2Bb%2Fc',
      });
    });

    it('reads 404 as never filed', async () => {
      handler = (_hit, res) => reply(res, 404, { error: 'unknown key' });
      expect(await adapter().lookup('gs1-x')).toEqual({ kind: 'not_found' });
    });
  });

  describe('call reports (funder API metrics)', () => {
    const reporting = (calls: PortalCall[], timeoutMs = 2000) =>
      new RestFunderAdapter(
        { funderId: 'NSF', baseUrl: base, token: TOKEN, timeoutMs },
        { now: () => NOW, onCall: (c) => calls.push(c) },
      );

    it('reports each exchange with its operation, HTTP status and duration', async () => {
      const calls: PortalCall[] = [];
      handler = (hit, res) =>
        hit.method === 'POST'
          ? setTimeout(() => reply(res, 429, { error: 'slow down' }), 30)
          : reply(res, 404, { error: 'unknown' });
      await reporting(calls).submit(request);
      await reporting(calls).lookup('gs1-x');
      await reporting(calls).status('T1');
      expect(calls.map(({ operation, status, funderId }) => [funderId, operation, status])).toEqual(
        [
          ['NSF', 'submit', '429'],
          ['NSF', 'lookup', '404'],
          ['NSF', 'status', '404'],
        ],
      );
      expect(calls[0]?.durationMs).toBeGreaterThanOrEqual(25);
    });

    it('reports a call with no answer as timeout or network', async () => {
      const calls: PortalCall[] = [];
      handler = () => undefined;
      await reporting(calls, 100).submit(request);
      handler = (_hit, res) => res.socket?.destroy();
      await reporting(calls).submit(request);
      expect(calls.map((c) => c.status)).toEqual(['timeout', 'network']);
      expect(calls[0]?.durationMs).toBeGreaterThanOrEqual(90);
    });
  });
});
