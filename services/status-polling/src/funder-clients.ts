import type { RedisConnectionConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import {
  FunderGuard,
  FunderLimiter,
  RestFunderAdapter,
  type FunderClientConfig,
  type FundersSection,
  type GuardedFunderAdapter,
  type PortalCallObserver,
  type ScheduleOptions,
  type ScheduleResult,
} from '@grantstream/funders';
import type { GrantLogger } from '@grantstream/logging';

/** The part of a {@link FunderLimiter} polling uses; tests substitute a fake. */
export interface PollLimiter {
  schedule<T>(fn: () => Promise<T>, options: ScheduleOptions): Promise<ScheduleResult<T>>;
}

/** One funder as status polling talks to it. */
export interface FunderClient {
  /** Poll interval and give-up age. */
  settings: FunderClientConfig['status'];
  /** The portal behind the funder's circuit breaker. */
  portal: Pick<GuardedFunderAdapter, 'status'>;
  /** The funder's limiter, shared (through Redis) with submission and every replica. */
  limiter: PollLimiter;
}

/** Every configured funder's client, and the lifecycle of their shared resources. */
export interface FunderClients {
  /** The funder's client; undefined for a funder with no configuration. */
  get(funderId: string): FunderClient | undefined;
  /** Resolves once every limiter reaches Redis; a start without Redis fails here, not on the first poll. */
  ready(): Promise<void>;
  /** Releases the limiters (their Redis connections); after the runner has stopped. */
  close(): Promise<void>;
}

/**
 * One Redis error line per funder at most this often: while Redis is down a
 * limiter reports every failed slot claim (about one a second), which would
 * bury everything else in the log. Bounds log volume, not pipeline behaviour.
 */
const LIMITER_ERROR_LOG_INTERVAL_MS = 10_000;

function limiterErrorLogger(funderId: string, logger: GrantLogger): (error: Error) => void {
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error) => {
    const at = Date.now();
    if (at - lastLoggedAt < LIMITER_ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    logger.warn({ funderId, err: error, suppressed }, 'funder limiter error');
    lastLoggedAt = at;
    suppressed = 0;
  };
}

/** What {@link createFunderClients} builds from. */
export interface FunderClientsOptions {
  funders: FundersSection;
  /** Bearer token per funder id, read from the secrets the configuration names. */
  tokens: ReadonlyMap<string, string>;
  redis: RedisConnectionConfig;
  logger: GrantLogger;
  /** Told about every portal exchange (funder API metrics). */
  onCall: PortalCallObserver;
}

/**
 * The REST adapter, circuit breaker and limiter of every configured funder.
 * The limiter id is the default one for the funder's portal
 * (`grantstream.funder.<F>.<portal digest>`), the same as the submission
 * stage's, so status GETs and submission POSTs share one rate per portal
 * across every replica of both stages.
 */
export function createFunderClients(options: FunderClientsOptions): FunderClients {
  const { funders, tokens, redis, logger, onCall } = options;
  const clients = new Map<string, FunderClient>();
  const limiters: FunderLimiter[] = [];
  for (const [funderId, config] of Object.entries(funders)) {
    const token = tokens.get(funderId);
    if (token === undefined) {
      throw new ConfigError([`funders.${funderId}.tokenSecret: no token resolved`]);
    }
    const adapter = new RestFunderAdapter(
      { funderId, baseUrl: config.baseUrl, token, timeoutMs: config.timeoutMs },
      { onCall },
    );
    const guard = new FunderGuard({ funderId, circuit: config.circuit });
    guard.onStateChange((change) =>
      logger.warn({ ...change }, `funder circuit ${change.from} -> ${change.to}`),
    );
    const limiter = new FunderLimiter({
      funderId,
      // Shared with every process calling this portal, and only with those.
      portal: config.baseUrl,
      ratePerSecond: config.ratePerSecond,
      maxConcurrent: config.maxConcurrent,
      redis,
      onError: limiterErrorLogger(funderId, logger),
    });
    limiters.push(limiter);
    clients.set(funderId, { settings: config.status, portal: guard.wrap(adapter), limiter });
  }
  return {
    get: (funderId) => clients.get(funderId),
    ready: async () => {
      await Promise.all(limiters.map((l) => l.ready()));
    },
    close: async () => {
      await Promise.all(limiters.map((l) => l.close()));
    },
  };
}
