// Guarantee: one funder's outage does not slow the others. Funder A answers
// no call in time (every call times out); funders B and C share A's
// partitions, since grants are keyed by grant id, yet keep at least 90% of
// their throughput (their rate limits) while A's grants wait in retry tiers
// behind an open circuit instead of holding the partitions.
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

const DOWN = 'ISOA';
const HEALTHY = ['ISOB', 'ISOC'] as const;
const RATE = 10;
const PER_FUNDER = 120;

describe('isolation between funders', () => {
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  const logDir = scenarioLogDir('submission-isolation');

  beforeAll(async () => {
    clients = await testClients();
    const healthy = simFunder({
      rateLimitPerSecond: RATE,
      burst: stallTolerantBurst(RATE),
      latencyMs: { min: 20, max: 80 },
    });
    simulator = await startSimulator(
      {
        // Healthy at first; later every call to A is held 30 s without an answer.
        [DOWN]: simFunder({ timeoutRate: 0, timeoutDelayMs: 30_000 }),
        [HEALTHY[0]]: { ...healthy, token: 'tok-b' },
        [HEALTHY[1]]: { ...healthy, token: 'tok-c' },
      },
      logDir,
    );
    const client = (id: string) =>
      clientFor(id, simulator, { ratePerSecond: RATE, timeoutMs: 1000 });
    submission = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: 1,
      logDir,
      env: {
        ...tokenEnv(simulator),
        GRANTSTREAM__FUNDERS: JSON.stringify({
          [DOWN]: client(DOWN),
          [HEALTHY[0]]: client(HEALTHY[0]),
          [HEALTHY[1]]: client(HEALTHY[1]),
        }),
      },
    });
  });
  afterAll(() => endScenario(clients, [submission], simulator));

  it(
    'keeps the healthy funders at 90% of their throughput while another times out on every call',
    { timeout: 240_000 },
    async () => {
      const tag = uniqueName('i')
        .replace(/[^a-z0-9]/gi, '')
        .slice(-6)
        .toUpperCase();
      // The replica holds every partition before the baseline's backlog lands.
      await waitForGroupAssigned(clients, submission, [TOPICS.ROUTED]);
      const baseline = await phase(`${tag}P1`);
      await simulator.setFunder(DOWN, { timeoutRate: 1 });
      const outage = await phase(`${tag}P2`);
      for (const funder of HEALTHY) {
        const before = baseline.get(funder) ?? 0;
        const during = outage.get(funder) ?? 0;
        console.log(
          `${funder}: ${before.toFixed(2)}/s with ${DOWN} healthy, ${during.toFixed(2)}/s while ${DOWN} timed out (${((during / before) * 100).toFixed(1)}%)`,
        );
        expect(during).toBeGreaterThanOrEqual(0.9 * before);
        expect(before).toBeGreaterThanOrEqual(0.8 * RATE);
        expect((await simulator.stats(funder)).rateLimited).toBe(0);
      }
      // A's calls stopped once its circuit opened: far fewer than one per grant and retry.
      const down = await simulator.stats(DOWN);
      expect(down.timeouts).toBeGreaterThan(0);
      expect(down.timeouts).toBeLessThan(PER_FUNDER / 2);
    },
  );

  /**
   * Files PER_FUNDER grants of each funder, interleaved so every partition
   * holds all three, and returns each healthy funder's rate at the simulator
   * from its 10% to its 90% mark.
   */
  async function phase(tag: string): Promise<Map<string, number>> {
    const idOf = (funder: string, i: number) =>
      `${funder}-2026-${String(i).padStart(5, '0')}-${tag}`;
    const grants = Array.from({ length: PER_FUNDER }, (_, i) => [
      aRoutedGrant(idOf(DOWN, i)),
      aRoutedGrant(idOf(HEALTHY[0], i)),
      aRoutedGrant(idOf(HEALTHY[1], i)),
    ]).flat();
    const healthyIds = new Set(grants.map((g) => g.grant_id).filter((id) => !id.startsWith(DOWN)));
    const from = await clients.io.endOffsets([TOPICS.STATUS]);
    const createdBefore = new Map<string, number>();
    for (const f of HEALTHY) createdBefore.set(f, (await simulator.stats(f)).created);
    await produceRouted(clients, grants);
    const samples: { at: number; created: Record<string, number> }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const created: Record<string, number> = {};
        for (const f of HEALTHY)
          created[f] = (await simulator.stats(f)).created - (createdBefore.get(f) ?? 0);
        samples.push({ at: Date.now(), created });
        await sleep(250);
      }
    })();
    const statuses = await collectStatuses(
      clients,
      from,
      healthyIds,
      (r) => new Set(r.map((s) => s.value.grant_id)).size >= healthyIds.size,
      150_000,
    );
    sampling = false;
    await sampler;
    expect(new Set(statuses.map((s) => s.value.grant_id))).toEqual(healthyIds);
    const rates = new Map<string, number>();
    for (const funder of HEALTHY) {
      const at = (share: number) =>
        samples.find((s) => (s.created[funder] ?? 0) >= PER_FUNDER * share);
      const start = at(0.1);
      const end = at(0.9);
      rates.set(
        funder,
        start && end
          ? (((end.created[funder] ?? 0) - (start.created[funder] ?? 0)) * 1000) /
              (end.at - start.at)
          : 0,
      );
    }
    return rates;
  }
});
