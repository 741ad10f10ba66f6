// Guarantee: a funder's rate limit holds across replicas and is used. With
// three submission processes sharing one funder limited to N requests/s (a
// Bottleneck limiter clustered in Redis), the portal answers no 429 to us,
// and while a backlog exists at least 90% of N is used. Every grant is filed
// once per idempotency key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  aRoutedGrant,
  stallTolerantBurst,
  testClients,
  uniqueName,
  RETRY_TIER_TOPICS,
  clientFor,
  endScenario,
  collectStatuses,
  produceRouted,
  scenarioLogDir,
  simFunder,
  sleep,
  startServiceGroup,
  startSimulator,
  tokenEnv,
  type ServiceGroup,
  type Simulator,
  waitForGroupAssigned,
} from '@grantstream/testing';

const FUNDER = 'RLIM';
const RATE = 10;
const GRANTS = 200;

describe('a rate limit shared by three replicas', () => {
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  const logDir = scenarioLogDir('submission-rate-limit');

  beforeAll(async () => {
    clients = await testClients();
    // A token bucket whose burst absorbs a process stalled on the shared
    // cores (stallTolerantBurst) but refuses a limit not held within seconds.
    simulator = await startSimulator(
      {
        [FUNDER]: simFunder({
          rateLimitPerSecond: RATE,
          burst: stallTolerantBurst(RATE),
          latencyMs: { min: 20, max: 80 },
        }),
      },
      logDir,
    );
    submission = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: 3,
      logDir,
      env: {
        ...tokenEnv(simulator),
        GRANTSTREAM__FUNDERS: JSON.stringify({
          [FUNDER]: clientFor(FUNDER, simulator, { ratePerSecond: RATE, maxConcurrent: 10 }),
        }),
      },
    });
  });
  afterAll(() => endScenario(clients, [submission], simulator));

  it(
    'makes no call over the limit and uses at least 90% of it while a backlog exists',
    { timeout: 180_000 },
    async () => {
      const tag = uniqueName('r')
        .replace(/[^a-z0-9]/gi, '')
        .slice(-6)
        .toUpperCase();
      const grants = Array.from({ length: GRANTS }, (_, i) =>
        aRoutedGrant(`${FUNDER}-2026-${String(i).padStart(5, '0')}-${tag}`),
      );
      const ids = new Set(grants.map((g) => g.grant_id));
      const from = await clients.io.endOffsets([TOPICS.STATUS]);
      // The three replicas split the partitions before the backlog lands.
      await waitForGroupAssigned(clients, submission, [TOPICS.ROUTED]);
      await produceRouted(clients, grants);

      const samples: { at: number; created: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push({ at: Date.now(), created: (await simulator.stats(FUNDER)).created });
          await sleep(250);
        }
      })();
      const statuses = await collectStatuses(
        clients,
        from,
        ids,
        (r) => r.length >= GRANTS,
        120_000,
      );
      sampling = false;
      await sampler;

      // Utilisation while the backlog lasted: from the 10% mark to the 90% mark.
      const at = (share: number) => samples.find((s) => s.created >= GRANTS * share);
      const start = at(0.1);
      const end = at(0.9);
      const stats = await simulator.stats(FUNDER);
      const rate = start && end ? ((end.created - start.created) * 1000) / (end.at - start.at) : 0;
      console.log(
        `rate limit ${RATE}/s, 3 replicas: ${rate.toFixed(2)}/s used (${((rate / RATE) * 100).toFixed(1)}%), ${stats.rateLimited} refused, ${stats.requests} requests`,
      );
      expect(new Set(statuses.map((s) => s.value.grant_id)).size).toBe(GRANTS);
      expect(stats.rateLimited).toBe(0);
      expect(stats.created).toBe(GRANTS);
      expect(Object.values(stats.submissionsPerKey).every((n) => n === 1)).toBe(true);
      expect(rate).toBeGreaterThanOrEqual(0.9 * RATE);
      expect(rate).toBeLessThanOrEqual(RATE * 1.05);
    },
  );
});
