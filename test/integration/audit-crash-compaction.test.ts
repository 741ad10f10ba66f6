// Guarantee: reprocessing after a crash leaves every audit chain valid. A
// stage writing each grant's audit trail in the same transaction as its
// output is killed with SIGKILL mid-batch and restarted twice; identical
// redeliveries are produced on top; `grantctl audit verify` finds every chain
// intact (no forks), and still does after the log cleaner has compacted the
// topic (small segments force it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClients } from '@grantstream/kafka';
import { ENTRY, runTs, testClients, testConfig, createAuditTopic } from '@grantstream/testing';
import {
  createHopTopics,
  spawnFanoutStage,
  produceGrants,
  type HopTopics,
} from '../support/fanout';

const INPUTS = 600;
/**
 * The audit topic's segment.ms: its active segment rolls on the first append
 * this long after the segment began, leaving a closed segment the cleaner can
 * compact.
 */
const SEGMENT_MS = 500;

describe('audit chains through crashes and compaction', () => {
  let clients: PlatformClients;
  let t: HopTopics;
  let audit: string;
  const config = testConfig();

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createHopTopics(clients, 'auditcrash');
    audit = await createAuditTopic(clients, 'crash', {
      'segment.ms': String(SEGMENT_MS),
      'min.cleanable.dirty.ratio': '0.01',
      'min.compaction.lag.ms': '0',
      'delete.retention.ms': '1000',
    });
    await produceGrants(clients, t.input, INPUTS);
  });
  afterAll(() => clients.close());

  const stage = () => spawnFanoutStage(t, { fanout: 1, delayMs: 5, auditTopic: audit });

  const verify = async () => {
    const r = await runTs(ENTRY.grantctl, ['audit', 'verify', '--topic', audit, '--json']);
    return {
      code: r.code,
      report: JSON.parse(r.stdout) as {
        ok: boolean;
        grants: number;
        events: number;
        findings: unknown[];
      },
    };
  };

  it(
    'keeps every chain valid after kills, redeliveries and compaction',
    { timeout: 300_000 },
    async () => {
      for (let k = 0; k < 2; k += 1) {
        const p = stage();
        await p.waitFor((e) => e['event'] === 'committed', 60_000);
        await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 100)));
        p.child.kill('SIGKILL');
        await p.exited;
      }
      const last = stage();
      const outputs = await clients.io.read(t.output, {
        expected: INPUTS,
        timeoutMs: 120_000,
        isolation: 'read_committed',
      });
      expect(outputs).toHaveLength(INPUTS);
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);

      const after = await verify();
      expect(after.report.findings).toEqual([]);
      expect(after.code).toBe(0);
      expect(after.report).toMatchObject({ ok: true, grants: INPUTS, events: INPUTS * 2 });

      // At-least-once redelivery of the same events (same keys, same bytes): still one chain each.
      const sample = await clients.io.read(audit, {
        expected: 200,
        timeoutMs: 30_000,
        isolation: 'read_committed',
      });
      for (let round = 0; round < 2; round += 1) {
        await clients.io.produce(
          audit,
          sample.map((m) => ({ key: m.key, value: m.value, partition: m.partition })),
        );
        // The next round rolls the segment: each round's copies sit in a segment of their own.
        await new Promise((r) => setTimeout(r, SEGMENT_MS));
      }
      expect((await verify()).report).toMatchObject({ ok: true, events: INPUTS * 2 });

      // Wait for the log cleaner to compact the topic, then verify again.
      const brokerLog = join(config.stack.stateDir, 'kafka', 'kafka.log');
      const cleaned = () =>
        existsSync(brokerLog) &&
        readFileSync(brokerLog, 'utf8').includes(`cleaning of log ${audit}`);
      const deadline = Date.now() + 90_000;
      while (!cleaned() && Date.now() < deadline) {
        await clients.io.produce(
          audit,
          sample.slice(0, 6).map((m) => ({ key: m.key, value: m.value, partition: m.partition })),
        );
        // One roll per segment.ms: the cleaner finds a closed dirty segment at its next check.
        await new Promise((r) => setTimeout(r, SEGMENT_MS));
      }
      expect(cleaned()).toBe(true);
      const compacted = await verify();
      expect(compacted.code).toBe(0);
      expect(compacted.report).toMatchObject({ ok: true, grants: INPUTS, events: INPUTS * 2 });
    },
  );
});
