// Guarantee: a scenario's ingest stage decides only its own inputs. Scoped by
// ingest.topicPattern to its own ingest topics, a stage in a fresh consumer
// group (which reads from the beginning) validates every record of its own
// topic and never consumes another grants.ingest.* topic, here a second
// scenario's topic that already holds valid applications: no validation, dead
// letter or audit event of this stage's group names a record of that topic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTrailIdFor } from '@grantstream/audit';
import {
  AuditEventV1Avro,
  INGEST_TOPIC_PATTERN,
  TOPICS,
  ValidatedGrantV2Avro,
  type AuditEventV1,
  type GrantSubmissionV2,
  type ValidatedGrantV2,
} from '@grantstream/contracts';
import type { PlatformClients, ReadMessage } from '@grantstream/kafka';
import {
  scenarioIngest,
  testClients,
  testConfig,
  uniqueName,
  anNsfSubmission,
  createNamedIngestTopic,
  produceSubmissions,
  scenarioDir,
  writePdf,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

const PARTITIONS = 3;
const PER_TOPIC = 4;
/** Startup of a stage process plus validating a handful of small applications. */
const TIMEOUT_MS = 120_000;

describe('a scenario ingest reads only its own ingest topics', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  const dir = scenarioDir('ingest-scope');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    await clients.close();
  });

  it('validates its own records and never consumes the other topic', async () => {
    const scope = scenarioIngest('scope');
    const own = await createNamedIngestTopic(clients, scope.topic('records'), PARTITIONS);
    // Another scenario's topic: a grants.ingest.* name the default pattern would read.
    const other = await createNamedIngestTopic(
      clients,
      scenarioIngest('scope-other').topic('records'),
      PARTITIONS,
    );
    expect(INGEST_TOPIC_PATTERN.test(other)).toBe(true);

    const tag = () =>
      uniqueName('S')
        .replace(/[^A-Z0-9]/gi, '')
        .slice(-10)
        .toUpperCase();
    const pdf = writePdf(dir, 'narrative.pdf', 'project narrative');
    const batch = (n: number): GrantSubmissionV2[] =>
      Array.from({ length: n }, (_, i) =>
        anNsfSubmission(`NSF-2026-${String(i + 1).padStart(5, '0')}-${tag()}`, [pdf]),
      );
    const otherGrants = batch(PER_TOPIC);
    const ownGrants = batch(PER_TOPIC);
    const from = await clients.io.endOffsets([TOPICS.VALIDATED, TOPICS.DLQ, TOPICS.AUDIT]);
    // The other topic's records are there before the stage starts, as history is.
    await produceSubmissions(clients, other, otherGrants);
    await produceSubmissions(clients, own, ownGrants);

    stages = startStages(['ingest'], {
      logDir: dir,
      env: {
        ...scope.env,
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
        GRANTSTREAM__INGEST__METRICS__PORT: '0',
      },
    });

    // Trail ids this stage's group gives the other topic's records, had it read them.
    const foreignTrails = new Set<string>();
    for (let partition = 0; partition < PARTITIONS; partition += 1)
      for (let offset = 0; offset < PER_TOPIC; offset += 1)
        foreignTrails.add(auditTrailIdFor({ topic: other, partition, offset }, scope.group));
    const ownIds = new Set(ownGrants.map((g) => g.grant_id));
    const otherIds = new Set(otherGrants.map((g) => g.grant_id));
    const grantOf = (m: ReadMessage) => {
      const key = m.key?.toString() ?? '';
      return m.topic === TOPICS.AUDIT ? key.slice(0, key.lastIndexOf(':')) : key;
    };

    // Everything the pipeline wrote about either topic's grants until all of ours are validated.
    const seen: ReadMessage[] = [];
    const ownValidated = new Set<string>();
    await clients.io.follow(
      from,
      (m) => {
        const grant = grantOf(m);
        if (!ownIds.has(grant) && !otherIds.has(grant)) return false;
        seen.push(m);
        if (m.topic === TOPICS.VALIDATED && ownIds.has(grant)) ownValidated.add(grant);
        return ownValidated.size >= ownIds.size;
      },
      TIMEOUT_MS,
    );
    expect([...ownValidated].sort()).toEqual([...ownIds].sort());

    const consumedForeign: string[] = [];
    for (const m of seen) {
      if (!otherIds.has(grantOf(m))) continue;
      if (m.topic === TOPICS.VALIDATED) {
        const { value } = await clients.serde.decodeAs<ValidatedGrantV2>(
          m.value,
          ValidatedGrantV2Avro,
        );
        if (foreignTrails.has(value.audit_trail_id))
          consumedForeign.push(`validated ${value.grant_id}`);
      } else if (m.topic === TOPICS.AUDIT) {
        const { value } = await clients.serde.decodeAs<AuditEventV1>(m.value, AuditEventV1Avro);
        if (foreignTrails.has(value.audit_trail_id))
          consumedForeign.push(`${value.action} ${value.grant_id}`);
      } else {
        // A dead letter of this group for the other topic names its trail in its headers.
        const headers = Object.values(m.headers).map((h) => h?.toString() ?? '');
        if (headers.some((h) => foreignTrails.has(h)))
          consumedForeign.push(`dead letter ${grantOf(m)}`);
      }
    }
    expect(consumedForeign).toEqual([]);
    const stage = stages[0];
    expect(stage?.child.exitCode).toBeNull();
  }, 240_000);
});
