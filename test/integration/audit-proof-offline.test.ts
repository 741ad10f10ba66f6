// Guarantee: a grant's events can be proved to a party that trusts neither
// our brokers nor our code. `grantctl audit prove` writes one inclusion proof
// per event against the latest signed checkpoint; the standalone verifier
// (node tools/audit-proof-verifier/verify.mjs, no Kafka, no project code)
// accepts each with only the public key, and refuses it when one byte of the
// proof or of the event is changed. The evidence bundle carries the
// checkpoint and the proofs and says in plain words what they prove.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAuditLeaf, generateNoteKey } from '@grantstream/audit';
import type { PlatformClients } from '@grantstream/kafka';
import { ENTRY, WORKSPACE_ROOT, runTs, testClients, testConfig } from '@grantstream/testing';
import { chainFor, produceEvents } from '../support/audit';
import { ScenarioCheckpointer, createLogTopics, type LogTopics } from '../support/audit-log';

const T0 = Date.UTC(2026, 10, 4);
const GRANT = 'NSF-2026-PROOF1';

interface ProofJson {
  checkpoint: string;
  verifierKey: string;
  leaf: string;
  leafIndex: number;
  treeSize: number;
  inclusionPath: string[];
}

const offline = (file: string) =>
  spawnSync(
    process.execPath,
    [join(WORKSPACE_ROOT, 'tools/audit-proof-verifier/verify.mjs'), file],
    {
      encoding: 'utf8',
    },
  );

/** The same proof with one byte of a base64 field flipped. */
function flipped(proof: ProofJson, field: 'leaf' | 'path'): ProofJson {
  const flip = (b64: string, at: number) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    return bytes.toString('base64');
  };
  if (field === 'leaf') {
    // A byte of the event hash inside the leaf: the event as disclosed is changed.
    const leaf = Buffer.from(proof.leaf, 'base64');
    return { ...proof, leaf: flip(proof.leaf, leaf.length - 40) };
  }
  return {
    ...proof,
    inclusionPath: [flip(proof.inclusionPath[0]!, 0), ...proof.inclusionPath.slice(1)],
  };
}

describe('inclusion proofs checked offline', () => {
  const config = testConfig();
  const key = generateNoteKey(config.audit.log.origin);
  let clients: PlatformClients;
  let t: LogTopics;
  const chain = chainFor(GRANT, 5, T0);
  // prove reads only the order and checkpoint topics; export reads the audit topic too.
  const logArgs = () => [
    '--order-topic',
    t.order,
    '--checkpoint-topic',
    t.checkpoints,
    '--verifier-key',
    key.verifierKey,
  ];

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createLogTopics(clients, 'logproof');
    await produceEvents(clients, t.audit, [
      ...chainFor('GATES-2026-OTHER1', 7, T0),
      ...chain,
      ...chainFor('CADOE-2026-OTHER2', 6, T0),
    ]);
    const checkpointer = new ScenarioCheckpointer(clients, t, key.signer, {
      everyLeaves: 8,
      batchEntries: 3,
    });
    await checkpointer.catchUp();
  });
  afterAll(() => clients.close());

  it('proves every event of a grant; one byte changed in the proof or the event fails it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'proofs-'));
    const r = await runTs(ENTRY.grantctl, [
      'audit',
      'prove',
      '--grant',
      GRANT,
      '--out',
      out,
      ...logArgs(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(out)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toHaveLength(chain.length);

    const hashes = new Set<string>();
    for (const file of files) {
      const path = join(out, file);
      const ok = offline(path);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^verified: leaf \d+ is in /);
      const proof = JSON.parse(readFileSync(path, 'utf8')) as ProofJson;
      expect(proof.verifierKey).toBe(key.verifierKey);
      const leaf = decodeAuditLeaf(Buffer.from(proof.leaf, 'base64'));
      expect(leaf?.key.startsWith(`${GRANT}:`)).toBe(true);
      hashes.add(leaf!.eventHash);

      for (const field of ['leaf', 'path'] as const) {
        const bad = join(out, `${file}.${field}.tampered`);
        writeFileSync(bad, JSON.stringify(flipped(proof, field)));
        const refused = offline(bad);
        expect(refused.status, `${field} of ${file}`).toBe(1);
        expect(refused.stderr).toMatch(/^not verified: /);
      }
    }
    expect([...hashes].sort()).toEqual(chain.map((e) => e.event.event_hash).sort());
  });

  it('puts the checkpoint and the proofs in the evidence bundle, saying what they prove', async () => {
    const out = mkdtempSync(join(tmpdir(), 'evidence-'));
    const r = await runTs(ENTRY.grantctl, [
      'audit',
      'export',
      '--grant',
      GRANT,
      '--out',
      out,
      '--topic',
      t.audit,
      ...logArgs(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, `evidence-${GRANT}.json`), 'utf8')) as {
      transparency?: { checkpoint: { note: string; size: number }; proofs: ProofJson[] };
    };
    expect(json.transparency?.proofs).toHaveLength(chain.length);
    expect(json.transparency?.checkpoint.note).toContain(config.audit.log.origin);
    const html = readFileSync(join(out, `evidence-${GRANT}.html`), 'utf8');
    expect(html).toContain('Proved against a signed checkpoint');
    expect(html).toContain(`${chain.length} of ${chain.length} events`);
  });
});
