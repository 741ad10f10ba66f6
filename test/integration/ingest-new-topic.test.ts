// Guarantee: a new upstream parser adds its topic without a deploy or a
// restart. A grants.ingest.* topic created while the ingest service runs (one
// under this scenario's prefix, which its ingest.topicPattern matches, so it
// reads no other scenario's topics) is consumed by that same process and its
// application validated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrantSubmissionV2Avro, TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  escapeRegex,
  scenarioIngest,
  testClients,
  testConfig,
  uniqueName,
  anNsfSubmission,
  awaitValidated,
  produceSubmissions,
  scenarioDir,
  waitForLog,
  writePdf,
  freePort,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

const scope = scenarioIngest('new-topic');
const BUDGET_TOPIC = scope.topic('budget');

describe('ingest picks up a new ingest topic', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  const dir = scenarioDir('new-topic');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    await clients.close();
  });

  it('consumes a grants.ingest topic created after the service started', async () => {
    const metricsPort = await freePort();
    stages = startStages(['ingest'], {
      logDir: dir,
      env: {
        ...scope.env,
        GRANTSTREAM__INGEST__METRICS__PORT: String(metricsPort),
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
        GRANTSTREAM__RUNNER__TOPICREFRESHINTERVALMS: '2000',
      },
    });
    const ingest = stages[0];
    if (!ingest) throw new Error('ingest did not start');
    await waitForLog(ingest, /stage service consuming/, 90_000);
    const pid = ingest.child.pid;

    await clients.admin.createTopics([
      { name: BUDGET_TOPIC, partitions: 3, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
    await clients.serde.register(
      BUDGET_TOPIC,
      GrantSubmissionV2Avro,
      testConfig().topics.compatibility,
    );
    const tag = uniqueName('B')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-10)
      .toUpperCase();
    const submission = anNsfSubmission(`NSF-2026-00001-${tag}`, [
      writePdf(dir, 'budget-justification.pdf', 'budget justification'),
    ]);
    const from = await clients.io.endOffsets([TOPICS.VALIDATED]);
    await produceSubmissions(clients, BUDGET_TOPIC, [submission]);

    const validated = await awaitValidated(clients, from, new Set([submission.grant_id]), 90_000);
    expect(validated.get(submission.grant_id)?.source_topic).toBe(BUDGET_TOPIC);
    // Its metrics count the new topic's input.
    const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const counted = new RegExp(
      `grantstream_stage_messages_in_total\\{topic="${escapeRegex(BUDGET_TOPIC)}"[^}]*\\} [1-9]`,
    );
    expect(scraped).toMatch(counted);
    // The same process, never restarted.
    expect(ingest.child.pid).toBe(pid);
    expect(ingest.child.exitCode).toBeNull();
  }, 180_000);
});
