// Guarantee: an application is filed with its funder once per content,
// whatever re-delivers it. Through the real stages (ingest, normalization,
// routing, submission) and the funder simulator: the same application bytes
// produced twice are filed once, and the second copy's trail records a
// duplicate (details.duplicate_of_trail) that links the first trail; a changed application with the same
// grant id is filed again, its SUBMITTED event linking the earlier trail as a
// resubmission; a new consumer group reading the ingest topic from the
// beginning files nothing and records every re-read application as a
// duplicate; and a submission process killed between two copies restores its
// state from the changelog topic, so the second copy is still a duplicate.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTrailIdFor, isDuplicateEvent } from '@grantstream/audit';
import { TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import {
  WORKSPACE_ROOT,
  runScopedGroups,
  startStages,
  stopStages,
  type StageProcess,
} from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  testClients,
  testConfig,
  uniqueName,
  exactTopicPattern,
  anNsfSubmission,
  createIngestTopic,
  scenarioDir,
  waitForLog,
  writePdf,
  RETRY_TIER_TOPICS,
  clientFor,
  collectAudit,
  createContentStateTopic,
  endScenario,
  freePort,
  simFunder,
  startServiceGroup,
  startSimulator,
  tokenEnv,
  type Followed,
  type ServiceGroup,
  type Simulator,
} from '@grantstream/testing';

/**
 * A funder only this run's stages know (a copy of NSF's rule pack under an id
 * of its own): other scenarios' stages share the topics and the funder
 * limiters' Redis ids, and would otherwise handle this scenario's grants too
 * (theirs dead-letter a funder they have no pack for, and their submission
 * groups skip it); an earlier run's limiter state in Redis is not reused.
 */
const FUNDER = `IDM${Array.from({ length: 4 }, () =>
  String.fromCharCode(65 + Math.floor(Math.random() * 26)),
).join('')}`;
const WAIT_MS = 120_000;
const graceMs = testConfig().runner.shutdownGraceMs;

describe('content-level idempotency through the pipeline', () => {
  let clients: PlatformClients;
  let simulator: Simulator;
  let submission: ServiceGroup;
  let upstream: StageProcess[] = [];
  let rereader: StageProcess[] = [];
  let ingestTopic: string;
  let ingestGroup: string;
  let env: Record<string, string>;
  const dir = scenarioDir('idempotent-content');
  const tag = uniqueName('I')
    .replace(/[^A-Z0-9]/gi, '')
    .slice(-8)
    .toUpperCase();

  beforeAll(async () => {
    clients = await testClients();
    simulator = await startSimulator({ [FUNDER]: simFunder() }, dir);
    const packDir = join(dir, 'rule-packs');
    mkdirSync(packDir);
    // The example packs every stage loads (config/grantstream.yaml rules.packDir).
    const packs = join(WORKSPACE_ROOT, 'examples/rule-packs');
    for (const file of readdirSync(packs)) copyFileSync(join(packs, file), join(packDir, file));
    writeFileSync(
      join(packDir, `${FUNDER.toLowerCase()}.yaml`),
      readFileSync(join(packs, 'nsf.yaml'), 'utf8').replace(
        /^funder_id: NSF$/m,
        `funder_id: ${FUNDER}`,
      ),
    );
    ingestTopic = await createIngestTopic(clients, 'idempotent', 3);
    const changelog = await createContentStateTopic(clients, 'idempotent');
    env = {
      ...tokenEnv(simulator),
      GRANTSTREAM__FUNDERS: JSON.stringify({ [FUNDER]: clientFor(FUNDER, simulator) }),
      GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
      GRANTSTREAM__RULES__PACK_DIR: packDir,
      GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC: changelog,
    };
    submission = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: 1,
      logDir: dir,
      env,
    });
    const groups = await runScopedGroups(clients, uniqueName('idem'), [
      'ingest',
      'normalization',
      'routing',
    ]);
    ingestGroup = groups['GRANTSTREAM__INGEST__RUNNER__GROUP_ID'] ?? '';
    upstream = startStages(['ingest', 'normalization', 'routing'], {
      logDir: dir,
      env: {
        ...env,
        ...groups,
        // Only this scenario's topic: never another scenario's or the main job's records.
        GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([ingestTopic]),
        ...(await metricsPorts(['INGEST', 'NORMALIZATION', 'ROUTING'])),
      },
    });
    for (const s of upstream) await waitForLog(s, /stage service consuming/, 90_000);
    const [sub] = submission.processes;
    if (sub) await waitForLog(sub, /stage service consuming/, 90_000);
  }, 240_000);

  afterAll(async () => {
    // The grace is read at the start: a config file changed meanwhile must not leave stages running.
    try {
      await stopStages([...upstream, ...rereader], graceMs);
    } finally {
      await endScenario(clients, [submission], simulator);
    }
  });

  /** Audit events of `grantId` written since `from` until `done` holds. */
  const eventsOf = async (
    grantId: string,
    from: Awaited<ReturnType<PlatformClients['io']['endOffsets']>>,
    done: (events: readonly AuditEventV1[]) => boolean,
  ): Promise<AuditEventV1[]> =>
    (
      await collectAudit(
        clients,
        from,
        new Set([grantId]),
        (events: readonly Followed<AuditEventV1>[]) => done(events.map((e) => e.value)),
        WAIT_MS,
      )
    ).map((e) => e.value);

  /**
   * Submissions the portal created for `grantId`: every key it filed, looked
   * up for its grant (other scenarios' grants may reach this pipeline's
   * stages through their own ingest topics; they do not count here).
   */
  const grantOfKey = new Map<string, string>();
  const filings = async (grantId: string): Promise<number> => {
    const token = String(simulator.funders[FUNDER]?.['token']);
    const keys = Object.keys((await simulator.stats(FUNDER)).submissionsPerKey);
    for (const key of keys.filter((k) => !grantOfKey.has(k))) {
      const response = await fetch(
        `${simulator.url}/funders/${FUNDER}/v2/submissions?idempotency_key=${encodeURIComponent(key)}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      expect(response.status).toBe(200);
      grantOfKey.set(key, ((await response.json()) as { grant_id: string }).grant_id);
    }
    return [...grantOfKey.values()].filter((g) => g === grantId).length;
  };
  const ofTrail = (events: readonly AuditEventV1[], trail: string) =>
    events.filter((e) => e.audit_trail_id === trail);
  const submitted = (events: readonly AuditEventV1[], trail: string) =>
    ofTrail(events, trail).filter((e) => e.action === 'SUBMITTED');
  const duplicates = (events: readonly AuditEventV1[], trail: string) =>
    ofTrail(events, trail).filter(isDuplicateEvent);
  const contentHashOfTrail = (events: readonly AuditEventV1[], trail: string) =>
    ofTrail(events, trail).find((e) => e.action === 'VALIDATED')?.details['content_hash'];
  /** The trail's duplicate event made from this pipeline's own copy (the one naming ingest's hash). */
  const ownDuplicate = (events: readonly AuditEventV1[], trail: string) =>
    duplicates(events, trail).find(
      (e) => e.details['content_hash'] === contentHashOfTrail(events, trail),
    );

  /**
   * Produces the same application bytes `copies` times and returns the trail
   * id ingest (`group`) gives each copy: trails are derived from the position
   * and the group, so the scenario knows them before they exist. Other
   * scenarios' stages may read the shared topics too and add copies of their
   * own; assertions name these trails.
   */
  const produceCopies = async (bytes: Buffer, grantId: string, copies: number) => {
    const before = await clients.io.endOffsets([ingestTopic]);
    await clients.io.produce(
      ingestTopic,
      Array.from({ length: copies }, () => ({ key: grantId, value: bytes })),
    );
    const after = await clients.io.endOffsets([ingestTopic]);
    const positions: { topic: string; partition: number; offset: number }[] = [];
    for (const [partition, end] of after.get(ingestTopic) ?? new Map<number, string>()) {
      const start = Number(before.get(ingestTopic)?.get(partition) ?? '0');
      for (let offset = start; offset < Number(end); offset += 1)
        positions.push({ topic: ingestTopic, partition, offset });
    }
    expect(positions).toHaveLength(copies);
    return positions;
  };
  const trailsOf = (
    positions: readonly { topic: string; partition: number; offset: number }[],
    group: string,
  ) => positions.map((p) => auditTrailIdFor(p, group));

  const grantA = `${FUNDER}-2026-00001-${tag}`;
  let positionsA: { topic: string; partition: number; offset: number }[] = [];
  let firstTrail = '';
  let copyTrail = '';
  let changedTrail = '';

  it('files identical bytes sent twice once and records the second copy as a duplicate of the first trail', async () => {
    const app = anNsfSubmission(grantA, [writePdf(dir, 'narrative-a.pdf', 'project narrative')]);
    const bytes = await clients.serde.encode(ingestTopic, app);
    const from = await clients.io.endOffsets([TOPICS.AUDIT]);
    positionsA = await produceCopies(bytes, grantA, 2);
    [firstTrail = '', copyTrail = ''] = trailsOf(positionsA, ingestGroup);

    const events = await eventsOf(
      grantA,
      from,
      (es) => submitted(es, firstTrail).length > 0 && ownDuplicate(es, copyTrail) !== undefined,
    );
    expect(await filings(grantA)).toBe(1);
    expect(submitted(events, firstTrail)[0]?.details['created']).toBe('true');
    expect(submitted(events, copyTrail)).toEqual([]);
    // Both trails started at ingest with the same content hash; the copy links the first trail.
    const hash = contentHashOfTrail(events, firstTrail);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHashOfTrail(events, copyTrail)).toBe(hash);
    expect(submitted(events, firstTrail)[0]?.details['content_hash']).toBe(hash);
    const duplicate = ownDuplicate(events, copyTrail);
    expect(duplicate?.details['duplicate_of_trail']).toBe(firstTrail);
    expect(duplicate?.details['outcome']).toBe('DUPLICATE');
    for (const e of duplicates(events, copyTrail))
      expect(e.details['duplicate_of_trail']).toBe(firstTrail);
  }, 180_000);

  it('files a changed application with the same grant id as a resubmission linked to the earlier trail', async () => {
    const changed = anNsfSubmission(grantA, [
      writePdf(dir, 'narrative-a2.pdf', 'project narrative, revised budget'),
    ]);
    const from = await clients.io.endOffsets([TOPICS.AUDIT]);
    const positions = await produceCopies(
      await clients.serde.encode(ingestTopic, changed),
      grantA,
      1,
    );
    positionsA.push(...positions);
    [changedTrail = ''] = trailsOf(positions, ingestGroup);

    const events = await eventsOf(grantA, from, (es) => submitted(es, changedTrail).length > 0);
    const [resubmitted] = submitted(events, changedTrail);
    expect(resubmitted?.details['resubmission_of_trail']).toBe(firstTrail);
    expect(resubmitted?.details['created']).toBe('true');
    expect(resubmitted?.details['content_hash']).not.toBe(
      contentHashOfTrail(events, firstTrail) ?? '',
    );
    expect(duplicates(events, changedTrail)).toEqual([]);
    expect(await filings(grantA)).toBe(2);
  }, 180_000);

  it('files nothing when a new consumer group re-reads the ingest topic from the beginning', async () => {
    const from = await clients.io.endOffsets([TOPICS.AUDIT]);
    // A fresh deployment: its own ingest group, at the start of this scenario's topic.
    const group = uniqueName('test.ingest.reread');
    const others = (await clients.admin.listTopics()).filter(
      (t) => /^grants\.ingest\..+$/.test(t) && t !== ingestTopic,
    );
    const positions = await clients.io.endOffsets(others);
    const starts = await clients.io.endOffsets([ingestTopic]);
    positions.set(
      ingestTopic,
      new Map(
        [...(starts.get(ingestTopic) ?? new Map<number, string>()).keys()].map((p) => [p, '0']),
      ),
    );
    await clients.admin.setGroupOffsets(group, positions);
    rereader = startStages(['ingest'], {
      logDir: dir,
      suffix: '-reread',
      env: {
        ...env,
        GRANTSTREAM__INGEST__RUNNER__GROUP_ID: group,
        GRANTSTREAM__INGEST__RUNNER__TRANSACTIONAL_ID_PREFIX: group,
        GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([ingestTopic]),
        ...(await metricsPorts(['INGEST'])),
      },
    });

    // Three applications on the topic: both copies of the first content and the changed one.
    const reread = trailsOf(positionsA, group);
    expect(new Set([...reread, firstTrail, copyTrail, changedTrail]).size).toBe(6);
    const events = await eventsOf(grantA, from, (es) =>
      reread.every((t) => ownDuplicate(es, t) !== undefined),
    );
    expect(reread.map((t) => ownDuplicate(events, t)?.details['duplicate_of_trail'])).toEqual([
      firstTrail,
      firstTrail,
      changedTrail,
    ]);
    for (const t of reread) expect(submitted(events, t)).toEqual([]);
    expect(await filings(grantA)).toBe(2);
    await stopStages(rereader, graceMs);
    rereader = [];
  }, 180_000);

  it('keeps recognising a copy after the submission process is killed and restarted between the copies', async () => {
    const grantB = `${FUNDER}-2026-00002-${tag}`;
    const app = anNsfSubmission(grantB, [writePdf(dir, 'narrative-b.pdf', 'another narrative')]);
    const bytes = await clients.serde.encode(ingestTopic, app);
    let from = await clients.io.endOffsets([TOPICS.AUDIT]);
    const [trail = ''] = trailsOf(await produceCopies(bytes, grantB, 1), ingestGroup);
    await eventsOf(grantB, from, (es) => submitted(es, trail).length > 0);

    // The only submission process dies; a new one (empty memory) takes every partition.
    const victim = submission.processes[0];
    victim?.child.kill('SIGKILL');
    await victim?.exited;
    const restarted = submission.restart(0);
    await waitForLog(restarted, /stage service consuming/, 90_000);

    from = await clients.io.endOffsets([TOPICS.AUDIT]);
    const [again = ''] = trailsOf(await produceCopies(bytes, grantB, 1), ingestGroup);
    const events = await eventsOf(grantB, from, (es) => ownDuplicate(es, again) !== undefined);
    expect(submitted(events, again)).toEqual([]);
    expect(ownDuplicate(events, again)?.details['duplicate_of_trail']).toBe(trail);
    expect(await filings(grantB)).toBe(1);
    await waitForLog(restarted, /content state restored/, 1000);
  }, 240_000);
});

/** Free metrics ports for the stages started here (the defaults may be taken by a running stack). */
async function metricsPorts(sections: readonly string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const section of sections)
    env[`GRANTSTREAM__${section}__METRICS__PORT`] = String(await freePort());
  return env;
}
