import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GrantLogger } from '@grantstream/logging';
import type { FunderBehaviour } from '../domain/behaviour';
import { seededRandom, type RandomSource } from '../domain/hash';
import { FunderPortal, type FunderStats, type PortalAnswer } from '../domain/portal';
import { WebhookSinks, type HookView } from '../domain/webhook-sink';
import {
  funderBehaviourPatchSchema,
  funderBehaviourSchema,
  type FunderBehaviourConfig,
  type SimulatorSettings,
} from '../simulator.config';
import { header, isLoopback, readBody, sendJson } from './io';
import { funderOf, isControl, matchRoute, type Route } from './router';

/** Collaborators of {@link createSimulator}; tests pass a fake clock and a fixed random source. */
export interface SimulatorOptions {
  logger: GrantLogger;
  /** Milliseconds since the epoch; drives rate limits and status progression. Defaults to Date.now. */
  now?: () => number;
  /** Uniform [0, 1); defaults to a generator seeded with the configured seed (reseeded on reset). */
  random?: RandomSource;
}

/** What `GET /__sim/stats` answers. */
export interface SimulatorStats {
  funders: Record<string, FunderStats>;
  hooks: Record<string, Omit<HookView, 'received'> & { received: number }>;
}

/** A running (or ready to run) simulator. */
export interface Simulator {
  server: Server;
  /** Listens on the configured host and port (0 = a free one). */
  listen(): Promise<{ port: number; url: string }>;
  /** Stops listening, drops open connections and pending delayed answers. */
  close(): Promise<void>;
  stats(): SimulatorStats;
  /** The base URL a submission client uses for a funder, once listening. */
  baseUrl(funderId: string): string;
}

/**
 * The funder portal simulator: every configured funder's API under
 * `/funders/{id}/v2/submissions`, plus `/__sim/*` control endpoints for tests.
 * Decisions are the domain's; this layer reads requests, applies latency and
 * timeouts with real timers, and writes JSON.
 */
export function createSimulator(settings: SimulatorSettings, options: SimulatorOptions): Simulator {
  const log = options.logger;
  const now = options.now ?? Date.now;
  let random = options.random ?? seededRandom(settings.seed);
  let portals = buildPortals(settings.funders);
  let sinks = new WebhookSinks();
  const timers = new Set<NodeJS.Timeout>();
  let url: string | undefined;

  const later = (delayMs: number, run: () => void): void => {
    if (delayMs <= 0) {
      run();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, delayMs);
    timers.add(timer);
  };

  const stats = (): SimulatorStats => {
    const at = now();
    return {
      funders: Object.fromEntries([...portals].map(([id, p]) => [id, p.stats(at)])),
      hooks: sinks.summary(),
    };
  };

  const answerFunder = async (
    route: Route,
    portal: FunderPortal,
    req: IncomingMessage,
  ): Promise<PortalAnswer> => {
    const rateLimit = portal.arrive(now());
    const gateway = { rateLimit, authorization: header(req, 'authorization') };
    switch (route.kind) {
      case 'submit': {
        const body = await readBody(req, settings.maxBodyBytes);
        return portal.submit(
          { ...gateway, idempotencyKey: header(req, 'idempotency-key'), body },
          now(),
          random,
        );
      }
      case 'read-by-tracking':
        return portal.readByTracking(gateway, route.tracking, now(), random);
      case 'read-by-key':
        return portal.readByKey(gateway, route.idempotencyKey, now(), random);
      default:
        throw new Error(`not a funder API route: ${route.kind}`);
    }
  };

  const handleFunder = async (
    route: Route,
    funderId: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const portal = portals.get(funderId);
    if (!portal) {
      sendJson(res, 404, { error: `unknown funder ${funderId}` });
      return;
    }
    if (route.kind === 'not-found') {
      sendJson(res, 404, { error: 'no such endpoint' });
      return;
    }
    if (route.kind === 'method-not-allowed') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: route.allow.join(', ') });
      return;
    }
    let left = false;
    res.on('close', () => {
      if (!left) portal.leave();
      left = true;
    });
    const answer = await answerFunder(route, portal, req);
    const behaviour = portal.behaviour;
    const { min, max } = behaviour.latencyMs;
    const latency = min + random() * (max - min);
    const delay = latency + (answer.delivery === 'timeout' ? behaviour.timeoutDelayMs : 0);
    later(delay, () => {
      if (answer.delivery === 'drop') {
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      if (answer.retryAfterSeconds !== undefined) {
        headers['retry-after'] = String(answer.retryAfterSeconds);
      }
      if (answer.status === 401) headers['www-authenticate'] = 'Bearer';
      sendJson(res, answer.status, answer.body, headers);
    });
  };

  const handleControl = async (
    route: Route,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    switch (route.kind) {
      case 'stats':
        sendJson(res, 200, stats());
        return;
      case 'health':
        sendJson(res, 200, { ok: true, funders: [...portals.keys()] });
        return;
      case 'reset':
        portals = buildPortals(settings.funders);
        sinks = new WebhookSinks();
        if (!options.random) random = seededRandom(settings.seed);
        log.info('simulator state reset');
        sendJson(res, 200, { reset: true });
        return;
      case 'configure-funder': {
        const portal = portals.get(route.funderId);
        if (!portal) {
          sendJson(res, 404, { error: `unknown funder ${route.funderId}` });
          return;
        }
        const body = await readJson(req);
        if (!body.ok) {
          sendJson(res, body.status, { error: body.error });
          return;
        }
        const result = reconfigure(portal.behaviour, body.value);
        if (!result.ok) {
          sendJson(res, 422, { errors: result.errors });
          return;
        }
        portal.configure(result.behaviour);
        log.info(
          { funder: route.funderId, changed: Object.keys(body.value as object) },
          'behaviour changed',
        );
        const { token: _token, ...shown } = result.behaviour;
        sendJson(res, 200, { funder: route.funderId, behaviour: shown });
        return;
      }
      case 'hook-deliver': {
        const body = await readBody(req, settings.maxBodyBytes);
        if (body.kind === 'too-large') {
          sendJson(res, 413, { error: 'request body too large' });
          return;
        }
        const answer = sinks.deliver(route.name, header(req, 'idempotency-key'), body.text);
        sendJson(res, answer.status, answer.body);
        return;
      }
      case 'hook-set': {
        const body = await readJson(req);
        const down = body.ok ? (body.value as { down?: unknown } | null)?.down : undefined;
        if (typeof down !== 'boolean') {
          sendJson(res, 422, { errors: [{ field: 'down', message: 'expected true or false' }] });
          return;
        }
        sendJson(res, 200, sinks.setDown(route.name, down));
        return;
      }
      case 'hook-view':
        sendJson(res, 200, sinks.view(route.name));
        return;
      default:
        sendJson(res, 404, { error: 'no such endpoint' });
    }
  };

  const readJson = async (
    req: IncomingMessage,
  ): Promise<{ ok: true; value: unknown } | { ok: false; status: number; error: string }> => {
    const body = await readBody(req, settings.maxBodyBytes);
    if (body.kind === 'too-large')
      return { ok: false, status: 413, error: 'request body too large' };
    try {
      return { ok: true, value: JSON.parse(body.text) as unknown };
    } catch {
      return { ok: false, status: 400, error: 'request body is not valid JSON' };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = matchRoute(req.method ?? 'GET', req.url ?? '/');
    if (isControl(route)) {
      if (!isLoopback(req.socket.remoteAddress)) {
        sendJson(res, 403, { error: 'control endpoints answer loopback clients only' });
        return;
      }
      await handleControl(route, req, res);
      return;
    }
    const funderId = funderOf(route);
    if (funderId !== undefined) {
      await handleFunder(route, funderId, req, res);
      return;
    }
    if (route.kind === 'method-not-allowed') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: route.allow.join(', ') });
      return;
    }
    sendJson(res, 404, { error: 'no such endpoint' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (req.destroyed) {
        log.debug({ err, url: req.url }, 'client went away mid-request');
        return;
      }
      log.error({ err, url: req.url }, 'simulator failed to answer');
      sendJson(res, 500, { error: 'simulator error' });
    });
  });

  return {
    server,
    stats,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(settings.port, settings.host, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
          url = `http://${host}:${port}`;
          resolve({ port, url });
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    baseUrl: (funderId) => {
      if (url === undefined) throw new Error('the simulator is not listening yet');
      return `${url}/funders/${encodeURIComponent(funderId)}`;
    },
  };
}

function buildPortals(funders: Record<string, FunderBehaviourConfig>): Map<string, FunderPortal> {
  return new Map(Object.entries(funders).map(([id, b]) => [id, new FunderPortal(id, { ...b })]));
}

type Reconfigured =
  | { ok: true; behaviour: FunderBehaviourConfig }
  | { ok: false; errors: { field: string; message: string }[] };

/** Merges a runtime patch into a behaviour; `null` clears an optional field. */
export function reconfigure(current: FunderBehaviour, patch: unknown): Reconfigured {
  const parsedPatch = funderBehaviourPatchSchema.safeParse(patch);
  if (!parsedPatch.success) return { ok: false, errors: issuesOf(parsedPatch.error.issues) };
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(parsedPatch.data)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  const parsed = funderBehaviourSchema.safeParse(merged);
  return parsed.success
    ? { ok: true, behaviour: parsed.data }
    : { ok: false, errors: issuesOf(parsed.error.issues) };
}

function issuesOf(
  issues: readonly { path: PropertyKey[]; message: string }[],
): { field: string; message: string }[] {
  return issues.map((i) => ({
    field: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
}
