// Guarantee: a transactional stage whose commit answers are lost in flight
// still commits every output exactly once. On the three-node cluster, a fault
// proxy in front of each broker lets each TxnOffsetCommit or EndTxn request
// reach its coordinator and then cuts the connection instead of relaying the
// answer, at least 20 times in one batch: the runner must find the outcome of
// each such commit by itself. A read_committed reader of the whole output
// then sees every output once: 0 duplicates, 0 losses, no input skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import {
  ApiKey,
  endTxnCommits,
  testClients,
  testLogger,
  type CutEvent,
} from '@grantstream/testing';
import { fanoutHandler, hopRunnerConfig, produceGrants, type HopTopics } from '../support/fanout';
import {
  clusterConfig,
  clusterProxies,
  createClusterHopTopics,
  exactlyOnceReport,
  inputEnds,
  waitAllCommitted,
} from './support/cluster';

const INPUTS = 1200;
const FANOUT = 3;
const PARTITIONS = 3;
/** Small transactions: many commits, so every armed cut finds one. */
const CHUNK = 20;
/** Answers withheld, per API: at least 20 lost answers in all. */
const CUTS_PER_API = 12;

describe('lost commit answers on the cluster', () => {
  const config = clusterConfig();
  const proxies = clusterProxies(config);
  let clients: PlatformClients;
  let t: HopTopics;

  beforeAll(async () => {
    clients = await testClients(config, testLogger().child({}, { level: 'fatal' }));
    t = await createClusterHopTopics(clients, config, 'lost-answer', PARTITIONS);
    await produceGrants(clients, t.input, INPUTS);
    await proxies.start();
  });

  afterAll(async () => {
    // A node restarts faster with fewer partitions to load: the scenario's topics go.
    if (t) await clients.admin.deleteTopics([t.input, t.output, t.dlq]).catch(() => undefined);
    await proxies.close();
    await clients?.close().catch(() => undefined);
  });

  it(`commits ${INPUTS} inputs x ${FANOUT} exactly once with ${2 * CUTS_PER_API} commit answers cut`, async () => {
    const started = Date.now();
    const cuts: CutEvent[] = [];
    proxies.onCut((e) => cuts.push(e));
    proxies.cutResponses(ApiKey.TxnOffsetCommit, CUTS_PER_API);
    // Commits only: the abort that follows a lost TxnOffsetCommit answer goes through.
    proxies.cutResponses(ApiKey.EndTxn, CUTS_PER_API, (_h, frame) => endTxnCommits(frame));
    let committed = 0;
    let aborted = 0;
    const runner = new StageRunner({
      service: { stage: 'lost-answer', name: 'lost-answer-stage', version: '0' },
      config: hopRunnerConfig(t, { maxBatchMessages: CHUNK }),
      // Every connection of the stage goes through the proxies.
      kafka: createKafka(
        { ...config.kafka, brokers: proxies.addresses(config.stack.host) },
        testLogger().child({}, { level: 'fatal' }),
      ),
      serde: clients.serde,
      handlers: [fanoutHandler({ inputTopic: t.input, outputTopic: t.output, fanout: FANOUT })],
      logger: testLogger().child({}, { level: 'warn' }),
    });
    runner.on('committed', () => (committed += 1));
    runner.on('aborted', () => (aborted += 1));
    const ends = await inputEnds(clients, t.input);
    await runner.start();
    try {
      await waitAllCommitted(
        clients,
        t.group,
        t.input,
        ends,
        config.stack.readyTimeoutMs * 2,
        config.stack.faults.pollMs,
      );
    } finally {
      await runner.stop();
    }
    const report = await exactlyOnceReport(clients, config, t.output, ends, FANOUT);
    const byApi = (key: number) => cuts.filter((c) => c.request.apiKey === key).length;
    process.stdout.write(
      `${JSON.stringify({
        scenario: 'lost-commit-answer',
        ms: Date.now() - started,
        cuts: { txnOffsetCommit: byApi(ApiKey.TxnOffsetCommit), endTxn: byApi(ApiKey.EndTxn) },
        transactions: { committed, aborted },
        ...report,
      })}\n`,
    );

    expect(cuts.length).toBeGreaterThanOrEqual(20);
    expect(report.duplicated).toBe(0);
    expect(report.missing).toBe(0);
    expect(report.inputsSkipped).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(report.outputs).toBe(INPUTS * FANOUT);
  });
});
