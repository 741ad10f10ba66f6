// Guarantee: status polling follows every accepted submission to a terminal
// status and publishes each status change exactly once. Grants filed with a
// funder simulator (real HTTP, statuses that move every second, one call in
// ten failing with a 5xx, half the grants rejected by the agency) and
// announced on grants.status.v1 as the submission stage announces them
// (RECEIVED, attempt 0, the trail's head) are followed by a status-polling
// service: each reaches AGENCY_TRACKING_NUMBER_ASSIGNED or
// REJECTED_WITH_ERRORS on grants.status.v1, as the portal itself reports, with
// its tracking number and the portal's messages; no grant shows the same
// status twice in a row or moves backwards; nothing follows a terminal
// status; unchanged polls only go back to grants.status.poll.v1, carrying the
// grant's audit head; nothing is dead-lettered; and every change has one
// STATUS_CHANGED audit event chained onto the grant's trail, which the chain
// verifier accepts.
//
// The grants are filed here rather than by a submission service: submission
// services of scenarios running at the same time read the whole of
// grants.routed.v1 and would dead-letter (and write audit events for) a
// funder they do not know.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_HEAD_HEADER } from '@grantstream/audit';
import {
  GrantStatusV1Avro,
  TOPICS,
  type GrantStatusV1,
  type SubmissionStatusV1,
} from '@grantstream/contracts';
import { stopStages, verifyAuditTrails } from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  testClients,
  uniqueName,
  clientFor,
  collectStatuses,
  decodeFramed,
  fileWithSimulator,
  portalStatusOf,
  produceTrails,
  scanSince,
  scenarioLogDir,
  simFunder,
  startServiceGroup,
  testConfig,
  waitForCaughtUp,
  startSimulator,
  statusesByGrant,
  tokenEnv,
  type ServiceGroup,
  type Simulator,
} from '@grantstream/testing';

const GRANTS = 16;
const POLL_INTERVAL_MS = 500;
const TERMINAL = new Set<SubmissionStatusV1>([
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
  'REJECTED_WITH_ERRORS',
]);
/** The order a grant's statuses may appear in: the accepted path, with a rejection after PROCESSING. */
const RANK: Record<SubmissionStatusV1, number> = {
  RECEIVED: 0,
  PROCESSING: 1,
  VALIDATED: 2,
  RECEIVED_BY_AGENCY: 3,
  AGENCY_TRACKING_NUMBER_ASSIGNED: 4,
  REJECTED_WITH_ERRORS: 4,
};

describe('status polling', () => {
  // A funder of this run only: no other scenario's service or limiter knows it.
  const tag = uniqueName('x')
    .replace(/[^A-Z0-9]/gi, '')
    .slice(-6)
    .toUpperCase();
  const funder = `SP${tag}`;
  const logDir = scenarioLogDir('status-polling');
  let clients: PlatformClients;
  let simulator: Simulator;
  let polling: ServiceGroup | undefined;

  beforeAll(async () => {
    clients = await testClients();
    // Each non-terminal status lasts a second, so several polls see no change.
    simulator = await startSimulator(
      {
        [funder]: simFunder({ statusDwellMs: 1000, statusRejectRate: 0.5, serverErrorRate: 0.1 }),
      },
      logDir,
    );
    polling = await startServiceGroup(clients, {
      service: 'status-polling',
      inputs: [TOPICS.STATUS, TOPICS.STATUS_POLL],
      replicas: 1,
      logDir,
      env: {
        ...tokenEnv(simulator),
        GRANTSTREAM__FUNDERS: JSON.stringify({
          [funder]: clientFor(funder, simulator, {
            status: { pollIntervalMs: POLL_INTERVAL_MS, giveUpAfterMs: 300_000 },
          }),
        }),
      },
    });
  });
  afterAll(async () => {
    await stopStages(
      [...(polling?.processes ?? []), ...(simulator ? [simulator.process] : [])],
      20_000,
    );
    await clients?.close();
  });

  it(
    'follows every submission to its terminal status, publishing each change once',
    { timeout: 180_000 },
    async () => {
      const ids = Array.from(
        { length: GRANTS },
        (_, i) => `${funder}-2026-${String(i + 1).padStart(5, '0')}`,
      );
      const wanted = new Set(ids);
      const from = await clients.io.endOffsets([
        TOPICS.STATUS,
        TOPICS.STATUS_POLL,
        TOPICS.AUDIT,
        TOPICS.DLQ,
      ]);

      // What the submission stage leaves for each filed grant: the trail up to
      // SUBMITTED, and the portal's first answer carrying the trail's head.
      const tracking = new Map<string, string>();
      for (const grantId of ids) {
        tracking.set(
          grantId,
          await fileWithSimulator(simulator, funder, grantId, `key-${grantId}`),
        );
      }
      const heads = await produceTrails(
        clients,
        ids.map((grantId) => ({
          grantId,
          auditTrailId: `trail-${grantId}`,
          steps: [{ stage: 'submission', action: 'SUBMITTED' }],
        })),
      );
      const now = Date.now();
      const received: GrantStatusV1[] = ids.map((grantId) => ({
        grant_id: grantId,
        funder_id: funder,
        funder_portal: 'portal.example',
        audit_trail_id: `trail-${grantId}`,
        idempotency_key: `key-${grantId}`,
        tracking_number: tracking.get(grantId) ?? null,
        status: 'RECEIVED',
        portal_messages: [],
        terminal: false,
        submitted_at: now,
        observed_at: now,
        next_poll_at: now + POLL_INTERVAL_MS,
        attempt: 0,
      }));
      await clients.io.produce(
        TOPICS.STATUS,
        await Promise.all(
          received.map(async (r) => ({
            key: r.grant_id,
            value: await clients.serde.encode(TOPICS.STATUS, r),
            headers: { [AUDIT_HEAD_HEADER]: heads.get(r.grant_id) ?? '' },
          })),
        ),
      );

      // Every grant reaches a terminal status.
      const terminalOf = (records: readonly { value: GrantStatusV1 }[]) =>
        new Set(records.filter((r) => TERMINAL.has(r.value.status)).map((r) => r.value.grant_id));
      const followed = await collectStatuses(
        clients,
        from,
        wanted,
        (r) => terminalOf(r).size >= GRANTS,
        120_000,
      );
      expect(ids.filter((g) => !terminalOf(followed).has(g))).toEqual([]);

      // Nothing more arrives once terminal: once the service has consumed
      // everything written to its inputs since the start (the terminal
      // statuses and every poll scheduled before them), it has nothing left
      // to act on; read everything again then.
      await waitForCaughtUp(
        clients,
        polling?.metricsUrls ?? [],
        [TOPICS.STATUS, TOPICS.STATUS_POLL],
        from,
        { timeoutMs: testConfig().stack.readyTimeoutMs },
      );
      const statuses = statusesByGrant(
        (await scanSince(clients, from, TOPICS.STATUS, wanted)).map((m) => ({
          topic: m.topic,
          value: decodeFramed<GrantStatusV1>(m.value, GrantStatusV1Avro),
          headers: m.headers,
          timestamp: Number(m.timestamp),
        })),
      );

      const finals = new Set<SubmissionStatusV1>();
      for (const grantId of ids) {
        const list = statuses.get(grantId) ?? [];
        // Ours first (attempt 0), then one record per change, ending with exactly one terminal status.
        expect(list[0]?.attempt, grantId).toBe(0);
        expect(
          list.filter((s) => TERMINAL.has(s.status)),
          grantId,
        ).toHaveLength(1);
        for (let i = 1; i < list.length; i += 1) {
          const [before, after] = [list[i - 1], list[i]];
          if (!before || !after) continue;
          // A change, never a repeat, and never backwards along the lifecycle.
          expect(after.status, `${grantId} #${i}`).not.toBe(before.status);
          expect(RANK[after.status], `${grantId} #${i}`).toBeGreaterThan(RANK[before.status]);
          expect(after.attempt, `${grantId} #${i}`).toBeGreaterThan(before.attempt);
          expect(after.tracking_number, grantId).toBe(tracking.get(grantId));
          expect(after.next_poll_at === null, grantId).toBe(after.terminal);
        }
        const last = list.at(-1);
        if (!last) continue;
        expect(last.terminal, grantId).toBe(true);
        finals.add(last.status);
        if (last.status === 'REJECTED_WITH_ERRORS')
          expect(last.portal_messages.length, grantId).toBeGreaterThan(0);
        // The terminal status is the portal's own.
        const portal = await portalStatusOf(simulator, funder, tracking.get(grantId) ?? '');
        expect(portal.grant_id).toBe(grantId);
        expect(last.status, grantId).toBe(portal.status);
      }
      // Both ends of the lifecycle were exercised (P(all alike) = 2 * 0.5^16).
      expect([...finals].sort()).toEqual([
        'AGENCY_TRACKING_NUMBER_ASSIGNED',
        'REJECTED_WITH_ERRORS',
      ]);

      // Nothing was dead-lettered.
      const deadLetters = await scanSince(clients, from, TOPICS.DLQ, wanted);
      expect(deadLetters.map((m) => m.headers['grantstream.dlq.reason']?.toString())).toEqual([]);

      // One STATUS_CHANGED event per published change; every trail verifies.
      const changes = (g: string) => (statuses.get(g)?.length ?? 1) - 1;
      const { report, events } = await verifyAuditTrails(
        clients,
        new Map([[TOPICS.AUDIT, from.get(TOPICS.AUDIT) ?? new Map<number, string>()]]),
        wanted,
        (g) => 2 + changes(g),
        60_000,
      );
      expect(report.findings).toEqual([]);
      expect(report.grants).toBe(GRANTS);
      const polls = await scanSince(clients, from, TOPICS.STATUS_POLL, wanted);
      expect(polls.length).toBeGreaterThan(0);
      for (const grantId of ids) {
        const mine = events.get(grantId) ?? [];
        const changed = mine.filter((e) => e.action === 'STATUS_CHANGED');
        expect(changed, grantId).toHaveLength(changes(grantId));
        const published = (statuses.get(grantId) ?? []).slice(1).map((s) => s.status);
        expect(changed.map((e) => e.details['to']).sort(), grantId).toEqual([...published].sort());
        for (const e of changed) {
          expect(e.stage).toBe('status-polling');
          expect(e.details['tracking_number']).toBe(tracking.get(grantId));
          if (e.details['to'] === 'AGENCY_TRACKING_NUMBER_ASSIGNED')
            expect(e.details['agency_tracking_number'], grantId).toBeTruthy();
          if (e.details['to'] === 'REJECTED_WITH_ERRORS') {
            expect(e.error_category, grantId).toBe('FUNDER_REJECTION');
            expect(e.details['messages'], grantId).toBeTruthy();
          }
        }
        // A rescheduled poll carries one of the grant's audit heads, never genesis or a stranger's.
        const hashes = new Set(mine.map((e) => e.event_hash));
        for (const p of polls.filter((m) => m.key?.toString() === grantId)) {
          expect(hashes.has(p.headers[AUDIT_HEAD_HEADER]?.toString() ?? ''), grantId).toBe(true);
        }
      }
    },
  );
});
