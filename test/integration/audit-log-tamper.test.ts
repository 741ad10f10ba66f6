// Guarantee: what the per-grant hash chain cannot see, the signed Merkle log
// names. After the log cleaner has compacted the audit topic (so no tombstone
// and no original value is left for the chain verifier to notice), the last
// event of one trail deleted, a whole grant's trail removed and an event
// rewritten with a recomputed chain each make `grantctl audit verify` exit 4
// naming the grant and the leaf (MISSING, REWRITTEN), and a checkpoint topic
// truncated with delete-records is named against the witness store
// (CHECKPOINT_TRUNCATED), while the untouched grants verify intact.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent, generateNoteKey, type LogFinding } from '@grantstream/audit';
import { AuditEventV1Avro, AuditEventV1Schema } from '@grantstream/contracts';
import { TopicScanner, type PlatformClients } from '@grantstream/kafka';
import { ENTRY, runTs, testClients, testConfig } from '@grantstream/testing';
import { chainFor, decisionOf, produceEvents } from '../support/audit';
import { ScenarioCheckpointer, createLogTopics, type LogTopics } from '../support/audit-log';

const T0 = Date.UTC(2026, 10, 2);
/** segment.ms of the audit topic: short, so closed segments exist for the cleaner to compact. */
const SEGMENT_MS = 500;

interface VerifyJson {
  ok: boolean;
  findings: { kind: string; grantId: string }[];
  log?: {
    ok: boolean;
    findings: LogFinding[];
    checkpoints: { verified: number; refused: number };
    rootsReproduced: number;
    grantsWithFindings: string[];
  };
}

describe('signed Merkle log names deletions and rewrites the chain cannot see', () => {
  const config = testConfig();
  const key = generateNoteKey(config.audit.log.origin);
  let clients: PlatformClients;
  let t: LogTopics;
  let checkpointer: ScenarioCheckpointer;
  const chains = {
    tail: chainFor('NSF-2026-TAIL01', 5, T0),
    gone: chainFor('GATES-2026-GONE1', 5, T0),
    rewritten: chainFor('CADOE-2026-REWR1', 5, T0),
    intact: chainFor('NSF-2026-KEEP01', 5, T0),
    intact2: chainFor('GATES-2026-KEEP2', 5, T0),
  };
  const verify = async (extra: readonly string[] = []) => {
    const r = await runTs(ENTRY.grantctl, [
      'audit',
      'verify',
      '--topic',
      t.audit,
      '--order-topic',
      t.order,
      '--checkpoint-topic',
      t.checkpoints,
      '--verifier-key',
      key.verifierKey,
      ...extra,
      '--json',
    ]);
    return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout || '{}') as VerifyJson };
  };
  const logFindings = (report: VerifyJson, grantId?: string) =>
    (report.log?.findings ?? []).filter((f) => grantId === undefined || f.grantId === grantId);

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createLogTopics(clients, 'logtamper', {
      'segment.ms': String(SEGMENT_MS),
      'min.cleanable.dirty.ratio': '0.01',
      'min.compaction.lag.ms': '0',
      'delete.retention.ms': '1000',
    });
    await produceEvents(clients, t.audit, Object.values(chains).flat());
    checkpointer = new ScenarioCheckpointer(clients, t, key.signer, {
      everyLeaves: 10,
      batchEntries: 4,
    });
    await checkpointer.catchUp();
  });
  afterAll(() => clients.close());

  it('verifies an untouched log: every checkpoint signed, every root reproduced', async () => {
    const r = await verify(['--witness', t.witness]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.log).toMatchObject({ ok: true, findings: [] });
    expect(r.report.log?.checkpoints.verified).toBe(checkpointer.published.length * 2);
    expect(r.report.log?.rootsReproduced).toBe(checkpointer.published.length);
  });

  it('names a deleted tail, a removed trail and a rewrite once compaction erased the traces', async () => {
    // The last event of one trail and every event of another: tombstones.
    const tail = chains.tail[4]!;
    await clients.io.produce(t.audit, [
      { key: tail.key, value: null },
      ...chains.gone.map((e) => ({ key: e.key, value: null })),
    ]);
    // Event 2 of a trail rewritten and re-hashed, its successors re-chained onto it.
    const rewritten: { key: string; event: (typeof chains.rewritten)[number]['event'] }[] = [];
    let previous = chains.rewritten[1]!.event.event_hash;
    for (let step = 2; step < 5; step += 1) {
      const original = decisionOf('CADOE-2026-REWR1', step, T0 + step * 1000);
      const decision =
        step === 2 ? { ...original, ruleSetVersion: 'rules-2026.9-lenient' } : original;
      const built = buildAuditEvent(decision, previous);
      rewritten.push(built);
      previous = built.event.event_hash;
    }
    expect(rewritten[0]!.key).toBe(chains.rewritten[2]!.key);
    await produceEvents(clients, t.audit, rewritten);

    // Wait until the cleaner has removed every tombstone and every original
    // value of the rewritten keys: the chain verifier then has nothing to see.
    const originals = new Set(chains.rewritten.slice(2).map((e) => e.event.event_hash));
    const removedKeys = new Set([tail.key, ...chains.gone.map((e) => e.key)]);
    const traces = async () => {
      const scanner = new TopicScanner(clients.kafka);
      let left = 0;
      try {
        for await (const m of scanner.scan(t.audit, config.audit)) {
          const k = m.key?.toString() ?? '';
          if (m.value === null) left += 1;
          else if (removedKeys.has(k)) left += 1;
          else {
            const event = AuditEventV1Schema.parse(
              (await clients.serde.decodeAs(m.value, AuditEventV1Avro)).value,
            );
            if (originals.has(event.event_hash)) left += 1;
          }
        }
      } finally {
        await scanner.close();
      }
      return left;
    };
    const filler = chains.intact.map((e) => e);
    const brokerLog = join(config.stack.stateDir, 'kafka', 'kafka.log');
    const deadline = Date.now() + 240_000;
    let left = await traces();
    while (left > 0 && Date.now() < deadline) {
      // Identical redeliveries into every partition roll its active segment
      // (segment.ms), leaving closed dirty segments for the cleaner.
      for (let partition = 0; partition < 6; partition += 1) {
        const e = filler[partition % filler.length]!;
        const value = await clients.serde.encode(t.audit, e.event);
        await clients.io.produce(t.audit, [{ key: e.key, value, partition }]);
      }
      await new Promise((resolve) => setTimeout(resolve, SEGMENT_MS));
      left = await traces();
    }
    expect(left, existsSync(brokerLog) ? 'cleaner did not finish' : 'no broker log').toBe(0);
    expect(readFileSync(brokerLog, 'utf8')).toContain(`cleaning of log ${t.audit}`);
    // The checkpointer goes on logging what the topic now holds: that does not hide anything.
    await checkpointer.catchUp();

    const r = await verify();
    expect(r.code, r.stderr).toBe(4);
    // The chain alone sees nothing wrong any more.
    expect(r.report.findings).toEqual([]);
    expect(r.report.log?.grantsWithFindings).toEqual([
      'CADOE-2026-REWR1',
      'GATES-2026-GONE1',
      'NSF-2026-TAIL01',
    ]);
    const tailFindings = logFindings(r.report, 'NSF-2026-TAIL01');
    expect(tailFindings.map((f) => [f.kind, f.key])).toEqual([['MISSING', tail.key]]);
    const goneFindings = logFindings(r.report, 'GATES-2026-GONE1');
    expect(goneFindings.map((f) => f.kind)).toEqual(Array(5).fill('MISSING'));
    expect(goneFindings.map((f) => f.key).sort()).toEqual(chains.gone.map((e) => e.key).sort());
    const rewrittenFindings = logFindings(r.report, 'CADOE-2026-REWR1');
    expect(rewrittenFindings.map((f) => [f.kind, f.key])).toEqual([
      ['REWRITTEN', chains.rewritten[2]!.key],
    ]);
    expect(logFindings(r.report, 'NSF-2026-KEEP01')).toEqual([]);
    expect(logFindings(r.report, 'GATES-2026-KEEP2')).toEqual([]);

    const text = await runTs(ENTRY.grantctl, [
      'audit',
      'verify',
      '--topic',
      t.audit,
      '--order-topic',
      t.order,
      '--checkpoint-topic',
      t.checkpoints,
      '--verifier-key',
      key.verifierKey,
    ]);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain(`MISSING`);
    expect(text.stdout).toContain(tail.key);
    expect(text.stdout).toContain('REWRITTEN');
    expect(text.stdout).toContain('3 grant(s) with log findings');
  }, 300_000);

  it('names checkpoints removed from the checkpoint topic against the witness store', async () => {
    const before = await verify(['--witness', t.witness]);
    expect(before.report.log?.findings.some((f) => f.kind === 'CHECKPOINT_TRUNCATED')).toBe(false);
    // delete-records: the first two checkpoints are gone from the topic.
    await clients.admin.deleteRecords(t.checkpoints, [{ partition: 0, offset: '2' }]);
    const r = await verify(['--witness', t.witness]);
    expect(r.code, r.stderr).toBe(4);
    const truncated = (r.report.log?.findings ?? []).filter(
      (f) => f.kind === 'CHECKPOINT_TRUNCATED',
    );
    expect(truncated.map((f) => f.checkpointSize)).toEqual(
      checkpointer.published.slice(0, 2).map((c) => c.size),
    );
    expect(logFindings(r.report, 'NSF-2026-KEEP01')).toEqual([]);
  });
});
