import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCheckpoint } from './checkpoint';
import { TransparencyArgumentError } from './errors';
import { MerkleLog, inclusionProof, merkleLeafHash } from './merkle';
import { inclusionProofFile, type InclusionProofFile } from './proof-file';
import { generateNoteKey } from './signed-note';

// The standalone verifier repeats the RFC 9162 and signed-note rules on
// purpose; these tests hold it to the library: what the library proves, the
// script accepts, and one changed byte anywhere makes it refuse.
const SCRIPT = resolve(__dirname, '../../../../../tools/audit-proof-verifier/verify.mjs');
const ORIGIN = 'grantstream.example/audit';
const work = mkdtempSync(join(tmpdir(), 'audit-proof-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

const key = generateNoteKey(ORIGIN);
const events = Array.from({ length: 13 }, (_, i) =>
  Buffer.from(JSON.stringify({ event: i, grant: `G-${i % 4}` })),
);
const leafHashes = events.map(merkleLeafHash);
const log = new MerkleLog();
events.forEach((event) => log.append(event));
const checkpoint = signCheckpoint(
  { origin: ORIGIN, size: log.size, rootHash: log.root(), time: new Date('2026-12-06T22:00:00Z') },
  key.signer,
);
const INDEX = 6;
const proof = inclusionProofFile({
  checkpoint,
  verifierKey: key.verifierKey,
  leaf: events[INDEX],
  leafIndex: INDEX,
  treeSize: log.size,
  path: inclusionProof(leafHashes, INDEX, log.size),
});

let files = 0;
function runVerifier(document: unknown): { status: number | null; out: string } {
  files += 1;
  const file = join(work, `proof-${files}.json`);
  writeFileSync(file, JSON.stringify(document));
  const run = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** Base64 of the same bytes with byte `at` XOR 0x01. */
function flipBase64(value: string, at: number): string {
  const bytes = Buffer.from(value, 'base64');
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

function withSignatureFlipped(note: string): string {
  const encoded = note.slice(note.lastIndexOf(' ') + 1, -1);
  return note.slice(0, note.lastIndexOf(' ') + 1) + flipBase64(encoded, 20) + '\n';
}

describe('tools/audit-proof-verifier/verify.mjs', () => {
  it('verifies a proof built by the library (exit 0)', () => {
    const run = runVerifier(proof);
    expect(run.out).toMatch(/^verified: leaf 6 is in grantstream\.example\/audit at tree size 13/);
    expect(run.status).toBe(0);
  });

  it('verifies the same proof given the leaf hash instead of the leaf', () => {
    const { leaf: _leaf, ...rest } = proof;
    const run = runVerifier({
      ...rest,
      leafHash: (leafHashes[INDEX] as Buffer).toString('base64'),
    });
    expect(run.status).toBe(0);
  });

  const tampered: [string, InclusionProofFile, RegExp][] = [
    [
      'one byte of the inclusion path',
      {
        ...proof,
        inclusionPath: proof.inclusionPath.map((h, i) => (i === 1 ? flipBase64(h, 5) : h)),
      },
      /another root/,
    ],
    ['one byte of the leaf', { ...proof, leaf: flipBase64(proof.leaf ?? '', 3) }, /another root/],
    [
      'one byte of the checkpoint signature',
      { ...proof, checkpoint: withSignatureFlipped(checkpoint) },
      /signature does not verify/,
    ],
    [
      'a checkpoint signed by another key',
      {
        ...proof,
        checkpoint: signCheckpoint(
          { origin: ORIGIN, size: 13, rootHash: log.root() },
          generateNoteKey(ORIGIN).signer,
        ),
      },
      /not signed by the verifier key/,
    ],
    ['another leaf index', { ...proof, leafIndex: INDEX + 1 }, /another root/],
    [
      'a tree size other than the checkpoint',
      { ...proof, treeSize: 14 },
      /not the checkpoint size/,
    ],
    ['a truncated path', { ...proof, inclusionPath: proof.inclusionPath.slice(1) }, /shorter/],
    [
      'a verifier key with a wrong id',
      { ...proof, verifierKey: key.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+') },
      /key id/,
    ],
  ];

  it.each(tampered)('refuses %s (exit 1, named)', (_name, document, named) => {
    const run = runVerifier(document);
    expect(run.out).toMatch(/^not verified: /);
    expect(run.out).toMatch(named);
    expect(run.status).toBe(1);
  });

  it('refuses a file that is not a proof (exit 1)', () => {
    expect(runVerifier([1, 2]).status).toBe(1);
    expect(runVerifier({ ...proof, leafHash: proof.leaf }).out).toMatch(/exactly one of leaf/);
  });

  it('is given a proof with exactly one of leaf or leaf hash by the library', () => {
    const input = {
      checkpoint,
      verifierKey: key.verifierKey,
      leafIndex: INDEX,
      treeSize: 13,
      path: [],
    };
    expect(() => inclusionProofFile(input)).toThrow(TransparencyArgumentError);
    expect(() =>
      inclusionProofFile({ ...input, leaf: events[INDEX], leafHash: leafHashes[INDEX] }),
    ).toThrow(TransparencyArgumentError);
  });
});
