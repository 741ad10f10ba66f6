// Guarantee: the main job (`npm start`) on the three-node cluster gives the
// same outcome report as on one node. The example batch runs through the
// whole pipeline twice, with one run tag, so both runs submit the same
// grant ids and the funder simulator (seeded, per-grant decisions by hash of
// the grant id) decides each grant alike: once on the cluster mode
// (config/cluster.yaml: replication 3, min.insync.replicas 2) and once on a
// single-node stack of its own (test/cluster/single-node.yaml: the default
// stack's settings on other ports, beside the shared stack). Their `--json`
// reports agree on everything but timings and ids: applications decided,
// routing destinations, block and dead-letter categories, each forwarded
// grant's final status, per-funder counts, the audit verdict and the signed
// checkpoint covering the run.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT, type MainJobReport } from '@grantstream/harness';
import { ENTRY, runTs, type CliResult } from '@grantstream/testing';
import { CLUSTER_ENV, clusterConfig } from './support/cluster';
import { outcomeShape } from './support/outcome-report';

/** The single-node reference stack's overlay: its own state folder and ports. */
const SINGLE_NODE_ENV: NodeJS.ProcessEnv = {
  GRANTSTREAM_CONFIG: join(WORKSPACE_ROOT, 'test/cluster/single-node.yaml'),
};

/** The report a `--json` run printed on its last line of stdout. */
function reportOf(run: CliResult, where: string): MainJobReport {
  expect(run.code, `${where}: ${run.stderr.slice(-4000)}`).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as MainJobReport;
}

describe('the main job on the cluster and on one node', () => {
  const config = clusterConfig();
  // Each run starts its stack, the simulator, six stages, the checkpointer and
  // the console, then follows the batch: a few of the stack's ready waits.
  const runTimeoutMs = config.stack.readyTimeoutMs * 4;

  afterAll(async () => {
    // The reference stack is the scenario's own: it goes when the scenario ends.
    await runTs(ENTRY.stack, ['down'], { env: SINGLE_NODE_ENV });
  });

  it(
    'gives the same outcome report on three nodes as on one',
    { timeout: 2 * runTimeoutMs + config.stack.readyTimeoutMs },
    async () => {
      const started = Date.now();
      const runTag = `C${started.toString(36).toUpperCase()}`;
      const args = ['--json', '--run-tag', runTag, '--timeout-ms', String(runTimeoutMs)];
      // One after the other: two whole pipelines at once on two cores time
      // out handlers and registry calls, and such a run's dead letters would
      // differ from the other's for a reason that is not the cluster.
      const single = await runTs(ENTRY.mainJob, args, {
        env: SINGLE_NODE_ENV,
        timeoutMs: runTimeoutMs,
      });
      const cluster = await runTs(ENTRY.mainJob, args, {
        env: CLUSTER_ENV,
        timeoutMs: runTimeoutMs,
      });
      const onCluster = reportOf(cluster, 'main job on the cluster');
      const onOneNode = reportOf(single, 'main job on one node');
      const shapes = { cluster: outcomeShape(onCluster), single: outcomeShape(onOneNode) };
      process.stdout.write(
        `${JSON.stringify({
          scenario: 'main-job',
          ms: Date.now() - started,
          runTag,
          totalMs: { cluster: onCluster.totalMs, single: onOneNode.totalMs },
          ok: { cluster: onCluster.ok, single: onOneNode.ok },
          byCategory: shapes.cluster.byCategory,
        })}\n`,
      );

      // Both runs finished the batch and found it as the fixtures say.
      expect(shapes.single.ok).toBe(true);
      expect(shapes.single.decided).toBe(shapes.single.applications);
      expect(shapes.single.unfinished).toBe(0);
      expect(shapes.single.checkpointed).toBe(true);
      expect(onCluster.runTag).toBe(onOneNode.runTag);
      // The cluster run said the same about every grant and in every total.
      expect(shapes.cluster.byFunder).toEqual(shapes.single.byFunder);
      expect(shapes.cluster.byCategory).toEqual(shapes.single.byCategory);
      expect(shapes.cluster.grants).toEqual(shapes.single.grants);
      expect(shapes.cluster).toEqual(shapes.single);
    },
  );
});
