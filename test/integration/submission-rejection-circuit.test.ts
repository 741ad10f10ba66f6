// Guarantee: a portal's refusal ends the grant with the portal's own words,
// and a failing portal is left alone instead of hammered. A 422 gives the
// terminal status REJECTED_WITH_ERRORS with the portal's validation messages
// (and no retry). A storm of 5xx opens the funder's circuit: the portal then
// sees one probe per half-open interval instead of a call per grant and
// retry; when the portal recovers, the probe closes the circuit and every
// waiting grant is filed, once per idempotency key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  aRoutedGrant,
  testClients,
  uniqueName,
  RETRY_TIER_TOPICS,
  clientFor,
  endScenario,
  collectStatuses,
  produceRouted,
  scenarioLogDir,
  scrapeMetric,
  simFunder,
  sleep,
  startServiceGroup,
  startSimulator,
  tokenEnv,
  type ServiceGroup,
  type Simulator,
} from '@grantstream/testing';

const REJECTS = 'RJCT';
const STORM = 'STRM';
const HALF_OPEN_MS = 2000;
/**
 * Half-open intervals the open circuit is watched for: enough that a probe per
 * interval stays clearly below a call per grant and retry.
 */
const WATCHED_INTERVALS = 5;
const CIRCUIT_OPEN = 2;

describe('portal rejections and a 5xx storm', () => {
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  const logDir = scenarioLogDir('submission-rejection-circuit');
  const tag = uniqueName('r')
    .replace(/[^a-z0-9]/gi, '')
    .slice(-6)
    .toUpperCase();
  const refused = `${REJECTS}-2026-00001-${tag}`;

  beforeAll(async () => {
    clients = await testClients();
    simulator = await startSimulator(
      {
        [REJECTS]: simFunder({ rejectGrantIds: [refused] }),
        [STORM]: simFunder({ serverErrorRate: 1 }),
      },
      logDir,
    );
    submission = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: 1,
      logDir,
      env: {
        ...tokenEnv(simulator),
        GRANTSTREAM__FUNDERS: JSON.stringify({
          [REJECTS]: clientFor(REJECTS, simulator),
          [STORM]: clientFor(STORM, simulator, {
            retry: { maxAttempts: 30, initialBackoffMs: 200, maxBackoffMs: 2000 },
            circuit: { consecutiveFailures: 3, halfOpenAfterMs: HALF_OPEN_MS },
          }),
        }),
      },
    });
  });
  afterAll(() => endScenario(clients, [submission], simulator));

  it(
    'ends a 422 as REJECTED_WITH_ERRORS with the portal messages',
    { timeout: 120_000 },
    async () => {
      const accepted = `${REJECTS}-2026-00002-${tag}`;
      const from = await clients.io.endOffsets([TOPICS.STATUS]);
      await produceRouted(clients, [aRoutedGrant(refused), aRoutedGrant(accepted)]);
      const statuses = await collectStatuses(
        clients,
        from,
        new Set([refused, accepted]),
        (r) => r.length >= 2,
        60_000,
      );
      const byGrant = new Map(statuses.map((s) => [s.value.grant_id, s.value]));
      expect(byGrant.get(refused)).toMatchObject({
        status: 'REJECTED_WITH_ERRORS',
        terminal: true,
        tracking_number: null,
      });
      expect(byGrant.get(refused)?.portal_messages.length).toBeGreaterThan(0);
      expect(byGrant.get(refused)?.portal_messages.join(' ')).toMatch(/\S/);
      expect(byGrant.get(accepted)).toMatchObject({ status: 'RECEIVED', terminal: false });
      const stats = await simulator.stats(REJECTS);
      expect(stats.rejections).toBe(1);
      expect(stats.requests).toBe(2);
    },
  );

  it(
    'opens the circuit in a 5xx storm, probes once per interval, and recovers',
    { timeout: 180_000 },
    async () => {
      const grants = Array.from({ length: 12 }, (_, i) =>
        aRoutedGrant(`${STORM}-2026-${String(i).padStart(5, '0')}-${tag}`),
      );
      const ids = new Set(grants.map((g) => g.grant_id));
      const from = await clients.io.endOffsets([TOPICS.STATUS]);
      await produceRouted(clients, grants);
      const metrics = submission.metricsUrls[0] ?? '';
      const circuit = () =>
        scrapeMetric(metrics, 'grantstream_funder_circuit_state', { funder: STORM });
      const deadline = Date.now() + 30_000;
      while ((await circuit()) !== CIRCUIT_OPEN) {
        if (Date.now() > deadline) throw new Error('the circuit never opened');
        await sleep(100);
      }
      // Open: over WATCHED_INTERVALS half-open intervals the portal sees about
      // one probe per interval, though 12 grants keep coming back for another
      // attempt. What is counted is what does not happen (calls beyond the
      // probes), so this is an observation window, sized by the interval.
      const before = (await simulator.stats(STORM)).requests;
      await sleep(WATCHED_INTERVALS * HALF_OPEN_MS);
      const during = (await simulator.stats(STORM)).requests - before;
      expect(during).toBeLessThanOrEqual(WATCHED_INTERVALS + 2);
      expect(
        await scrapeMetric(metrics, 'grantstream_submission_attempts_total', {
          funder: STORM,
          outcome: 'circuit_open',
        }),
      ).toBeGreaterThan(0);

      await simulator.setFunder(STORM, { serverErrorRate: 0 });
      const statuses = await collectStatuses(
        clients,
        from,
        ids,
        (r) => r.length >= ids.size,
        90_000,
      );
      expect(new Set(statuses.map((s) => s.value.grant_id))).toEqual(ids);
      expect(statuses.every((s) => s.value.tracking_number !== null)).toBe(true);
      expect(await circuit()).toBe(0);
      const stats = await simulator.stats(STORM);
      expect(stats.created).toBe(ids.size);
      expect(Object.values(stats.submissionsPerKey).every((n) => n === 1)).toBe(true);
    },
  );
});
