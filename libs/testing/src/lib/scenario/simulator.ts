import { createServer } from 'node:net';
import type { FunderClientConfig } from '@grantstream/funders';
import { startStages, type StageProcess } from '@grantstream/harness';
import { sleep } from './waits';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** One funder's behaviour at the simulator (see services/funder-simulator/src/simulator.config.ts). */
export type SimFunder = Record<string, unknown>;

/** A well-behaved portal: fast, no failures, statuses that move every `statusDwellMs`. */
export function simFunder(overrides: SimFunder = {}): SimFunder {
  return {
    token: `tok-${Math.random().toString(36).slice(2)}`,
    rateLimitPerSecond: 1000,
    latencyMs: { min: 5, max: 20 },
    serverErrorRate: 0,
    timeoutRate: 0,
    timeoutDelayMs: 30_000,
    validationFailureRate: 0,
    statusDwellMs: 200,
    slowStatusRate: 0,
    slowStatusDwellMs: 0,
    statusRejectRate: 0,
    ...overrides,
  };
}

/** Counters of one funder at the simulator (`GET /__sim/stats`). */
export interface SimFunderStats {
  requests: number;
  created: number;
  rateLimited: number;
  serverErrors: number;
  timeouts: number;
  rejections: number;
  replays: number;
  maxConcurrent: number;
  submissionsPerKey: Record<string, number>;
  postsPerKey: Record<string, number>;
  statuses: Record<string, number>;
}

/**
 * A webhook receiver of the simulator (services/funder-simulator webhook-sink.ts):
 * the bodies it stored, once per Idempotency-Key, in arrival order; every POST
 * (refused and duplicate ones included); the POSTs whose key it already had.
 */
export interface HookView {
  received: unknown[];
  attempts: number;
  duplicates: number;
  down: boolean;
}

/** The URL the notification service posts to for the simulator's receiver `name`. */
export const hookUrlOf = (simulator: Pick<Simulator, 'url'>, name: string) =>
  `${simulator.url}/__sim/hooks/${name}`;

/** A running funder simulator process. */
export interface Simulator {
  url: string;
  process: StageProcess;
  funders: Record<string, SimFunder>;
  stats(funderId: string): Promise<SimFunderStats>;
  /** Changes a funder's behaviour at runtime (`PUT /__sim/funders/{id}`). */
  setFunder(funderId: string, patch: SimFunder): Promise<void>;
  /** Takes a webhook receiver down or brings it back. */
  setHookDown(name: string, down: boolean): Promise<void>;
  /** A webhook receiver's state (`GET /__sim/hooks/{name}`). */
  hook(name: string): Promise<HookView>;
}

/** Starts the simulator on a free port with exactly these funders; resolves once it answers. */
export async function startSimulator(
  funders: Record<string, SimFunder>,
  logDir: string,
): Promise<Simulator> {
  const port = await freePort();
  const [proc] = startStages(['funder-simulator'], {
    logDir,
    suffix: `-${port}`,
    env: {
      GRANTSTREAM__SIMULATOR__PORT: String(port),
      GRANTSTREAM__SIMULATOR__FUNDERS: JSON.stringify(funders),
    },
  });
  if (!proc) throw new Error('simulator did not start');
  const url = `http://127.0.0.1:${port}`;
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/__sim${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`);
    return response.json();
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await control('GET', '/stats');
      break;
    } catch (err) {
      if (proc.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`simulator did not come up (log ${proc.logFile}): ${String(err)}`);
      await sleep(200);
    }
  }
  return {
    url,
    process: proc,
    funders,
    stats: async (funderId) => {
      const all = (await control('GET', '/stats')) as { funders: Record<string, SimFunderStats> };
      const stats = all.funders[funderId];
      if (!stats) throw new Error(`the simulator has no funder ${funderId}`);
      return stats;
    },
    setFunder: async (funderId, patch) => {
      await control('PUT', `/funders/${funderId}`, patch);
    },
    setHookDown: async (name, down) => {
      await control('PUT', `/hooks/${name}`, { down });
    },
    hook: async (name) => (await control('GET', `/hooks/${name}`)) as HookView,
  };
}

/** Name of the environment variable holding a test funder's token. */
export const tokenSecretOf = (funderId: string) => `GRANTSTREAM_FUNDER_TOKEN_${funderId}`;

/** How the pipeline calls a simulated funder; override the limits a scenario is about. */
export function clientFor(
  funderId: string,
  simulator: Simulator,
  overrides: Partial<FunderClientConfig> = {},
): FunderClientConfig {
  return {
    baseUrl: `${simulator.url}/funders/${funderId}`,
    tokenSecret: tokenSecretOf(funderId),
    timeoutMs: 1000,
    ratePerSecond: 100,
    maxConcurrent: 20,
    retry: { maxAttempts: 8, initialBackoffMs: 500, maxBackoffMs: 900_000 },
    circuit: { consecutiveFailures: 5, halfOpenAfterMs: 3000 },
    status: { pollIntervalMs: 500, giveUpAfterMs: 600_000 },
    ...overrides,
  };
}

/** Tokens of the simulated funders, as the services read them. */
export function tokenEnv(simulator: Simulator): Record<string, string> {
  return Object.fromEntries(
    Object.entries(simulator.funders).map(([id, f]) => [tokenSecretOf(id), String(f['token'])]),
  );
}

/**
 * Files a grant with a simulated funder as the submission stage would, one
 * Idempotency-Key on every try (a retry after a 5xx or 429 cannot file it
 * twice), and returns the portal's tracking number.
 */
export async function fileWithSimulator(
  simulator: Simulator,
  funderId: string,
  grantId: string,
  idempotencyKey: string,
): Promise<string> {
  const token = String(simulator.funders[funderId]?.['token']);
  for (let tries = 0; tries < 30; tries += 1) {
    const response = await fetch(`${simulator.url}/funders/${funderId}/v2/submissions`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': idempotencyKey,
      },
      body: JSON.stringify({ grant_id: grantId, title: 'scenario' }),
    });
    const body = (await response.json().catch(() => ({}))) as { tracking_number?: string };
    if (response.ok && body.tracking_number) return body.tracking_number;
    await sleep(response.status === 429 ? 1000 : 200);
  }
  throw new Error(`the simulator never accepted ${grantId}`);
}

/** What a simulated portal says about a tracking number now (`GET /v2/submissions/{tracking}`). */
export async function portalStatusOf(
  simulator: Simulator,
  funderId: string,
  trackingNumber: string,
): Promise<{ status: string; grant_id: string }> {
  const token = String(simulator.funders[funderId]?.['token']);
  for (let tries = 0; tries < 30; tries += 1) {
    const response = await fetch(
      `${simulator.url}/funders/${funderId}/v2/submissions/${trackingNumber}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    if (response.ok) return (await response.json()) as { status: string; grant_id: string };
    await response.body?.cancel();
    await sleep(response.status === 429 ? 1000 : 200);
  }
  throw new Error(`the simulator never answered for ${trackingNumber}`);
}
