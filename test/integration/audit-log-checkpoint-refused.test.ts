// Guarantee: a checkpoint is believed only when the log's trusted key signed
// it and it extends the history the earlier checkpoints signed. A checkpoint
// on the checkpoint topic signed with another key is refused (named with that
// key), and a checkpoint signed with the log's own key over a history that
// forks from its predecessor (one earlier leaf swapped) is named a fork; both
// make `grantctl audit verify` exit 4 while every grant's leaves verify intact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, noteKeyId, signCheckpoint, type LogFinding } from '@grantstream/audit';
import type { PlatformClients } from '@grantstream/kafka';
import { ENTRY, runTs, testClients, testConfig } from '@grantstream/testing';
import { chainFor, produceEvents } from '../support/audit';
import {
  ScenarioCheckpointer,
  createLogTopics,
  publishCheckpoint,
  rootOf,
  type LogTopics,
} from '../support/audit-log';

const T0 = Date.UTC(2026, 10, 3);

interface VerifyJson {
  ok: boolean;
  log?: {
    ok: boolean;
    findings: LogFinding[];
    checkpoints: { verified: number; refused: number };
    grantsWithFindings: string[];
  };
}

describe('checkpoints signed with another key or forking history are refused', () => {
  const config = testConfig();
  const origin = config.audit.log.origin;
  const key = generateNoteKey(origin);
  let clients: PlatformClients;
  let t: LogTopics;
  let checkpointer: ScenarioCheckpointer;
  const verify = async () => {
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
      '--json',
    ]);
    return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout || '{}') as VerifyJson };
  };

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createLogTopics(clients, 'logrefused');
    await produceEvents(clients, t.audit, [
      ...chainFor('NSF-2026-REF001', 5, T0),
      ...chainFor('GATES-2026-REF02', 5, T0),
    ]);
    checkpointer = new ScenarioCheckpointer(clients, t, key.signer, {
      everyLeaves: 5,
      batchEntries: 5,
    });
    await checkpointer.catchUp();
  });
  afterAll(() => clients.close());

  it('verifies the genuine checkpoints', async () => {
    const r = await verify();
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.log).toMatchObject({ ok: true, checkpoints: { verified: 2, refused: 0 } });
  });

  it('refuses a checkpoint signed with another key, naming that key', async () => {
    const other = generateNoteKey(origin);
    const size = checkpointer.log.size;
    const note = signCheckpoint(
      { origin, size, rootHash: checkpointer.log.root(), time: new Date() },
      other.signer,
    );
    await publishCheckpoint(clients, t, size, note, { witness: false });

    const r = await verify();
    expect(r.code, r.stderr).toBe(4);
    const refused = (r.report.log?.findings ?? []).filter((f) => f.kind === 'CHECKPOINT_REFUSED');
    expect(refused).toHaveLength(1);
    const otherId = noteKeyId(origin, other.signer.publicKey).toString('hex');
    expect(refused[0]!.message).toContain(otherId);
    expect(r.report.log?.checkpoints).toEqual({ verified: 2, refused: 1 });
    expect(r.report.log?.grantsWithFindings).toEqual([]);
  });

  it('names a checkpoint that forks from its predecessor', async () => {
    // Five more events; a checkpoint over 15 leaves whose history swaps two
    // leaves the 10-leaf checkpoint already signed, signed with the log's key.
    await produceEvents(clients, t.audit, chainFor('CADOE-2026-REF03', 5, T0));
    const forkedHistory = [...checkpointer.entries];
    const swapped = forkedHistory[3]!;
    forkedHistory[3] = forkedHistory[7]!;
    forkedHistory[7] = swapped;
    const logged = await checkpointer.catchUp({ checkpoint: false });
    expect(logged).toBe(5);
    const forked = [...forkedHistory, ...checkpointer.entries.slice(10)];
    const forkNote = signCheckpoint(
      { origin, size: 15, rootHash: rootOf(forked), time: new Date() },
      key.signer,
    );
    await publishCheckpoint(clients, t, 15, forkNote);
    // The genuine log goes on: five more events, a genuine checkpoint at 20.
    await produceEvents(clients, t.audit, chainFor('NSF-2026-REF004', 5, T0));
    await checkpointer.catchUp();
    expect(checkpointer.log.size).toBe(20);

    const r = await verify();
    expect(r.code, r.stderr).toBe(4);
    const forks = (r.report.log?.findings ?? []).filter((f) => f.kind === 'CHECKPOINT_FORK');
    expect(forks.map((f) => f.checkpointSize)).toEqual([15]);
    expect(forks[0]!.message).toMatch(/inconsistent/);
    expect(r.report.log?.grantsWithFindings).toEqual([]);
  });
});
