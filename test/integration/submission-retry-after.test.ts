// Guarantee: a portal's Retry-After is honoured without blocking anything. A
// 429 with Retry-After 900 puts the grant into the 15-minute tier with
// not_before 900 s ahead, and it is not sent again before then; a shorter
// Retry-After puts it into the tier that covers it and it is filed after the
// delay, not before, under the same Idempotency-Key. A grant whose retry would
// land within the margin before its deadline is escalated: an ESCALATED audit
// event and a DEADLINE_AT_RISK notification request, instead of silent waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NotificationRequestV1Avro,
  SubmissionRetryV2Avro,
  TOPICS,
  type NotificationRequestV1,
  type SubmissionRetryV2,
} from '@grantstream/contracts';
import { chainOrder } from '@grantstream/audit';
import type { PlatformClients } from '@grantstream/kafka';
import {
  aRoutedGrant,
  testClients,
  uniqueName,
  RETRY_TIER_TOPICS,
  clientFor,
  endScenario,
  collectAudit,
  collectRecords,
  collectStatuses,
  produceRouted,
  scenarioLogDir,
  simFunder,
  startServiceGroup,
  startSimulator,
  tokenEnv,
  type ServiceGroup,
  type Simulator,
} from '@grantstream/testing';

const RA = 'RAFTR';
const SHORT = 'RASHRT';

describe('Retry-After and deadline escalation', () => {
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  const logDir = scenarioLogDir('submission-retry-after');

  beforeAll(async () => {
    clients = await testClients();
    // One call a long while: the first grant is filed, every other one gets 429 + Retry-After.
    simulator = await startSimulator(
      {
        [RA]: simFunder({ rateLimitPerSecond: 0.0001, burst: 1, retryAfterSeconds: 900 }),
        // One token every 6 s: the refused grant is told to come back when the next one is there.
        [SHORT]: simFunder({ rateLimitPerSecond: 1 / 6, burst: 1 }),
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
          [RA]: clientFor(RA, simulator),
          [SHORT]: clientFor(SHORT, simulator),
        }),
      },
    });
  });
  afterAll(() => endScenario(clients, [submission], simulator));

  it(
    'waits out Retry-After in the right tier, files after it, and escalates a deadline at risk',
    { timeout: 180_000 },
    async () => {
      const tag = uniqueName('x')
        .replace(/[^A-Z0-9]/gi, '')
        .slice(-6)
        .toUpperCase();
      const soon = Date.now() + 30 * 60_000;
      const first = aRoutedGrant(`${RA}-2026-00001-${tag}`);
      const waiting = aRoutedGrant(`${RA}-2026-00002-${tag}`);
      const atRisk = aRoutedGrant(`${RA}-2026-00003-${tag}`, { deadline: soon });
      const shortFirst = aRoutedGrant(`${SHORT}-2026-00001-${tag}`);
      const shortWaiting = aRoutedGrant(`${SHORT}-2026-00002-${tag}`);
      const ids = new Set(
        [first, waiting, atRisk, shortFirst, shortWaiting].map((g) => g.grant_id),
      );
      const from = await clients.io.endOffsets([
        TOPICS.STATUS,
        TOPICS.AUDIT,
        TOPICS.NOTIFICATIONS,
        ...submission.retryTiers,
      ]);
      // The first grant of each funder takes the one token; the rest are refused.
      await produceRouted(clients, [first, shortFirst]);
      await collectStatuses(clients, from, ids, (r) => r.length >= 2, 60_000);
      const sentAt = Date.now();
      await produceRouted(clients, [waiting, atRisk, shortWaiting]);

      const retries = await collectRecords<SubmissionRetryV2>(
        clients,
        from,
        submission.retryTiers,
        ids,
        SubmissionRetryV2Avro,
        (r) => r.length >= 3,
        60_000,
      );
      const tierOf = new Map(retries.map((r) => [r.value.grant_id, r]));
      // The group's own copy of a declared tier (see startServiceGroup).
      const own = (declared: string) => `${declared}.${submission.group}`;
      const longWait = tierOf.get(waiting.grant_id);
      expect(longWait?.topic).toBe(own(TOPICS.SUBMISSION_RETRY_15M));
      expect(longWait?.value.last_error_category).toBe('API_RATE_LIMIT');
      expect(longWait!.value.not_before - sentAt).toBeGreaterThanOrEqual(895_000);
      expect(tierOf.get(atRisk.grant_id)?.topic).toBe(own(TOPICS.SUBMISSION_RETRY_15M));
      const shortWait = tierOf.get(shortWaiting.grant_id);
      expect(shortWait?.topic).toBe(own(TOPICS.SUBMISSION_RETRY_30S));
      const notBefore = shortWait!.value.not_before;

      // The short wait: filed once the delay is over (the portal has a token again), not before.
      const statuses = await collectStatuses(
        clients,
        from,
        ids,
        (r) => r.some((s) => s.value.grant_id === shortWaiting.grant_id),
        60_000,
      );
      const filed = statuses.find((s) => s.value.grant_id === shortWaiting.grant_id);
      expect(filed?.value.tracking_number).toBeTruthy();
      expect(filed!.value.submitted_at).toBeGreaterThanOrEqual(notBefore);
      expect(filed!.value.submitted_at - notBefore).toBeLessThan(15_000);
      const shortStats = await simulator.stats(SHORT);
      expect(shortStats.created).toBe(2);
      expect(Object.values(shortStats.submissionsPerKey).every((n) => n === 1)).toBe(true);
      expect(shortStats.postsPerKey[shortWait!.value.idempotency_key]).toBe(2);

      // The long wait: still waiting, sent exactly once so far.
      const raStats = await simulator.stats(RA);
      expect(raStats.created).toBe(1);
      expect(raStats.postsPerKey[longWait!.value.idempotency_key]).toBe(1);
      expect(statuses.some((s) => s.value.grant_id === waiting.grant_id)).toBe(false);

      // The grant near its deadline was escalated, not left waiting silently.
      const notifications = await collectRecords<NotificationRequestV1>(
        clients,
        from,
        [TOPICS.NOTIFICATIONS],
        ids,
        NotificationRequestV1Avro,
        (r) => r.length >= 1,
        30_000,
      );
      expect(notifications.map((n) => [n.value.grant_id, n.value.kind])).toEqual([
        [atRisk.grant_id, 'DEADLINE_AT_RISK'],
      ]);
      const audit = await collectAudit(
        clients,
        from,
        ids,
        (events) => events.filter((e) => e.value.stage === 'submission').length >= 7,
        30_000,
      );
      const actionsOf = (id: string) =>
        chainOrder(audit.map((e) => e.value).filter((e) => e.grant_id === id))
          .filter((e) => e.stage === 'submission')
          .map((e) => e.action);
      expect(actionsOf(atRisk.grant_id)).toEqual(['RETRY', 'ESCALATED']);
      expect(actionsOf(waiting.grant_id)).toEqual(['RETRY']);
      expect(actionsOf(shortWaiting.grant_id)).toEqual(['RETRY', 'SUBMITTED']);
      const escalated = audit.find((e) => e.value.action === 'ESCALATED');
      expect(notifications[0]?.headers['grantstream.audit.head']?.toString()).toBe(
        escalated?.value.event_hash,
      );
    },
  );
});
