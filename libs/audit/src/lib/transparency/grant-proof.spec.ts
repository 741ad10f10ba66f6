import type { AuditEventV1 } from '@grantstream/contracts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditKeyOf, buildAuditEvent } from '../audit-event';
import { AUDIT_GENESIS_HASH, payloadHashOf } from '../hashing';
import { signCheckpoint } from './checkpoint';
import { leavesOfGrant, proveGrant, verifyProofFile, type GrantProofInput } from './grant-proof';
import { auditLeafFieldsOf, auditLeafHash, decodeAuditLeaf } from './leaf';
import { leafHashesOfBatches, type LogOrderBatch, type LogOrderEntry } from './leaf-order';
import { merkleTreeHash } from './merkle';
import { generateNoteKey } from './signed-note';

const SCRIPT = resolve(__dirname, '../../../../../tools/audit-proof-verifier/verify.mjs');
const ORIGIN = 'grantstream.example/audit';
const LIMITS = { maxNoteBytes: 4096, maxSignatures: 16, origin: ORIGIN };
const key = generateNoteKey(ORIGIN);
const work = mkdtempSync(join(tmpdir(), 'grant-proof-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Three events per grant, grants interleaved the way a checkpointer reading partitions would. */
function eventsOf(grantId: string): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return (['INGESTED', 'NORMALIZED', 'FORWARD'] as const).map((action, i) => {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: 'nsf',
        auditTrailId: `trail-${grantId}`,
        stage: ['ingest', 'normalization', 'routing'][i] as string,
        action,
        payloadHash: payloadHashOf(Buffer.from(`${grantId}/${i}`)),
        service: { name: 'svc', version: '1' },
        occurredAt: 1_700_000_000_000 + i,
        source: { topic: 'in', partition: 0, offset: i },
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

const grants = ['G-1', 'G-2', 'G-3', 'G-4'].map(eventsOf);
const order: AuditEventV1[] = [];
for (let i = 0; i < 3; i += 1) for (const events of grants) order.push(events[i] as AuditEventV1);
const entries: LogOrderEntry[] = order.map((event, i) => ({
  ...auditLeafFieldsOf(auditKeyOf(event), event),
  partition: i % 2,
  offset: String(i),
}));
const batches: LogOrderBatch[] = [
  { firstIndex: 0, entries: entries.slice(0, 5) },
  { firstIndex: 5, entries: entries.slice(5) },
];
const rebuilt = leafHashesOfBatches(batches, { maxBatchEntries: 10 });
const leaves = rebuilt.leafHashes;
/** The checkpoint leaves out the last leaf, which is G-4's third event. */
const SIZE = leaves.length - 1;
const checkpoint = signCheckpoint(
  { origin: ORIGIN, size: SIZE, rootHash: merkleTreeHash(leaves, SIZE) },
  key.signer,
);

const input = (over: Partial<GrantProofInput> = {}): GrantProofInput => ({
  leaves,
  grantLeaves: leavesOfGrant(batches, 'G-2'),
  checkpoint,
  verifierKey: key.verifierKey,
  limits: LIMITS,
  ...over,
});

describe('inclusion proofs for a grant', () => {
  it('finds the grant leaves in log order', () => {
    expect(leavesOfGrant(batches, 'G-2').map((leaf) => leaf.index)).toEqual([1, 5, 9]);
  });

  it('builds one proof per event, each verifying with the library verifier', () => {
    const result = proveGrant(input());
    if (!result.ok) throw new Error(result.detail);
    expect(result.proofs.map((p) => p.leafIndex)).toEqual([1, 5, 9]);
    expect(result.notCovered).toEqual([]);
    for (const proof of result.proofs) {
      expect(verifyProofFile(proof.file, LIMITS).ok).toBe(true);
      // The disclosed leaf names the event: an auditor matches it with the event held.
      expect(decodeAuditLeaf(Buffer.from(proof.file.leaf ?? '', 'base64'))?.eventHash).toBe(
        proof.eventHash,
      );
    }
    expect(result.proofs.map((p) => p.eventHash)).toEqual(
      (grants[1] as AuditEventV1[]).map((e) => e.event_hash),
    );
  });

  it('writes proofs the standalone verifier accepts', () => {
    const result = proveGrant(input());
    if (!result.ok) throw new Error(result.detail);
    const file = join(work, 'proof.json');
    writeFileSync(file, JSON.stringify(result.proofs[2]?.file));
    const run = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stdout).toMatch(/^verified: leaf 9 /);
    expect(run.status).toBe(0);
  });

  it('fails the proof when one byte of the event or the path changes', () => {
    const result = proveGrant(input());
    if (!result.ok) throw new Error(result.detail);
    const { file } = result.proofs[0] as { file: NonNullable<(typeof result.proofs)[0]>['file'] };
    const leaf = Buffer.from(file.leaf ?? '', 'base64');
    leaf[leaf.length - 1] = (leaf[leaf.length - 1] ?? 0) ^ 1;
    expect(verifyProofFile({ ...file, leaf: leaf.toString('base64') }, LIMITS).ok).toBe(false);
    const path = file.inclusionPath.map((h, i) => {
      if (i > 0) return h;
      const bytes = Buffer.from(h, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64');
    });
    expect(verifyProofFile({ ...file, inclusionPath: path }, LIMITS)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('ROOT_MISMATCH') as string,
    });
  });

  it('lists leaves past the checkpoint as not covered', () => {
    const result = proveGrant(input({ grantLeaves: leavesOfGrant(batches, 'G-4') }));
    if (!result.ok) throw new Error(result.detail);
    expect(result.proofs.map((p) => p.leafIndex)).toEqual([3, 7]);
    expect(result.notCovered.map((leaf) => leaf.index)).toEqual([11]);
  });

  it.each([
    [
      'a checkpoint by another key',
      { verifierKey: generateNoteKey(ORIGIN).verifierKey },
      'CHECKPOINT_REFUSED',
    ],
    ['a malformed key', { verifierKey: 'nope' }, 'BAD_VERIFIER_KEY'],
    ['too few leaves', { leaves: leaves.slice(0, 4) }, 'LOG_TOO_SHORT'],
    ['leaves of another history', { leaves: [...leaves].reverse() }, 'ROOT_MISMATCH'],
    [
      'a grant leaf that is not at its index',
      {
        grantLeaves: leavesOfGrant(batches, 'G-2').map((leaf) => ({
          ...leaf,
          index: leaf.index + 1,
        })),
      },
      'LEAF_MISMATCH',
    ],
  ])('refuses %s', (_name, over, reason) => {
    expect(proveGrant(input(over))).toMatchObject({ ok: false, reason });
  });

  it('accepts leaf hashes given as a source instead of an array', () => {
    const source = { size: leaves.length, hashAt: (i: number) => leaves[i] ?? Buffer.alloc(0) };
    const result = proveGrant(input({ leaves: source }));
    expect(result.ok).toBe(true);
    expect(auditLeafHash(entries[0] as LogOrderEntry).equals(leaves[0] as Buffer)).toBe(true);
  });
});
