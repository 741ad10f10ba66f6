// Guarantee: a zombie cannot commit. Two processes run a transactional stage
// in one consumer group on the three-node cluster. One of them is frozen
// with SIGSTOP at the moment it has sent the first request of a transaction's
// offset commit (AddOffsetsToTxn, seen by the fault proxy it connects
// through), and stays frozen until the other member holds all its partitions
// and has committed on each. Woken, the frozen member goes on with the same
// transaction: the broker must refuse it (its producer was fenced), no
// commit of its may succeed for a partition it no longer owns, and a
// read_committed reader sees every output exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClients } from '@grantstream/kafka';
import { ApiKey, testClients, testLogger, type TsProcess } from '@grantstream/testing';
import { produceGrants, spawnFanoutStage, type HopTopics } from '../support/fanout';
import {
  CLUSTER_ENV,
  clusterConfig,
  clusterProxies,
  createClusterHopTopics,
  exactlyOnceReport,
  inputEnds,
  waitAllCommitted,
} from './support/cluster';

const INPUTS = 6000;
const FANOUT = 3;
const PARTITIONS = 6;
/** Work per message: the batch lasts through the freeze and the rebalance. */
const DELAY_MS = 5;

type StageEvent = Record<string, unknown>;

/** The error a refused transaction logged: the broker's error type when it gave one. */
function refusalError(line: string): string {
  const entry = JSON.parse(line) as { err?: { type?: string; name?: string; message?: string } };
  return [entry.err?.name, entry.err?.type, entry.err?.message].filter(Boolean).join(': ');
}
const assignedPartitions = (e: StageEvent, topic: string): number[] =>
  ((e['assignment'] as Record<string, number[]> | undefined) ?? {})[topic] ?? [];

describe('a member frozen until its partitions move', () => {
  const config = clusterConfig();
  const proxies = clusterProxies(config);
  let clients: PlatformClients;
  let t: HopTopics;

  beforeAll(async () => {
    clients = await testClients(config, testLogger().child({}, { level: 'fatal' }));
    t = await createClusterHopTopics(clients, config, 'frozen', PARTITIONS);
    await produceGrants(clients, t.input, INPUTS);
    await proxies.start();
  });

  afterAll(async () => {
    // A node restarts faster with fewer partitions to load: the scenario's topics go.
    if (t) await clients.admin.deleteTopics([t.input, t.output, t.dlq]).catch(() => undefined);
    await proxies.close();
    await clients?.close().catch(() => undefined);
  });

  it('refuses the woken member its commit and keeps the output exactly once', async () => {
    const started = Date.now();
    const wait = config.stack.readyTimeoutMs;
    const poll = () => new Promise((r) => setTimeout(r, config.stack.faults.pollMs));
    // The zombie-to-be reaches every broker through the proxies; the other member directly.
    const zombie: TsProcess = spawnFanoutStage(t, {
      fanout: FANOUT,
      delayMs: DELAY_MS,
      env: {
        ...CLUSTER_ENV,
        GRANTSTREAM__KAFKA__BROKERS: `[${proxies.addresses(config.stack.host).join(',')}]`,
      },
    });
    const other: TsProcess = spawnFanoutStage(t, {
      fanout: FANOUT,
      delayMs: DELAY_MS,
      env: CLUSTER_ENV,
    });
    const stages = [zombie, other];
    try {
      const pid = zombie.child.pid as number;
      // Both members share the partitions and the zombie-to-be has committed.
      await zombie.waitFor((e) => e['event'] === 'committed', wait);
      await other.waitFor(
        (e) => e['event'] === 'groupJoined' && assignedPartitions(e, t.input).length > 0,
        wait,
      );
      let frozen = false;
      proxies.onRequest((e) => {
        if (frozen || e.request.apiKey !== ApiKey.AddOffsetsToTxn) return;
        frozen = true;
        process.kill(pid, 'SIGSTOP');
      });
      while (!frozen) await poll();
      const frozenAt = Date.now();
      const otherBefore = other.events.length;
      const zombieJoins = zombie.events.filter((e) => e['event'] === 'groupJoined');
      const owned = assignedPartitions(zombieJoins[zombieJoins.length - 1] ?? {}, t.input);

      // The other member takes every partition, then commits on each of the zombie's.
      // Only a join after the freeze counts: the other may have held every
      // partition once before (alone in the group while the zombie joined).
      const takeover = await other.waitFor(
        (e) =>
          e['event'] === 'groupJoined' &&
          assignedPartitions(e, t.input).length === PARTITIONS &&
          other.events.indexOf(e) >= otherBefore,
        wait,
      );
      const afterTakeover = other.events.indexOf(takeover);
      while (
        !owned.every((p) =>
          other.events
            .slice(afterTakeover)
            .some((e) => e['event'] === 'committed' && e['partition'] === p),
        )
      ) {
        if (Date.now() - frozenAt > wait) throw new Error('the other member never took over');
        await poll();
      }
      const movedMs = Date.now() - frozenAt;

      const eventsBefore = zombie.events.length;
      const stderrBefore = zombie.stderr().length;
      process.kill(pid, 'SIGCONT');
      const rejoined = await zombie.waitFor(
        (e) => e['event'] === 'groupJoined' && zombie.events.indexOf(e) >= eventsBefore,
        wait,
      );
      const rejoinedAt = zombie.events.indexOf(rejoined);
      // Commits the woken zombie got through before it learned of the new generation.
      const zombieCommits = zombie.events
        .slice(eventsBefore, rejoinedAt)
        .filter((e) => e['event'] === 'committed');
      const refusals = zombie
        .stderr()
        .slice(stderrBefore)
        .split('\n')
        .filter((l) => l.includes('transaction aborted'));

      const ends = await inputEnds(clients, t.input);
      await waitAllCommitted(clients, t.group, t.input, ends, wait * 2, config.stack.faults.pollMs);
      for (const s of stages) s.child.kill('SIGTERM');
      await Promise.all(stages.map((s) => s.exited));
      const report = await exactlyOnceReport(clients, config, t.output, ends, FANOUT);
      process.stdout.write(
        `${JSON.stringify({
          scenario: 'frozen-member',
          ms: Date.now() - started,
          frozenPartitions: owned,
          movedMs,
          zombieCommits: zombieCommits.length,
          refusals: refusals.length,
          refusalErrors: refusals.map(refusalError),
          ...report,
        })}\n`,
      );

      expect(owned.length).toBeGreaterThan(0);
      expect(refusals.length).toBeGreaterThan(0);
      expect(zombieCommits).toEqual([]);
      expect(report.duplicated).toBe(0);
      expect(report.missing).toBe(0);
      expect(report.inputsSkipped).toBe(0);
      expect(report.orderViolations).toBe(0);
      expect(report.outputs).toBe(INPUTS * FANOUT);
    } finally {
      for (const s of stages) {
        if (s.child.exitCode === null && s.child.pid !== undefined) {
          process.kill(s.child.pid, 'SIGCONT');
          s.child.kill('SIGKILL');
        }
      }
    }
  });
});
