// Guarantee: a funder answer that never settles is given up, not polled
// forever, and every dead letter's attempts header is the number of attempts
// its reason reports. A portal whose replicas disagree (every status read
// flips VALIDATED, PROCESSING, VALIDATED ...) is followed by a
// status-polling service until the grant's give-up age, checked before the
// change is decided, or until the stage's bound on status transitions,
// whichever comes first: each grant then has a bounded number of status
// records (one per real transition, none repeated), one STATUS_CHANGED
// event per record, one DEAD_LETTER event (STATUS_UNRESOLVED) and one
// STATUS_UNRESOLVED notification delivered to the compliance officer, and
// nothing is written for it after the give-up. The dead letters of a
// submission that gave up after retrying in place, and of a retry-tier
// record carrying its earlier attempts, say in their attempts header the
// count their reason names, as does the status give-up (its polls).
//
// Funders, grants and the webhook receiver are this run's own, and so are
// the status, schedule and dead-letter topics its status-polling and
// notification services read and write: a status-polling group on the
// shared grants.status.v1 (the main job's follows every funder) would take
// these statuses too and dead-letter them UNKNOWN_FUNDER into these trails.
// The notification service delivers STATUS_UNRESOLVED only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_HEAD_HEADER, ChainVerifier, type VerificationReport } from '@grantstream/audit';
import {
  AuditEventV1Avro,
  DLQ_HEADERS,
  GrantStatusV1Avro,
  TOPICS,
  type AuditEventV1,
  type GrantStatusV1,
  type SubmissionRetryV1,
} from '@grantstream/contracts';
import type { PlatformClients, ReadMessage, TopicPositions } from '@grantstream/kafka';
import {
  aRoutedGrant,
  testClients,
  uniqueName,
  RETRY_TIER_TOPICS,
  clientFor,
  decodeFramed,
  endScenario,
  fileWithSimulator,
  hookUrlOf,
  produceRouted,
  produceTrails,
  scenarioLogDir,
  simFunder,
  startServiceGroup,
  startSimulator,
  tokenEnv,
  type ServiceGroup,
  type Simulator,
  createScopedTopics,
  deleteScopedTopics,
  testConfig,
  waitForReady,
} from '@grantstream/testing';

/** The stage's bound on status transitions in this run (statusPolling.maxStatusTransitions). */
const MAX_TRANSITIONS = 8;
/** The age-bound funder: a poll every 1.5 s, given up 6 s after submission (about 4 flips). */
const AGE_POLL_MS = 1500;
const AGE_GIVE_UP_MS = 6000;
/** The transition-bound funder: a poll every 200 ms, a give-up age far away. */
const FLIP_POLL_MS = 200;
/** The submission funder's retry budget: every attempt answered 500. */
const SUBMIT_ATTEMPTS = 4;
/** How long the flapping grants may take to be given up (service start-up included). */
const GIVE_UP_WITHIN_MS = 45_000;

/** A dead letter's header as text. */
const headerOf = (m: ReadMessage, name: string) => m.headers[name]?.toString();

/** The attempt count a dead letter's reason names ("after 4 attempt(s)", "after 12 polls"). */
function attemptsInReason(reason: string | undefined): number | null {
  const match = /after (\d+) (?:attempt|poll)/.exec(reason ?? '');
  return match ? Number(match[1]) : null;
}

/** Waits until every process of the group reports ready (consumer joined, broker and registry answer). */
async function untilReady(group: ServiceGroup): Promise<void> {
  for (const url of group.metricsUrls) {
    await waitForReady(url.replace(/\/metrics$/, '/health/ready'), {
      timeoutMs: testConfig().stack.readyTimeoutMs,
    });
  }
}

/** The grant a record is about: its key, or the grant part of an audit key (grant_id:event_id). */
function grantOf(m: ReadMessage): string {
  const key = m.key?.toString() ?? '';
  return m.topic === TOPICS.AUDIT ? key.slice(0, key.lastIndexOf(':')) : key;
}

/**
 * The records of `grantIds` on `topics` since `from` (read_committed), each
 * once, followed until `done` holds or the time is up. Once: a follower
 * starved of CPU misses its heartbeats, rejoins and is handed its partitions
 * again from the start. Followed, not scanned: a scan stops at the last
 * stable offset, which another scenario's open transaction can hold back.
 */
async function followOnce(
  clients: PlatformClients,
  from: TopicPositions,
  topics: readonly string[],
  grantIds: ReadonlySet<string>,
  done: (records: readonly ReadMessage[]) => boolean,
  timeoutMs: number,
): Promise<ReadMessage[]> {
  const seen = new Set<string>();
  const records: ReadMessage[] = [];
  await clients.io.follow(
    new Map(topics.map((t) => [t, from.get(t) ?? new Map<number, string>()])),
    (m) => {
      const position = `${m.topic}/${m.partition}/${m.offset}`;
      if (!grantIds.has(grantOf(m)) || seen.has(position)) return false;
      seen.add(position);
      records.push(m);
      return done(records);
    },
    timeoutMs,
  );
  return records;
}

/** Every grant's audit events since `from` once each grant has `expected(grant)`, and their chains verified. */
async function auditOf(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  expected: (grantId: string) => number,
  timeoutMs: number,
): Promise<{ report: VerificationReport; events: Map<string, AuditEventV1[]> }> {
  const complete = (records: readonly ReadMessage[]) =>
    [...grantIds].every((g) => records.filter((m) => grantOf(m) === g).length >= expected(g));
  const raw = await followOnce(clients, from, [TOPICS.AUDIT], grantIds, complete, timeoutMs);
  const verifier = new ChainVerifier();
  const events = new Map<string, AuditEventV1[]>();
  for (const m of raw) {
    // Decoded with its writer's schema: the audit contract may have moved on since ours.
    const { value: event } = await clients.serde.decodeAs<AuditEventV1>(m.value, AuditEventV1Avro);
    verifier.add({ key: m.key?.toString() ?? '', event, partition: m.partition, offset: m.offset });
    events.set(event.grant_id, [...(events.get(event.grant_id) ?? []), event]);
  }
  return { report: verifier.finish(), events };
}

describe('status polling of a status that never settles', () => {
  const tag = uniqueName('x')
    .replace(/[^A-Z0-9]/gi, '')
    .slice(-6)
    .toUpperCase();
  const ageFunder = `FA${tag}`;
  const flipFunder = `FT${tag}`;
  const failingFunder = `FD${tag}`;
  const ageGrant = `${ageFunder}-2026-00001`;
  const flipGrant = `${flipFunder}-2026-00001`;
  const hook = `officer-${tag.toLowerCase()}`;
  const logDir = scenarioLogDir('status-polling-flapping');
  let clients: PlatformClients;
  let simulator: Simulator;
  let polling: ServiceGroup | undefined;
  let notification: ServiceGroup | undefined;
  let submission: ServiceGroup | undefined;
  /** This run's own copies of the status, schedule and dead-letter topics, by declared name. */
  let scoped = new Map<string, string>();
  const own = (declared: string) => scoped.get(declared) ?? declared;

  beforeAll(async () => {
    clients = await testClients();
    scoped = await createScopedTopics(
      clients,
      [TOPICS.STATUS, TOPICS.STATUS_POLL, TOPICS.DLQ],
      `flapping-${tag.toLowerCase()}`,
    );
    simulator = await startSimulator(
      {
        [ageFunder]: simFunder({ statusDwellMs: 100, flapGrantIds: [ageGrant] }),
        [flipFunder]: simFunder({ statusDwellMs: 100, flapGrantIds: [flipGrant] }),
        [failingFunder]: simFunder({ serverErrorRate: 1 }),
      },
      logDir,
    );
    [polling, notification, submission] = await Promise.all([
      startServiceGroup(clients, {
        service: 'status-polling',
        inputs: [own(TOPICS.STATUS), own(TOPICS.STATUS_POLL)],
        replicas: 1,
        logDir,
        env: {
          ...tokenEnv(simulator),
          GRANTSTREAM__STATUS_POLLING__TOPICS__STATUS: own(TOPICS.STATUS),
          GRANTSTREAM__STATUS_POLLING__TOPICS__POLL: own(TOPICS.STATUS_POLL),
          GRANTSTREAM__RUNNER__DEAD_LETTER_TOPIC: own(TOPICS.DLQ),
          GRANTSTREAM__STATUS_POLLING__MAX_STATUS_TRANSITIONS: String(MAX_TRANSITIONS),
          GRANTSTREAM__FUNDERS: JSON.stringify({
            [ageFunder]: clientFor(ageFunder, simulator, {
              status: { pollIntervalMs: AGE_POLL_MS, giveUpAfterMs: AGE_GIVE_UP_MS },
            }),
            [flipFunder]: clientFor(flipFunder, simulator, {
              status: { pollIntervalMs: FLIP_POLL_MS, giveUpAfterMs: 600_000 },
            }),
          }),
        },
      }),
      startServiceGroup(clients, {
        service: 'notification',
        inputs: [TOPICS.COMPLIANCE_BLOCKED, own(TOPICS.DLQ), TOPICS.STATUS, TOPICS.NOTIFICATIONS],
        replicas: 1,
        logDir,
        env: {
          // Told of this run's dead letters (the status give-ups), not the broker's.
          GRANTSTREAM__RUNNER__DEAD_LETTER_TOPIC: own(TOPICS.DLQ),
          GRANTSTREAM__NOTIFICATION__WEBHOOK__URL: hookUrlOf(simulator, hook),
          GRANTSTREAM__NOTIFICATION__KINDS: JSON.stringify(['STATUS_UNRESOLVED']),
        },
      }),
      startServiceGroup(clients, {
        service: 'submission',
        inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
        replicas: 1,
        logDir,
        env: {
          ...tokenEnv(simulator),
          GRANTSTREAM__FUNDERS: JSON.stringify({
            [failingFunder]: clientFor(failingFunder, simulator, {
              // Backoffs well within the inline bound: every retry waits in place.
              retry: { maxAttempts: SUBMIT_ATTEMPTS, initialBackoffMs: 20, maxBackoffMs: 50 },
              // The circuit stays closed: each call reaches the portal and counts.
              circuit: { consecutiveFailures: 1000, halfOpenAfterMs: 3000 },
            }),
          }),
        },
      }),
    ]);
    await Promise.all([polling, notification, submission].map((g) => untilReady(g)));
  }, 180_000);
  afterAll(async () => {
    // Stages stopped first (the clients stay open), then this run's topics removed.
    await endScenario(undefined, [polling, notification, submission], simulator);
    await deleteScopedTopics(clients, scoped).finally(() => clients.close());
  });

  it(
    'gives a flapping status up at its age or its transition bound, with bounded records, an audit event and a notification',
    { timeout: 180_000 },
    async () => {
      const grants = new Set([ageGrant, flipGrant]);
      const status = own(TOPICS.STATUS);
      const poll = own(TOPICS.STATUS_POLL);
      const dlq = own(TOPICS.DLQ);
      const from = await clients.io.endOffsets([status, poll, TOPICS.AUDIT, dlq]);
      const tracking = new Map<string, string>();
      for (const grantId of grants) {
        tracking.set(
          grantId,
          await fileWithSimulator(
            simulator,
            grantId.split('-')[0] ?? '',
            grantId,
            `key-${grantId}`,
          ),
        );
      }
      const heads = await produceTrails(
        clients,
        [...grants].map((grantId) => ({
          grantId,
          auditTrailId: `trail-${grantId}`,
          steps: [{ stage: 'submission', action: 'SUBMITTED' as const }],
        })),
      );
      const now = Date.now();
      const received: GrantStatusV1[] = [
        { grantId: ageGrant, funderId: ageFunder, pollMs: AGE_POLL_MS },
        { grantId: flipGrant, funderId: flipFunder, pollMs: FLIP_POLL_MS },
      ].map(({ grantId, funderId, pollMs }) => ({
        grant_id: grantId,
        funder_id: funderId,
        funder_portal: 'portal.example',
        audit_trail_id: `trail-${grantId}`,
        idempotency_key: `key-${grantId}`,
        tracking_number: tracking.get(grantId) ?? null,
        status: 'RECEIVED',
        portal_messages: [],
        terminal: false,
        submitted_at: now,
        observed_at: now,
        next_poll_at: now + pollMs,
        attempt: 0,
      }));
      await clients.io.produce(
        status,
        await Promise.all(
          received.map(async (r) => ({
            key: r.grant_id,
            value: await clients.serde.encode(status, r),
            headers: { [AUDIT_HEAD_HEADER]: heads.get(r.grant_id) ?? '' },
          })),
        ),
      );

      // Each grant is given up (dead-lettered), in bounded time.
      const letters = await followOnce(
        clients,
        from,
        [dlq],
        grants,
        (l) => new Set(l.map(grantOf)).size >= grants.size,
        GIVE_UP_WITHIN_MS,
      );
      const letterOf = (grantId: string) => letters.find((m) => grantOf(m) === grantId);
      // The status records a given-up grant has: ours, and one per transition its reason names.
      const recordsOf = (grantId: string) => {
        const letter = letterOf(grantId);
        const named =
          letter && /(\d+) status transitions/.exec(headerOf(letter, DLQ_HEADERS.REASON) ?? '');
        return named ? 1 + Number(named[1]) : Number.POSITIVE_INFINITY;
      };
      const statusesSince = async (done: (r: readonly ReadMessage[]) => boolean, ms: number) =>
        (await followOnce(clients, from, [status], grants, done, ms)).map((m) => ({
          value: decodeFramed<GrantStatusV1>(m.value, GrantStatusV1Avro),
          timestamp: Number(m.timestamp),
        }));
      const countOf = (records: readonly { value: GrantStatusV1 }[], grantId: string) =>
        records.filter((r) => r.value.grant_id === grantId).length;
      const soFar = await statusesSince(
        (r) => [...grants].every((g) => r.filter((m) => grantOf(m) === g).length >= recordsOf(g)),
        letters.length > 0 ? 30_000 : 5_000,
      );
      // At most the transition bound's records after ours (RECEIVED), whatever the portal says.
      expect
        .soft(countOf(soFar, flipGrant), `status records of ${flipGrant} (the transition bound)`)
        .toBe(1 + MAX_TRANSITIONS);
      expect
        .soft(countOf(soFar, ageGrant), `status records of ${ageGrant} (its give-up age)`)
        .toBeLessThan(1 + MAX_TRANSITIONS);
      // One dead letter per grant.
      expect(letters.map(grantOf).sort(), 'grants given up').toEqual([...grants].sort());

      // Nothing follows a give-up: several poll intervals later the records are the same.
      const givenUpAt = Math.max(...letters.map((l) => Number(l.timestamp)));
      const later = await followOnce(
        clients,
        from,
        [status, poll],
        grants,
        () => false,
        4 * AGE_POLL_MS,
      );
      const statuses = later
        .filter((m) => m.topic === status)
        .map((m) => ({ value: decodeFramed<GrantStatusV1>(m.value, GrantStatusV1Avro) }));
      expect(statuses.length).toBe(soFar.length);
      expect(later.filter((m) => m.topic === poll && Number(m.timestamp) > givenUpAt)).toEqual([]);

      for (const grantId of grants) {
        const list = statuses.filter((s) => s.value.grant_id === grantId).map((s) => s.value);
        // A record per real transition: never the same status twice in a row.
        for (let i = 1; i < list.length; i += 1)
          expect(list[i]?.status, `${grantId} #${i}`).not.toBe(list[i - 1]?.status);
        expect(list.every((s) => !s.terminal)).toBe(true);
        const letter = letterOf(grantId)!;
        expect(headerOf(letter, DLQ_HEADERS.ERROR_CODE)).toBe('STATUS_UNRESOLVED');
        expect(headerOf(letter, DLQ_HEADERS.STAGE)).toBe('status-polling');
        // The attempts header is the polls the reason reports.
        const reason = headerOf(letter, DLQ_HEADERS.REASON);
        expect(Number(headerOf(letter, DLQ_HEADERS.ATTEMPTS)), reason).toBe(
          attemptsInReason(reason),
        );
      }
      // The age grant: given up at its age, before its transition bound; no change published past the age.
      expect(headerOf(letterOf(ageGrant)!, DLQ_HEADERS.REASON)).toMatch(/give-up age 6000 ms/);
      const ageStatuses = statuses.filter((s) => s.value.grant_id === ageGrant);
      expect(ageStatuses.length).toBeLessThan(1 + MAX_TRANSITIONS);
      for (const s of ageStatuses)
        expect(s.value.observed_at - s.value.submitted_at).toBeLessThanOrEqual(AGE_GIVE_UP_MS);
      // The flipping grant: given up at the transition bound.
      expect(headerOf(letterOf(flipGrant)!, DLQ_HEADERS.REASON)).toMatch(
        new RegExp(`${MAX_TRANSITIONS} status transitions \\(the bound\\)`),
      );

      // Audit: one STATUS_CHANGED per record after ours, one DEAD_LETTER, one NOTIFIED; chains verify.
      const changes = (g: string) => countOf(statuses, g) - 1;
      const { report, events } = await auditOf(
        clients,
        from,
        grants,
        // INGESTED and SUBMITTED (ours), the changes, DEAD_LETTER and NOTIFIED.
        (g) => 2 + changes(g) + 2,
        60_000,
      );
      expect(report.findings).toEqual([]);
      for (const grantId of grants) {
        const mine = events.get(grantId) ?? [];
        const actions = mine.map((e) => e.action);
        expect(
          actions.filter((a) => a === 'STATUS_CHANGED'),
          grantId,
        ).toHaveLength(changes(grantId));
        const deadLetter = mine.filter((e) => e.action === 'DEAD_LETTER');
        expect(deadLetter, grantId).toHaveLength(1);
        expect(deadLetter[0]?.error_category).toBe('STATUS_UNRESOLVED');
        expect(deadLetter[0]?.details['attempts']).toBe(
          headerOf(letterOf(grantId)!, DLQ_HEADERS.ATTEMPTS),
        );
        expect(
          actions.filter((a) => a === 'NOTIFIED'),
          grantId,
        ).toHaveLength(1);
      }

      // The compliance officer was told, once per grant, that the status never resolved.
      const delivered = (await simulator.hook(hook)).received as {
        kind: string;
        grant_id: string;
      }[];
      expect(
        delivered
          .filter((d) => grants.has(d.grant_id))
          .map((d) => `${d.grant_id} ${d.kind}`)
          .sort(),
      ).toEqual([...grants].map((g) => `${g} STATUS_UNRESOLVED`).sort());
    },
  );

  it(
    'reports in the attempts header the attempts its reason names: in place, and carried by a retry tier',
    { timeout: 120_000 },
    async () => {
      const inPlace = aRoutedGrant(`${failingFunder}-2026-00001`);
      const fromTier = aRoutedGrant(`${failingFunder}-2026-00002`);
      const grants = new Set([inPlace.grant_id, fromTier.grant_id]);
      const from = await clients.io.endOffsets([TOPICS.DLQ, TOPICS.AUDIT]);

      // Retried in place until the budget is spent.
      await produceRouted(clients, [inPlace]);
      // A tier record after SUBMIT_ATTEMPTS - 1 attempts: the next one is its last.
      const heads = await produceTrails(clients, [
        {
          grantId: fromTier.grant_id,
          auditTrailId: fromTier.audit_trail_id,
          steps: [{ stage: 'submission', action: 'RETRY', errorCategory: 'NETWORK_TIMEOUT' }],
        },
      ]);
      const now = Date.now();
      const retry: SubmissionRetryV1 = {
        grant_id: fromTier.grant_id,
        audit_trail_id: fromTier.audit_trail_id,
        routed: fromTier,
        attempt: SUBMIT_ATTEMPTS - 1,
        not_before: now,
        last_error_category: 'API_RATE_LIMIT',
        last_error_message: 'HTTP 500 internal server error',
        idempotency_key: `key-${fromTier.grant_id}`,
        first_attempt_at: now - 10_000,
      };
      // The submission group's own shortest tier (see startServiceGroup).
      const tier = submission?.retryTiers[0] ?? TOPICS.SUBMISSION_RETRY_1S;
      await clients.io.produce(tier, [
        {
          key: retry.grant_id,
          value: await clients.serde.encode(tier, retry),
          headers: { [AUDIT_HEAD_HEADER]: heads.get(retry.grant_id) ?? '' },
        },
      ]);

      const letters = await followOnce(
        clients,
        from,
        [TOPICS.DLQ],
        grants,
        (l) => l.length >= grants.size,
        60_000,
      );
      expect(letters.map((m) => m.key?.toString()).sort()).toEqual([...grants].sort());
      const seen = letters.map((m) => ({
        grant: m.key?.toString(),
        header: Number(headerOf(m, DLQ_HEADERS.ATTEMPTS)),
        inReason: attemptsInReason(headerOf(m, DLQ_HEADERS.REASON)),
      }));
      expect(seen.sort((a, b) => String(a.grant).localeCompare(String(b.grant)))).toEqual(
        [...grants].sort().map((grant) => ({
          grant,
          header: SUBMIT_ATTEMPTS,
          inReason: SUBMIT_ATTEMPTS,
        })),
      );
      // The DEAD_LETTER events record the same count.
      const { events } = await auditOf(
        clients,
        from,
        grants,
        // INGESTED, a RETRY per attempt retried in place and DEAD_LETTER; the tier
        // grant's INGESTED and RETRY (ours) and DEAD_LETTER.
        (g) => (g === inPlace.grant_id ? SUBMIT_ATTEMPTS + 1 : 3),
        30_000,
      );
      for (const grantId of grants) {
        const deadLetter = (events.get(grantId) ?? []).filter((e) => e.action === 'DEAD_LETTER');
        expect(
          deadLetter.map((e) => e.details['attempts']),
          grantId,
        ).toEqual([String(SUBMIT_ATTEMPTS)]);
      }
    },
  );
});
