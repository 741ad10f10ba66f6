// Guarantee: the leaf order survives compaction and redelivery. The
// checkpointer logs a compacted audit topic while identical redeliveries
// arrive (each one a record, so a leaf of its own); then the log cleaner
// compacts the topic, removing the older copies the leaves were read from,
// and the checkpointer is restarted. Rebuilding the tree from the order topic
// alone still reproduces every published checkpoint root, the restarted
// checkpointer continues the same log, and every leaf's key is still on the
// topic with the event hash the leaf commits to.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey, validateOrderBatches, type NoteVerifier } from '@grantstream/audit';
import { AuditEventV1Avro, AuditEventV1Schema } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig } from '@grantstream/testing';
import {
  auditChain,
  checkpointerEnv,
  createCheckpointerScope,
  produceAuditEvents,
  leafHashesOf,
  readAll,
  readCheckpoints,
  readOrderBatches,
  rootOf,
  spawnCheckpointer,
  until,
  type CheckpointerProcess,
  type CheckpointerScope,
} from '../support/checkpointer';

const ORIGIN = 'grantstream.test/audit';
const GRANTS = 60;
const STEPS = 5;
const MAX_BATCH = 50;
/** The audit topic's segment.ms: a closed segment the cleaner can compact appears this often. */
const SEGMENT_MS = 500;

describe('checkpointer leaf order through compaction and redelivery', () => {
  let clients: PlatformClients;
  let scope: CheckpointerScope;
  const config = testConfig();
  const started: CheckpointerProcess[] = [];

  beforeAll(async () => {
    clients = await testClients(config);
    scope = await createCheckpointerScope(clients, 'compaction', {
      'segment.ms': String(SEGMENT_MS),
      'min.cleanable.dirty.ratio': '0.01',
      'min.compaction.lag.ms': '0',
      'delete.retention.ms': '1000',
    });
  });
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await clients.close();
  });

  const start = () => {
    const p = spawnCheckpointer(
      checkpointerEnv(scope, {
        GRANTSTREAM__CHECKPOINTER__ORIGIN: ORIGIN,
        GRANTSTREAM__CHECKPOINTER__MAX_BATCH_ENTRIES: String(MAX_BATCH),
        GRANTSTREAM__CHECKPOINTER__EVERY_LEAVES: String(MAX_BATCH * 3),
        GRANTSTREAM__CHECKPOINTER__EVERY_MS: '300',
        GRANTSTREAM__CHECKPOINTER__IDLE_MS: '100',
      }),
    );
    started.push(p);
    return p;
  };
  const resumed = (l: Record<string, unknown>) => l['msg'] === 'checkpointer resumed the log';
  let verifier: NoteVerifier;
  const checkpointed = async (size: number) => {
    const cps = await readCheckpoints(clients, scope.checkpoints, verifier, ORIGIN);
    return cps[cps.length - 1]?.checkpoint.size === size;
  };

  it(
    'rebuilds every checkpoint root from the order topic after compaction',
    { timeout: 300_000 },
    async () => {
      const first = start();
      await first.waitFor(resumed, 60_000);
      const parsed = parseVerifierKey(readFileSync(`${scope.keyFile}.pub`, 'utf8').trim());
      if (!parsed.ok) throw new Error(parsed.detail);
      verifier = parsed.verifier;

      const events = Array.from({ length: GRANTS }, (_, g) =>
        auditChain(`CMP-${g}`, STEPS, Date.now()),
      ).flat();
      await produceAuditEvents(clients, scope.audit, events);
      // Identical redeliveries (same key, same bytes), each round in a segment of its own.
      const sample = (await readAll(clients, scope.audit)).slice(0, 100);
      let produced = events.length;
      const redeliver = async (n: number) => {
        produced += Math.min(n, sample.length);
        await clients.io.produce(
          scope.audit,
          sample.slice(0, n).map((m) => ({ key: m.key, value: m.value, partition: m.partition })),
        );
        await new Promise((r) => setTimeout(r, SEGMENT_MS));
      };
      await redeliver(100);
      await redeliver(100);
      await until(
        async () => checkpointed((await readAll(clients, scope.audit)).length),
        60_000,
        'a checkpoint of every record before compaction',
      );

      // Compaction: keep rolling segments until the broker reports cleaning this
      // topic and a read shows its effect (fewer records than were written): the
      // log line comes when cleaning begins, before the cleaned segments replace
      // the old ones.
      const brokerLog = join(config.stack.stateDir, 'kafka', 'kafka.log');
      const cleaned = () =>
        existsSync(brokerLog) &&
        readFileSync(brokerLog, 'utf8').includes(`cleaning of log ${scope.audit}`);
      let records = produced;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        if (cleaned()) {
          records = (await readAll(clients, scope.audit)).length;
          if (records < produced) break;
        }
        await redeliver(6);
      }
      expect(cleaned()).toBe(true);
      expect(records).toBeLessThan(produced);

      // A restart after compaction continues the same log from the order topic.
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const second = start();
      await second.waitFor(resumed, 60_000);
      const batchesNow = await readOrderBatches(clients, scope.order, MAX_BATCH);
      const leavesNow = batchesNow.reduce((n, b) => n + b.entries.length, 0);
      expect(records).toBeLessThan(leavesNow);
      await redeliver(10);
      await until(
        async () => {
          const total = (await readOrderBatches(clients, scope.order, MAX_BATCH)).reduce(
            (n, b) => n + b.entries.length,
            0,
          );
          return total > leavesNow && (await checkpointed(total));
        },
        60_000,
        'a checkpoint after the restart',
      );
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);

      // From the order topic alone: every checkpoint root reproduced.
      const batches = await readOrderBatches(clients, scope.order, MAX_BATCH);
      const validation = validateOrderBatches(batches, { maxBatchEntries: MAX_BATCH });
      expect(validation.problem).toBeUndefined();
      const leaves = leafHashesOf(batches);
      const checkpoints = await readCheckpoints(clients, scope.checkpoints, verifier, ORIGIN);
      expect(checkpoints.length).toBeGreaterThan(1);
      for (const { checkpoint } of checkpoints) {
        expect(Buffer.from(checkpoint.rootHash).equals(rootOf(leaves, checkpoint.size))).toBe(true);
      }
      // More leaves than records: the redeliveries were logged, then compacted away.
      const compacted = await readAll(clients, scope.audit);
      expect(compacted.length).toBeLessThan(leaves.length);
      // Every leaf's key is still on the topic with the event hash the leaf commits to.
      const hashes = new Map<string, string>();
      for (const m of compacted) {
        if (m.key === null || m.value === null) continue;
        const event = AuditEventV1Schema.parse(
          (await clients.serde.decodeAs(m.value, AuditEventV1Avro)).value,
        );
        hashes.set(m.key.toString(), event.event_hash);
      }
      const entries = batches.flatMap((b) => b.entries);
      expect(entries.filter((e) => hashes.get(e.key) !== e.eventHash)).toEqual([]);
      expect(new Set(entries.map((e) => e.key)).size).toBe(GRANTS * STEPS);
    },
  );
});
