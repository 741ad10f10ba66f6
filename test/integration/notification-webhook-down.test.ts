// Guarantee: a compliance officer's webhook that is down loses no
// notification and delivers none twice. While the webhook answers 503, the
// notification service retries (an INFRASTRUCTURE failure: its offset never
// moves past an undelivered notification) and nothing is stored; once the
// webhook is back, every notification of the scenario is delivered exactly
// once (the receiver keeps one copy per Idempotency-Key, and retries post the
// same key): compliance-blocked grants, a DEADLINE_AT_RISK request, a dead
// letter and a portal's terminal rejection, while an accepted grant's final
// status notifies nobody. Each delivery has one NOTIFIED audit event
// annotating the audit head its input carried, so every trail still verifies.
//
// Statuses here are terminal: a status-polling service of a scenario running
// at the same time reads grants.status.v1 too, and must find nothing to poll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_HEAD_HEADER, sha256Hex } from '@grantstream/audit';
import {
  DLQ_HEADERS,
  TOPICS,
  type AuditEventV1,
  type ComplianceBlockedGrantV1,
  type GrantStatusV1,
  type NotificationRequestV1,
} from '@grantstream/contracts';
import { stopStages, verifyAuditTrails } from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  testClients,
  uniqueName,
  hookUrlOf,
  produceTrails,
  scanSince,
  scenarioLogDir,
  simFunder,
  testConfig,
  waitForCaughtUp,
  waitUntil,
  startServiceGroup,
  startSimulator,
  type ServiceGroup,
  type Simulator,
  type TrailStep,
} from '@grantstream/testing';

const BLOCKED = 8;
/** The notification service's inputs. */
const INPUTS = [TOPICS.COMPLIANCE_BLOCKED, TOPICS.DLQ, TOPICS.STATUS, TOPICS.NOTIFICATIONS];

/** A delivered body, as the notification service posts it. */
interface Delivered {
  notification_id: string;
  kind: string;
  grant_id: string;
  details: Record<string, string>;
}

/** One input of the scenario: where it goes, the trail before it, and the notification it must give. */
interface Input {
  grantId: string;
  steps: TrailStep[];
  /** The kind notified, or null when the input must notify nobody. */
  kind: string | null;
  topic: string;
  /** The record's value, given the trail's head; Buffer for a raw (dead-letter) value. */
  value: (head: string) => unknown;
  headers?: (head: string) => Record<string, string>;
}

describe('notification with the webhook down', () => {
  const tag = uniqueName('x')
    .replace(/[^A-Z0-9]/gi, '')
    .slice(-6)
    .toUpperCase();
  // A funder and a webhook receiver of this run only.
  const funder = `NW${tag}`;
  const hook = `officer-${tag.toLowerCase()}`;
  const logDir = scenarioLogDir('notification-webhook-down');
  let clients: PlatformClients;
  let simulator: Simulator;
  let notification: ServiceGroup | undefined;

  beforeAll(async () => {
    clients = await testClients();
    simulator = await startSimulator({ [funder]: simFunder() }, logDir);
    await simulator.setHookDown(hook, true);
    // Short backoff caps keep the wait after the webhook returns short.
    notification = await startServiceGroup(clients, {
      service: 'notification',
      inputs: INPUTS,
      replicas: 1,
      logDir,
      env: {
        GRANTSTREAM__NOTIFICATION__WEBHOOK__URL: hookUrlOf(simulator, hook),
        GRANTSTREAM__RUNNER__RETRY__INITIAL_BACKOFF_MS: '100',
        GRANTSTREAM__RUNNER__RETRY__MAX_BACKOFF_MS: '1000',
      },
    });
  });
  afterAll(async () => {
    await stopStages(
      [...(notification?.processes ?? []), ...(simulator ? [simulator.process] : [])],
      20_000,
    );
    await clients?.close();
  });

  it(
    'retries until the webhook is back, then delivers each notification once with its audit event',
    { timeout: 180_000 },
    async () => {
      const now = Date.now();
      const grant = (n: number) => `${funder}-2026-${String(n).padStart(5, '0')}`;
      const trailOf = (grantId: string) => `trail-${grantId}`;

      const blocked = (grantId: string): ComplianceBlockedGrantV1 => ({
        grant_id: grantId,
        funder_id: funder,
        audit_trail_id: trailOf(grantId),
        decision: 'REJECT',
        compliance_flags: [
          {
            rule_id: 'deadline.passed',
            code: 'DEADLINE_PASSED',
            severity: 'CRITICAL',
            field: null,
            message: 'the deadline has passed',
          },
        ],
        compliance_tags: ['2 CFR 200.302', '2 CFR 200.334'],
        rule_pack_version: 'test',
        grant: {
          grant_id: grantId,
          funder_id: funder,
          funder_portal: 'portal.example',
          submission_deadline: now - 86_400_000,
          audit_trail_id: trailOf(grantId),
          normalized_fields: { project_title: 'Watershed sensors' },
          field_changes: [],
          attachments: [],
          normalizer_version: '1.0.0',
          normalized_at: now,
        },
        routed_at: now,
      });
      const status = (grantId: string, over: Partial<GrantStatusV1>): GrantStatusV1 => ({
        grant_id: grantId,
        funder_id: funder,
        funder_portal: 'portal.example',
        audit_trail_id: trailOf(grantId),
        idempotency_key: `key-${grantId}`,
        tracking_number: `TRK-${grantId}`,
        status: 'REJECTED_WITH_ERRORS',
        portal_messages: ['budget_narrative: missing'],
        terminal: true,
        submitted_at: now - 60_000,
        observed_at: now,
        next_poll_at: null,
        attempt: 3,
        ...over,
      });
      const atRisk = grant(BLOCKED + 1);
      const deadLetter = grant(BLOCKED + 2);
      const rejected = grant(BLOCKED + 3);
      const accepted = grant(BLOCKED + 4);

      const inputs: Input[] = [
        ...Array.from({ length: BLOCKED }, (_, i): Input => {
          const grantId = grant(i + 1);
          return {
            grantId,
            steps: [
              {
                stage: 'routing',
                action: 'REJECT',
                errorCategory: 'COMPLIANCE_BLOCK',
                severity: 'HIGH',
              },
            ],
            kind: 'COMPLIANCE_BLOCK',
            topic: TOPICS.COMPLIANCE_BLOCKED,
            value: () => blocked(grantId),
          };
        }),
        {
          grantId: atRisk,
          steps: [
            { stage: 'submission', action: 'RETRY', errorCategory: 'API_RATE_LIMIT' },
            { stage: 'submission', action: 'ESCALATED', errorCategory: 'DEADLINE_AT_RISK' },
          ],
          kind: 'DEADLINE_AT_RISK',
          topic: TOPICS.NOTIFICATIONS,
          value: (): NotificationRequestV1 => ({
            notification_id: sha256Hex(`DEADLINE_AT_RISK\n${atRisk}`),
            grant_id: atRisk,
            funder_id: funder,
            audit_trail_id: trailOf(atRisk),
            kind: 'DEADLINE_AT_RISK',
            error_category: 'API_RATE_LIMIT',
            severity: 'HIGH',
            summary: `${atRisk}: the next attempt is after the deadline`,
            details: { next_attempt_at: new Date(now + 900_000).toISOString() },
            deadline: now + 600_000,
            requested_by: 'submission',
            requested_at: now,
          }),
        },
        {
          grantId: deadLetter,
          steps: [
            {
              stage: 'submission',
              action: 'DEAD_LETTER',
              errorCategory: 'NETWORK_TIMEOUT',
              severity: 'MEDIUM',
            },
          ],
          kind: 'DEAD_LETTER',
          topic: TOPICS.DLQ,
          // A dead letter keeps the failed input's bytes as they were; nobody decodes them here.
          value: () => Buffer.from(`the routed record of ${deadLetter}`),
          headers: () => ({
            [DLQ_HEADERS.STAGE]: 'submission',
            [DLQ_HEADERS.SERVICE]: 'grantstream-submission@0.1.0',
            [DLQ_HEADERS.SOURCE_TOPIC]: TOPICS.ROUTED,
            [DLQ_HEADERS.SOURCE_PARTITION]: '0',
            [DLQ_HEADERS.SOURCE_OFFSET]: '42',
            [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
            [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
            [DLQ_HEADERS.REASON]: `${deadLetter} not filed: 8 attempts timed out`,
            [DLQ_HEADERS.ATTEMPTS]: '8',
            [DLQ_HEADERS.FAILED_AT]: new Date(now).toISOString(),
            [DLQ_HEADERS.GRANT_ID]: deadLetter,
            [DLQ_HEADERS.AUDIT_TRAIL_ID]: trailOf(deadLetter),
          }),
        },
        {
          grantId: rejected,
          steps: [
            { stage: 'submission', action: 'SUBMITTED' },
            {
              stage: 'status-polling',
              action: 'STATUS_CHANGED',
              errorCategory: 'FUNDER_REJECTION',
              severity: 'MEDIUM',
            },
          ],
          kind: 'FUNDER_REJECTION',
          topic: TOPICS.STATUS,
          value: () => status(rejected, {}),
        },
        {
          grantId: accepted,
          steps: [
            { stage: 'submission', action: 'SUBMITTED' },
            { stage: 'status-polling', action: 'STATUS_CHANGED' },
          ],
          kind: null,
          topic: TOPICS.STATUS,
          value: () =>
            status(accepted, { status: 'AGENCY_TRACKING_NUMBER_ASSIGNED', portal_messages: [] }),
        },
      ];
      const notifying = inputs.filter((i) => i.kind !== null);
      const ids = new Set(inputs.map((i) => i.grantId));

      const from = await clients.io.endOffsets([TOPICS.AUDIT, TOPICS.DLQ]);
      const inputsFrom = await clients.io.endOffsets(INPUTS);
      const heads = await produceTrails(
        clients,
        inputs.map((i) => ({
          grantId: i.grantId,
          auditTrailId: trailOf(i.grantId),
          steps: i.steps,
        })),
      );
      const headOf = (grantId: string) => heads.get(grantId) ?? '';
      for (const input of inputs) {
        const head = headOf(input.grantId);
        const value = input.value(head);
        await clients.io.produce(input.topic, [
          {
            key: input.grantId,
            value: Buffer.isBuffer(value) ? value : await clients.serde.encode(input.topic, value),
            headers: { ...input.headers?.(head), [AUDIT_HEAD_HEADER]: head },
          },
        ]);
      }

      // Down: the service keeps trying (attempts grow) and nothing is stored.
      const limits = { timeoutMs: testConfig().stack.readyTimeoutMs };
      const firstAttempts = await waitUntil(
        'a first webhook attempt',
        async () => {
          const { attempts } = await simulator.hook(hook);
          return attempts > 0 ? attempts : null;
        },
        limits,
      );
      expect(firstAttempts).toBeGreaterThan(0);
      // Still down after the service has tried again: it retries, and stores nothing.
      const whileDown = await waitUntil(
        'another webhook attempt while down',
        async () => {
          const view = await simulator.hook(hook);
          return view.attempts > firstAttempts ? view : null;
        },
        limits,
      );
      expect(whileDown.received).toEqual([]);
      expect(whileDown.attempts).toBeGreaterThan(firstAttempts);
      expect(notification?.processes.every((p) => p.child.exitCode === null)).toBe(true);

      // Up: every notification of this run arrives, each exactly once.
      await simulator.setHookDown(hook, false);
      const ours = (received: unknown[]) =>
        (received as Delivered[]).filter((b) => ids.has(b.grant_id));
      let view = await waitUntil(
        'every notification of the run delivered',
        async () => {
          const now = await simulator.hook(hook);
          return ours(now.received).length >= notifying.length ? now : null;
        },
        limits,
      );
      // Anything still in flight would show up as an extra copy or a
      // duplicate: once the service has consumed every input written since
      // the start, each of its POSTs has been answered and committed.
      await waitForCaughtUp(clients, notification?.metricsUrls ?? [], INPUTS, inputsFrom, limits);
      view = await simulator.hook(hook);
      const delivered = ours(view.received);
      console.info(
        `webhook ${hook}: ${view.attempts} attempts, ${view.received.length} stored ` +
          `(${delivered.length} of this scenario), ${view.duplicates} duplicates`,
      );
      expect(delivered.map((b) => [b.grant_id, b.kind]).sort()).toEqual(
        notifying.map((i) => [i.grantId, i.kind]).sort(),
      );
      expect(new Set(delivered.map((b) => b.notification_id)).size).toBe(notifying.length);
      for (const body of delivered) expect(body.notification_id).toMatch(/^[0-9a-f]{64}$/);
      const rejection = delivered.find((b) => b.grant_id === rejected);
      expect(rejection?.details['portal_message_1']).toBe('budget_narrative: missing');
      const deadLettered = delivered.find((b) => b.grant_id === deadLetter);
      expect(deadLettered?.details).toMatchObject({
        stage: 'submission',
        error_code: 'RETRY_BUDGET_EXHAUSTED',
        attempts: '8',
      });

      // One NOTIFIED event per notification, annotating its input's head; every trail verifies.
      const expected = (g: string) => {
        const input = inputs.find((i) => i.grantId === g);
        return 1 + (input?.steps.length ?? 0) + (input?.kind ? 1 : 0);
      };
      const { report, events } = await verifyAuditTrails(
        clients,
        new Map([[TOPICS.AUDIT, from.get(TOPICS.AUDIT) ?? new Map<number, string>()]]),
        ids,
        expected,
        60_000,
      );
      expect(report.findings).toEqual([]);
      expect(report.grants).toBe(ids.size);
      for (const input of inputs) {
        const mine = events.get(input.grantId) ?? [];
        expect(mine, input.grantId).toHaveLength(expected(input.grantId));
        const notified = mine.filter((e: AuditEventV1) => e.action === 'NOTIFIED');
        if (input.kind === null) {
          expect(notified, input.grantId).toEqual([]);
          continue;
        }
        expect(notified, input.grantId).toHaveLength(1);
        expect(notified[0], input.grantId).toMatchObject({
          stage: 'notification',
          previous_event_hash: headOf(input.grantId),
          source: { topic: input.topic },
          details: expect.objectContaining({
            kind: input.kind,
            // 201 stored; 200 when a redelivery after a crash found it already stored.
            webhook_status: expect.stringMatching(/^20[01]$/) as string,
          }) as Record<string, string>,
        });
        const body = delivered.find((b) => b.grant_id === input.grantId);
        expect(notified[0]?.details['notification_id'], input.grantId).toBe(body?.notification_id);
      }

      // The notification stage dead-lettered nothing of this scenario.
      const ownDeadLetters = (await scanSince(clients, from, TOPICS.DLQ, ids)).filter(
        (m) => m.headers[DLQ_HEADERS.STAGE]?.toString() === 'notification',
      );
      expect(ownDeadLetters.map((m) => m.headers[DLQ_HEADERS.REASON]?.toString())).toEqual([]);

      // A clean stop: the open chunk commits or aborts and the service exits 0.
      const processes = notification?.processes ?? [];
      await stopStages(processes, 20_000);
      expect(await Promise.all(processes.map((p) => p.exited))).toEqual(processes.map(() => 0));
    },
  );
});
