import type { RedisConnectionConfig } from '@grantstream/config';
import {
  FunderGuard,
  FunderLimiter,
  RestFunderAdapter,
  type FundersSection,
  type PortalCallObserver,
} from '@grantstream/funders';
import type { GrantLogger } from '@grantstream/logging';
import { FunderPortal, type CallLimiter } from './funder-portal';

/** What {@link createFunderPortals} builds the portals from. */
export interface FunderPortalsOptions {
  funders: FundersSection;
  tokens: ReadonlyMap<string, string>;
  redis: RedisConnectionConfig;
  /** Longest a call waits for its funder's limiter. */
  limiterWaitMs: number;
  logger: GrantLogger;
  /** Told about every portal exchange (funder API metrics). */
  onCall: PortalCallObserver;
}

/**
 * One {@link FunderPortal} per configured funder: the REST adapter with its
 * token, an in-process circuit breaker, and the Redis-clustered limiter that
 * every replica (and status polling) shares for that funder. Resolves once
 * every limiter reaches Redis; a Redis that never answers fails the start.
 */
export async function createFunderPortals(
  options: FunderPortalsOptions,
): Promise<Map<string, FunderPortal>> {
  const portals = new Map<string, FunderPortal>();
  for (const [funderId, funder] of Object.entries(options.funders)) {
    const token = options.tokens.get(funderId);
    if (token === undefined) throw new Error(`no token for funder ${funderId}`);
    const log = options.logger.child({ funder: funderId });
    const limiter = new FunderLimiter({
      funderId,
      // Shared with every process calling this portal, and only with those.
      portal: funder.baseUrl,
      ratePerSecond: funder.ratePerSecond,
      maxConcurrent: funder.maxConcurrent,
      redis: options.redis,
      // A killed process's slots are freed after this; a live call never runs longer than its timeout.
      jobExpirationMs: 2 * funder.timeoutMs,
      onError: (err) => log.warn({ err }, 'funder limiter problem'),
    });
    await limiter.ready();
    const callLimiter: CallLimiter = {
      schedule: async (call, signal) => {
        const ran = await limiter.schedule(call, {
          maxWaitMs: options.limiterWaitMs,
          ...(signal ? { signal } : {}),
        });
        return ran.kind === 'ran' ? { kind: 'ran', value: ran.value } : { kind: 'throttled' };
      },
      counts: () => limiter.counts(),
      close: () => limiter.close(),
    };
    const guard = new FunderGuard({ funderId, circuit: funder.circuit });
    guard.onStateChange((change) => log.warn(change, 'funder circuit changed state'));
    const adapter = new RestFunderAdapter(
      { funderId, baseUrl: funder.baseUrl, token, timeoutMs: funder.timeoutMs },
      { onCall: options.onCall },
    );
    portals.set(
      funderId,
      new FunderPortal(funderId, funder, guard, guard.wrap(adapter), callLimiter),
    );
  }
  return portals;
}
