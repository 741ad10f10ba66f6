import { describe, expect, it } from 'vitest';
import { TransparencyArgumentError } from './errors';
import {
  MAX_PROOF_HASHES,
  MerkleLog,
  consistencyProof,
  emptyTreeHash,
  inclusionProof,
  merkleLeafHash,
  merkleTreeHash,
  verifyConsistency,
  verifyInclusion,
  type ProofVerdict,
} from './merkle';

const hex = (hash: Uint8Array): string => Buffer.from(hash).toString('hex');
const fromHex = (value: string): Buffer => Buffer.from(value, 'hex');

// The reference tree used across Certificate Transparency implementations:
// eight leaves, their RFC 6962/9162 roots for every size, and known proofs.
const REFERENCE_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(fromHex);

const REFERENCE_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const REFERENCE_INCLUSION: { index: number; size: number; path: string[] }[] = [
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    index: 2,
    size: 3,
    path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
  },
  {
    index: 1,
    size: 5,
    path: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const REFERENCE_CONSISTENCY: { first: number; second: number; proof: string[] }[] = [
  { first: 1, second: 1, proof: [] },
  {
    first: 1,
    second: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    first: 2,
    second: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    first: 6,
    second: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const referenceHashes = REFERENCE_LEAVES.map(merkleLeafHash);

/** Leaf hashes of a synthetic log: leaf i is the decimal string of i. */
function syntheticLeaves(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => merkleLeafHash(Buffer.from(String(i))));
}

function flipped(hash: Uint8Array, byte: number): Buffer {
  const copy = Buffer.from(hash);
  copy[byte] = (copy[byte] ?? 0) ^ 0x01;
  return copy;
}

function reasonOf(verdict: ProofVerdict): string {
  return verdict.ok ? 'OK' : verdict.reason;
}

/**
 * Flips bytes of the proof hashes in place, one at a time, calls `check`, and
 * restores them. Every byte of every hash when `everyByte`; otherwise one byte
 * per hash, its offset cycling with the hash position, so a sweep over many
 * sizes still touches every offset while staying fast enough for a unit run.
 */
function forEachFlip(
  hashes: readonly Buffer[],
  everyByte: boolean,
  salt: number,
  check: (at: string) => void,
): void {
  hashes.forEach((hash, h) => {
    const offsets = everyByte ? hash.keys() : [(h * 7 + salt) % hash.length];
    for (const byte of offsets) {
      hash[byte] = (hash[byte] ?? 0) ^ 0x01;
      check(`${h}.${byte}`);
      hash[byte] = (hash[byte] ?? 0) ^ 0x01;
    }
  });
}

/**
 * The exhaustive blocks check tens of thousands of proofs: about a second on an
 * idle core, many more beside the integration suite on a shared machine.
 */
const EXHAUSTIVE_TIMEOUT_MS = 60_000;

describe('RFC 9162 hashing against the reference tree', () => {
  it('hashes the empty tree as SHA-256 of the empty string', () => {
    expect(hex(emptyTreeHash())).toBe(REFERENCE_ROOTS[0]);
    expect(hex(merkleTreeHash([]))).toBe(REFERENCE_ROOTS[0]);
  });

  it('computes the published root for every size 0..8', () => {
    REFERENCE_ROOTS.forEach((root, size) => {
      expect(hex(merkleTreeHash(referenceHashes, size))).toBe(root);
    });
  });

  it('reproduces the published inclusion proofs and verifies them', () => {
    for (const { index, size, path } of REFERENCE_INCLUSION) {
      const proof = inclusionProof(referenceHashes, index, size);
      expect(proof.map(hex)).toEqual(path);
      const verdict = verifyInclusion({
        leafHash: referenceHashes[index] as Buffer,
        leafIndex: index,
        treeSize: size,
        path: proof,
        root: fromHex(REFERENCE_ROOTS[size] as string),
      });
      expect(verdict).toEqual({ ok: true });
    }
  });

  it('reproduces the published consistency proofs and verifies them', () => {
    for (const { first, second, proof } of REFERENCE_CONSISTENCY) {
      const built = consistencyProof(referenceHashes, first, second);
      expect(built.map(hex)).toEqual(proof);
      const verdict = verifyConsistency({
        firstSize: first,
        secondSize: second,
        firstRoot: fromHex(REFERENCE_ROOTS[first] as string),
        secondRoot: fromHex(REFERENCE_ROOTS[second] as string),
        proof: built,
      });
      expect(verdict).toEqual({ ok: true });
    }
  });
});

describe('MerkleLog', () => {
  it('has the recursive MTH as its root after every append, sizes 0..130', () => {
    const leaves = syntheticLeaves(130);
    const log = new MerkleLog();
    expect(log.root()).toEqual(emptyTreeHash());
    leaves.forEach((leaf, i) => {
      expect(log.appendLeafHash(leaf)).toBe(i);
      expect(hex(log.root())).toBe(hex(merkleTreeHash(leaves, i + 1)));
    });
  });

  it('keeps one hash per set bit of its size, so memory grows as log n', () => {
    const log = new MerkleLog();
    for (let i = 0; i < 1023; i += 1) log.append(Buffer.from(String(i)));
    expect(log.size).toBe(1023);
    expect(log.compactRange()).toHaveLength(10);
    log.append(Buffer.from('1023'));
    expect(log.compactRange()).toHaveLength(1);
  });

  it('matches the reference roots when fed leaf bytes', () => {
    const log = new MerkleLog();
    REFERENCE_LEAVES.forEach((leaf, i) => {
      log.append(leaf);
      expect(hex(log.root())).toBe(REFERENCE_ROOTS[i + 1]);
    });
  });

  it('resumes from a persisted compact range and continues the same tree', () => {
    const leaves = syntheticLeaves(45);
    const first = new MerkleLog();
    leaves.slice(0, 21).forEach((leaf) => first.appendLeafHash(leaf));
    const resumed = new MerkleLog(first.size, first.compactRange());
    leaves.slice(21).forEach((leaf) => resumed.appendLeafHash(leaf));
    expect(hex(resumed.root())).toBe(hex(merkleTreeHash(leaves)));
  });

  it('refuses a compact range that does not fit the size, and short leaf hashes', () => {
    expect(() => new MerkleLog(3, [emptyTreeHash()])).toThrow(TransparencyArgumentError);
    expect(() => new MerkleLog(-1)).toThrow(TransparencyArgumentError);
    expect(() => new MerkleLog().appendLeafHash(Buffer.alloc(31))).toThrow(
      TransparencyArgumentError,
    );
  });
});

describe(
  'inclusion proofs, every size 1..70 and every index',
  { timeout: EXHAUSTIVE_TIMEOUT_MS },
  () => {
    const leaves = syntheticLeaves(70);

    it('verify, and fail when any byte of any proof hash is flipped', () => {
      let checked = 0;
      const accepted: string[] = [];
      for (let size = 1; size <= 70; size += 1) {
        const root = merkleTreeHash(leaves, size);
        for (let index = 0; index < size; index += 1) {
          const leafHash = leaves[index] as Buffer;
          const path = inclusionProof(leaves, index, size);
          const claim = { leafHash, leafIndex: index, treeSize: size, path, root };
          expect(verifyInclusion(claim)).toEqual({ ok: true });
          forEachFlip(path, size === 70, index, (at) => {
            const reason = reasonOf(verifyInclusion(claim));
            if (reason !== 'ROOT_MISMATCH') accepted.push(`${size}/${index}/${at}: ${reason}`);
            checked += 1;
          });
          expect(reasonOf(verifyInclusion({ ...claim, leafHash: flipped(leafHash, 0) }))).toBe(
            'ROOT_MISMATCH',
          );
          expect(reasonOf(verifyInclusion({ ...claim, root: flipped(root, 31) }))).toBe(
            'ROOT_MISMATCH',
          );
        }
      }
      expect(accepted).toEqual([]);
      expect(checked).toBeGreaterThan(25_000);
    });

    it('fails for the wrong index or size and for truncated or padded paths', () => {
      for (let size = 2; size <= 70; size += 1) {
        const root = merkleTreeHash(leaves, size);
        for (let index = 0; index < size; index += 1) {
          const path = inclusionProof(leaves, index, size);
          const claim = {
            leafHash: leaves[index] as Buffer,
            leafIndex: index,
            treeSize: size,
            path,
            root,
          };
          expect(verifyInclusion({ ...claim, leafIndex: (index + 1) % size }).ok).toBe(false);
          expect(verifyInclusion({ ...claim, treeSize: size * 2 }).ok).toBe(false);
          expect(reasonOf(verifyInclusion({ ...claim, path: path.slice(1) }))).not.toBe('OK');
          expect(reasonOf(verifyInclusion({ ...claim, path: [...path, root] }))).toBe(
            'WRONG_PROOF_LENGTH',
          );
        }
      }
    });
  },
);

describe('inclusion proof refusals', () => {
  const leaves = syntheticLeaves(8);
  const root = merkleTreeHash(leaves);
  const claim = {
    leafHash: leaves[3] as Buffer,
    leafIndex: 3,
    treeSize: 8,
    path: inclusionProof(leaves, 3, 8),
    root,
  };

  it.each([
    ['index >= size', { leafIndex: 8 }, 'INDEX_OUT_OF_RANGE'],
    ['empty tree', { treeSize: 0, leafIndex: 0 }, 'INDEX_OUT_OF_RANGE'],
    ['negative index', { leafIndex: -1 }, 'INVALID_SIZE'],
    ['fractional size', { treeSize: 8.5 }, 'INVALID_SIZE'],
    ['unsafe size', { treeSize: 2 ** 53 }, 'INVALID_SIZE'],
    ['short root', { root: root.subarray(1) }, 'BAD_HASH_LENGTH'],
    ['short leaf hash', { leafHash: Buffer.alloc(20) }, 'BAD_HASH_LENGTH'],
    ['short proof hash', { path: [Buffer.alloc(31)] }, 'BAD_HASH_LENGTH'],
    [
      '65 hashes',
      { path: Array.from({ length: MAX_PROOF_HASHES + 1 }, () => root) },
      'PROOF_TOO_LONG',
    ],
  ])('names %s', (_name, change, reason) => {
    expect(reasonOf(verifyInclusion({ ...claim, ...change }))).toBe(reason);
  });

  it('throws a named error when asked to prove a leaf that is not in the tree', () => {
    expect(() => inclusionProof(leaves, 8, 8)).toThrow(TransparencyArgumentError);
    expect(() => inclusionProof(leaves, 0, 9)).toThrow(TransparencyArgumentError);
  });

  it('accepts a proof over a leaf accessor as over an array', () => {
    const source = { size: leaves.length, hashAt: (i: number) => leaves[i] as Buffer };
    expect(inclusionProof(source, 3, 8).map(hex)).toEqual(claim.path.map(hex));
  });
});

describe(
  'consistency proofs, every pair 0 <= m <= n up to 40',
  { timeout: EXHAUSTIVE_TIMEOUT_MS },
  () => {
    const leaves = syntheticLeaves(40);
    const roots = Array.from({ length: 41 }, (_, size) => merkleTreeHash(leaves, size));

    it('verify, and fail when tampered', () => {
      const accepted: string[] = [];
      for (let second = 1; second <= 40; second += 1) {
        for (let first = 1; first <= second; first += 1) {
          const proof = consistencyProof(leaves, first, second);
          const claim = {
            firstSize: first,
            secondSize: second,
            firstRoot: roots[first] as Buffer,
            secondRoot: roots[second] as Buffer,
            proof,
          };
          expect(verifyConsistency(claim)).toEqual({ ok: true });
          forEachFlip(proof, second === 40, first, (at) => {
            if (verifyConsistency(claim).ok) accepted.push(`${first}->${second}/${at}`);
          });
          expect(verifyConsistency({ ...claim, secondRoot: flipped(claim.secondRoot, 7) }).ok).toBe(
            false,
          );
          expect(verifyConsistency({ ...claim, firstRoot: flipped(claim.firstRoot, 7) }).ok).toBe(
            false,
          );
          if (first < second) {
            expect(verifyConsistency({ ...claim, proof: proof.slice(0, -1) }).ok).toBe(false);
            expect(
              verifyConsistency({ ...claim, proof: [...proof, roots[second] as Buffer] }).ok,
            ).toBe(false);
            expect(verifyConsistency({ ...claim, firstSize: first + 1 }).ok).toBe(false);
          }
        }
        // The empty tree is a prefix of every tree: an empty proof, any roots.
        const fromEmpty = consistencyProof(leaves, 0, second);
        expect(fromEmpty).toEqual([]);
        const claim = { firstRoot: roots[0] as Buffer, secondRoot: roots[second] as Buffer };
        expect(
          verifyConsistency({ ...claim, firstSize: 0, secondSize: second, proof: fromEmpty }),
        ).toEqual({
          ok: true,
        });
      }
      expect(accepted).toEqual([]);
    });

    it('names a forked history: same size, different root', () => {
      const forked = syntheticLeaves(12).reverse();
      const verdict = verifyConsistency({
        firstSize: 12,
        secondSize: 12,
        firstRoot: roots[12] as Buffer,
        secondRoot: merkleTreeHash(forked),
        proof: [],
      });
      expect(reasonOf(verdict)).toBe('ROOT_MISMATCH');
    });

    it('names sizes out of order, an empty proof and a non-empty proof from size 0', () => {
      const base = { firstRoot: roots[5] as Buffer, secondRoot: roots[9] as Buffer };
      expect(reasonOf(verifyConsistency({ ...base, firstSize: 9, secondSize: 5, proof: [] }))).toBe(
        'SIZES_OUT_OF_ORDER',
      );
      expect(reasonOf(verifyConsistency({ ...base, firstSize: 5, secondSize: 9, proof: [] }))).toBe(
        'WRONG_PROOF_LENGTH',
      );
      expect(
        reasonOf(
          verifyConsistency({ ...base, firstSize: 0, secondSize: 9, proof: [base.firstRoot] }),
        ),
      ).toBe('WRONG_PROOF_LENGTH');
      expect(verifyConsistency({ ...base, firstSize: 0, secondSize: 9, proof: [] })).toEqual({
        ok: true,
      });
      expect(() => consistencyProof(leaves, 6, 5)).toThrow(TransparencyArgumentError);
    });
  },
);
