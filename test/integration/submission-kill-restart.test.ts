// Guarantee: a crash or a stop of the submission service loses nothing and
// files nothing twice. 500 grants go to a portal that times out on 10% of
// calls (after filing them); the submission process is killed with SIGKILL —
// or, in the second run, stopped with SIGTERM, when it must exit 0 within its
// grace period — in the middle of the batch and started again. Every grant
// still reaches a terminal status (status polling follows each to the end),
// the portal holds exactly one submission per grant and per idempotency key
// (a retry after a timeout asks before it sends), a read_committed reader sees
// no status of a grant twice, and every grant's audit trail — each attempt,
// retry and status change — is one intact hash chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainVerifier, chainOrder } from '@grantstream/audit';
import { TOPICS, type GrantStatusV1 } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  aRoutedGrant,
  testClients,
  testConfig,
  uniqueName,
  RETRY_TIER_TOPICS,
  clientFor,
  endScenario,
  collectAudit,
  collectStatuses,
  produceRouted,
  scenarioLogDir,
  simFunder,
  startServiceGroup,
  statusesByGrant,
  startSimulator,
  tokenEnv,
  type ServiceGroup,
  type Simulator,
} from '@grantstream/testing';

const FUNDER = 'KILL';
const GRANTS = 500;
const TERMINAL = new Set<GrantStatusV1['status']>([
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
  'REJECTED_WITH_ERRORS',
]);

describe.each(['SIGKILL', 'SIGTERM'] as const)('%s of submission mid-batch', (signal) => {
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  let polling: ServiceGroup;
  const logDir = scenarioLogDir('submission-kill-restart');

  beforeAll(async () => {
    clients = await testClients();
    simulator = await startSimulator(
      {
        [FUNDER]: simFunder({
          rateLimitPerSecond: 1000,
          timeoutRate: 0.1,
          timeoutDelayMs: 3000,
          validationFailureRate: 0.02,
          statusDwellMs: 300,
          statusRejectRate: 0.05,
        }),
      },
      logDir,
    );
    const env = {
      ...tokenEnv(simulator),
      GRANTSTREAM__FUNDERS: JSON.stringify({
        [FUNDER]: clientFor(FUNDER, simulator, {
          timeoutMs: 1000,
          ratePerSecond: 100,
          maxConcurrent: 50,
          retry: { maxAttempts: 12, initialBackoffMs: 200, maxBackoffMs: 2000 },
          circuit: { consecutiveFailures: 50, halfOpenAfterMs: 1000 },
        }),
      }),
    };
    submission = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: 1,
      logDir,
      env,
    });
    polling = await startServiceGroup(clients, {
      service: 'status-polling',
      inputs: [TOPICS.STATUS, TOPICS.STATUS_POLL],
      replicas: 1,
      logDir,
      env,
    });
  });
  afterAll(() => endScenario(clients, [submission, polling], simulator));

  it(
    'brings every grant to a terminal status with one submission per key and intact trails',
    { timeout: 300_000 },
    async () => {
      const tag = uniqueName('k')
        .replace(/[^a-z0-9]/gi, '')
        .slice(-6)
        .toUpperCase();
      const grants = Array.from({ length: GRANTS }, (_, i) =>
        aRoutedGrant(`${FUNDER}-2026-${String(i).padStart(5, '0')}-${tag}`),
      );
      const ids = new Set(grants.map((g) => g.grant_id));
      const from = await clients.io.endOffsets([TOPICS.STATUS, TOPICS.AUDIT]);
      await produceRouted(clients, grants);

      // Stop once a good part of the batch is filed, with the rest in flight.
      await collectStatuses(clients, from, ids, (r) => r.length >= GRANTS * 0.3, 120_000);
      const victim = submission.processes[0];
      const signalled = Date.now();
      victim?.child.kill(signal);
      const code = await victim?.exited;
      if (signal === 'SIGTERM') {
        // A graceful stop: in-flight calls are cut short, the open chunk commits or aborts.
        expect(code).toBe(0);
        expect(Date.now() - signalled).toBeLessThan(testConfig().runner.shutdownGraceMs);
      }
      const createdAtKill = (await simulator.stats(FUNDER)).created;
      expect(createdAtKill).toBeLessThan(GRANTS);
      submission.restart(0);

      const terminalOf = new Map<string, GrantStatusV1>();
      const statuses = await collectStatuses(
        clients,
        from,
        ids,
        (records) => {
          const last = records[records.length - 1]?.value;
          if (last && TERMINAL.has(last.status)) terminalOf.set(last.grant_id, last);
          return terminalOf.size >= GRANTS;
        },
        240_000,
      );
      expect(terminalOf.size).toBe(GRANTS);

      // One filing per grant: a grant never has two tracking numbers, and the
      // portal created exactly one submission per grant it accepted.
      const trackingOf = new Map<string, Set<string>>();
      for (const s of statuses) {
        if (s.value.tracking_number === null) continue;
        const set = trackingOf.get(s.value.grant_id) ?? new Set();
        set.add(s.value.tracking_number);
        trackingOf.set(s.value.grant_id, set);
      }
      expect([...trackingOf.values()].every((set) => set.size === 1)).toBe(true);
      const stats = await simulator.stats(FUNDER);
      expect(stats.created).toBe(trackingOf.size);
      expect(Object.values(stats.submissionsPerKey).every((n) => n === 1)).toBe(true);
      expect(Object.keys(stats.submissionsPerKey)).toHaveLength(trackingOf.size);
      expect(stats.timeouts).toBeGreaterThan(0);
      const keys = new Set(statuses.map((s) => s.value.idempotency_key));
      expect(keys.size).toBe(GRANTS);
      // Nothing duplicated downstream: each status of a grant was published once.
      const repeated = [...statusesByGrant(statuses)].filter(
        ([, list]) => new Set(list.map((s) => s.status)).size !== list.length,
      );
      expect(repeated.map(([id, list]) => `${id}: ${list.map((s) => s.status).join(',')}`)).toEqual(
        [],
      );
      // Refused payloads were filed nowhere; a refusal whose transaction the
      // kill cut off was asked again, so the portal may count it twice.
      const rejectedAtSubmit = [...terminalOf.values()].filter((s) => s.tracking_number === null);
      expect(rejectedAtSubmit.length).toBeGreaterThan(0);
      expect(stats.rejections).toBeGreaterThanOrEqual(rejectedAtSubmit.length);
      expect(trackingOf.size + rejectedAtSubmit.length).toBe(GRANTS);

      // Every grant's trail: attempts and retries, one filing decision, status changes, intact.
      const ended = new Set<string>();
      const audit = await collectAudit(
        clients,
        from,
        ids,
        (events) => {
          const e = events[events.length - 1]?.value;
          const to = e?.details['to'] ?? e?.details['status'];
          const decides = e?.action === 'STATUS_CHANGED' || e?.action === 'SUBMITTED';
          if (e && decides && to && TERMINAL.has(to as GrantStatusV1['status']))
            ended.add(e.grant_id);
          return ended.size >= GRANTS;
        },
        90_000,
      );
      const verifier = new ChainVerifier();
      for (const e of audit) {
        verifier.add({
          key: `${e.value.grant_id}:${e.value.event_id}`,
          event: e.value,
          partition: 0,
          offset: '0',
        });
      }
      const report = verifier.finish();
      expect(report.findings).toEqual([]);
      let timeoutRetries = 0;
      for (const id of ids) {
        const trail = chainOrder(audit.map((e) => e.value).filter((e) => e.grant_id === id));
        const submissionSteps = trail.filter((e) => e.stage === 'submission');
        const decisions = submissionSteps.filter((e) => e.action !== 'RETRY');
        expect(decisions).toHaveLength(1);
        expect(submissionSteps[submissionSteps.length - 1]).toBe(decisions[0]);
        timeoutRetries += submissionSteps.filter(
          (e) => e.action === 'RETRY' && e.error_category === 'NETWORK_TIMEOUT',
        ).length;
        const terminal = terminalOf.get(id);
        if (terminal?.tracking_number) {
          expect(decisions[0]?.action).toBe('SUBMITTED');
          // Polling saw it become terminal, or the portal already had it there when a
          // resubmission after the crash was answered from the earlier filing.
          expect(
            trail.some((e) => (e.details['to'] ?? e.details['status']) === terminal.status),
          ).toBe(true);
        }
      }
      // Timed-out calls appear in the trails (those of the killed transaction are redone).
      expect(timeoutRetries).toBeGreaterThan(0);
      console.log(
        `${signal} at ${createdAtKill}/${GRANTS} filed; ${stats.created} created, ${stats.timeouts} timeouts, ${stats.replays} replays, ${timeoutRetries} timeout retries audited, ${audit.length} events`,
      );
    },
  );
});
