// Guarantee: exactly once through broker failover (Kafka's own
// TransactionsBounceTest is the model). 10,000 inputs go through a
// transactional stage with 3 outputs each while the nodes of the three-node
// cluster are stopped and restarted one at a time, hard kills (kill -9) and
// clean shutdowns (SIGTERM) in turn, the transaction coordinator, the group
// coordinator, a partition leader and the active controller among them, at
// least 5 restarts during the batch. A read_committed reader of the whole
// output then sees every output exactly once, each input partition's outputs
// in their input order, and no input skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import {
  ClusterFaults,
  testClients,
  testLogger,
  type BounceRecord,
  type NodeFault,
  type NodeRole,
} from '@grantstream/testing';
import { fanoutHandler, hopRunnerConfig, produceGrants, type HopTopics } from '../support/fanout';
import {
  CLUSTER_ENV,
  clusterConfig,
  createClusterHopTopics,
  exactlyOnceReport,
  inputEnds,
  waitAllCommitted,
} from './support/cluster';

const INPUTS = 10_000;
const FANOUT = 3;
const PARTITIONS = 6;
const CHUNK = 100;

describe('bounce: nodes restarted one at a time under a transactional stage', () => {
  const config = clusterConfig();
  const faults = new ClusterFaults(config, CLUSTER_ENV);
  let clients: PlatformClients;
  let t: HopTopics;

  beforeAll(async () => {
    clients = await testClients(config, testLogger().child({}, { level: 'fatal' }));
    t = await createClusterHopTopics(clients, config, 'bounce', PARTITIONS);
    await produceGrants(clients, t.input, INPUTS);
  });

  afterAll(async () => {
    // A node restarts faster with fewer partitions to load: the scenario's topics go.
    if (t) await clients.admin.deleteTopics([t.input, t.output, t.dlq]).catch(() => undefined);
    await clients?.close().catch(() => undefined);
  });

  it(`commits ${INPUTS} inputs x ${FANOUT} exactly once through node restarts`, async () => {
    const txId = (p: number) => `${t.prefix}.${t.input}.${p}`;
    // Each bounce picks its node by role at that moment: whoever holds it then goes down.
    const plan: [NodeRole, NodeFault][] = [
      [{ role: 'transactionCoordinator', transactionalId: txId(0) }, 'SIGKILL'],
      [{ role: 'groupCoordinator', groupId: t.group }, 'SIGTERM'],
      [{ role: 'partitionLeader', topic: t.input, partition: 1 }, 'SIGKILL'],
      [{ role: 'activeController' }, 'SIGTERM'],
      [{ role: 'groupCoordinator', groupId: t.group }, 'SIGKILL'],
      [{ role: 'transactionCoordinator', transactionalId: txId(3) }, 'SIGTERM'],
    ];
    // The batch is paced by the bounces, not by a clock: the stage handles
    // its share of the inputs for one bounce, then waits for that bounce's
    // signal, so every restart lands while transactions are in flight and
    // the batch cannot finish before the last one.
    const share = Math.floor(INPUTS / (plan.length + 1));
    let handled = 0;
    let signalled = 0;
    const signals: (() => void)[] = [];
    const nextSignal = () => new Promise<void>((resolve) => signals.push(resolve));
    const pace = async () => {
      handled += 1;
      while (signalled < plan.length && handled > (signalled + 1) * share + share / 2)
        await nextSignal();
    };

    const started = Date.now();
    const runner = new StageRunner({
      service: { stage: 'bounce', name: 'bounce-stage', version: '0' },
      config: hopRunnerConfig(t, { maxBatchMessages: CHUNK }),
      kafka: createKafka(config.kafka, testLogger().child({}, { level: 'fatal' })),
      serde: clients.serde,
      handlers: [
        fanoutHandler({
          inputTopic: t.input,
          outputTopic: t.output,
          fanout: FANOUT,
          onHandle: pace,
        }),
      ],
      logger: testLogger().child({}, { level: 'error' }),
    });
    let committed = 0;
    let aborted = 0;
    runner.on('committed', () => (committed += 1));
    runner.on('aborted', () => (aborted += 1));
    const ends = await inputEnds(clients, t.input);
    const bounces: BounceRecord[] = [];
    await runner.start();
    try {
      for (const [i, [role, fault]] of plan.entries()) {
        while (handled < (i + 1) * share)
          await new Promise((r) => setTimeout(r, config.stack.faults.pollMs));
        const node = await faults.find(role);
        const down = Date.now();
        await faults.signal(node, fault);
        signalled += 1;
        for (const release of signals.splice(0)) release();
        await faults.restart(node);
        bounces.push({ node, role: role.role, fault, outageMs: Date.now() - down });
      }
      await waitAllCommitted(
        clients,
        t.group,
        t.input,
        ends,
        config.stack.readyTimeoutMs * 2,
        config.stack.faults.pollMs,
      );
    } finally {
      signalled = plan.length;
      for (const release of signals.splice(0)) release();
      await runner.stop();
    }
    const report = await exactlyOnceReport(clients, config, t.output, ends, FANOUT);
    process.stdout.write(
      `${JSON.stringify({
        scenario: 'bounce',
        ms: Date.now() - started,
        bounces,
        transactions: { committed, aborted },
        handled,
        ...report,
      })}\n`,
    );

    expect(bounces.length).toBeGreaterThanOrEqual(5);
    expect(new Set(bounces.map((b) => b.fault))).toEqual(new Set(['SIGKILL', 'SIGTERM']));
    expect(report.duplicated).toBe(0);
    expect(report.missing).toBe(0);
    expect(report.inputsSkipped).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(report.outputs).toBe(INPUTS * FANOUT);
  });
});
