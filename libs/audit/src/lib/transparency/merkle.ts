import { createHash, timingSafeEqual } from 'node:crypto';
import { TransparencyArgumentError } from './errors';

/**
 * Size in bytes of every hash in the log (SHA-256). RFC 9162 lets a log pick
 * its hash algorithm once; fixing it here means a proof can be refused on its
 * shape before any hashing is done.
 */
export const MERKLE_HASH_BYTES = 32;

/**
 * Longest inclusion or consistency proof any verifier here accepts. RFC 9162
 * tree sizes are 64-bit, so no honest proof has more hashes than that; longer
 * input is refused before it is walked, which bounds the work an untrusted
 * proof can cause whatever it claims.
 */
export const MAX_PROOF_HASHES = 64;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/**
 * RFC 9162 §2.1.1 leaf hash, SHA-256(0x00 || leaf). The 0x00/0x01 prefixes keep
 * a leaf from ever hashing like an interior node, which would let someone
 * present two leaves' concatenation as one leaf (a second-preimage attack).
 */
export function merkleLeafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** RFC 9162 §2.1.1 interior node hash, SHA-256(0x01 || left || right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * Root of the empty tree, SHA-256 of the empty string (RFC 9162 §2.1.1). A
 * fresh copy each call, so a caller that mutates it cannot change what the
 * next caller compares against.
 */
export function emptyTreeHash(): Buffer {
  return createHash('sha256').digest();
}

/**
 * Random access to a log's leaf hashes, so proofs can be built over storage
 * that is not an array in memory (a file, a compacted topic's replay).
 */
export interface LeafHashSource {
  /** Number of leaves the source holds. */
  readonly size: number;
  /** Leaf hash (already prefixed and hashed) at `index`, 0 <= index < size. */
  hashAt(index: number): Uint8Array;
}

/** Leaf hashes as an array or as a {@link LeafHashSource}. */
export type LeafHashes = readonly Uint8Array[] | LeafHashSource;

/** Why a proof was refused; the verifiers never throw on untrusted input. */
export type ProofFailureReason =
  /** A tree size or leaf index that is negative, fractional or past 2^53 - 1. */
  | 'INVALID_SIZE'
  /** The leaf index is at or beyond the tree size. */
  | 'INDEX_OUT_OF_RANGE'
  /** A consistency proof from a larger tree to a smaller one. */
  | 'SIZES_OUT_OF_ORDER'
  /** More than {@link MAX_PROOF_HASHES} hashes. */
  | 'PROOF_TOO_LONG'
  /** A hash (leaf, root or proof element) that is not {@link MERKLE_HASH_BYTES} long. */
  | 'BAD_HASH_LENGTH'
  /** The proof has more or fewer hashes than the tree sizes call for. */
  | 'WRONG_PROOF_LENGTH'
  /** The proof is well formed but does not lead to the expected root(s). */
  | 'ROOT_MISMATCH';

/**
 * Outcome of checking a proof. A named reason rather than a boolean, so an
 * auditor's report can say whether the proof was truncated, aimed at the wrong
 * tree, or points at different data.
 */
export type ProofVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: ProofFailureReason; readonly detail: string };

const VERIFIED: ProofVerdict = { ok: true };

function refuse(reason: ProofFailureReason, detail: string): ProofVerdict {
  return { ok: false, reason, detail };
}

// Tree sizes may exceed 2^32, so bit tests and shifts use arithmetic on safe
// integers rather than JavaScript's 32-bit bitwise operators.
function isOdd(value: number): boolean {
  return value % 2 === 1;
}

function half(value: number): number {
  return Math.floor(value / 2);
}

function isSafeCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Largest power of two strictly below `n` (n >= 2): the RFC 9162 split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let value = n;
  while (value > 1 && !isOdd(value)) value = half(value);
  return value === 1;
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function requireCount(name: string, value: number): void {
  if (!isSafeCount(value)) {
    throw new TransparencyArgumentError(`${name} must be a non-negative safe integer`, {
      metadata: { [name]: value },
    });
  }
}

function requireHash(name: string, hash: Uint8Array): void {
  if (hash.length !== MERKLE_HASH_BYTES) {
    throw new TransparencyArgumentError(`${name} must be ${MERKLE_HASH_BYTES} bytes`, {
      metadata: { [name]: hash.length },
    });
  }
}

function sourceOf(leaves: LeafHashes): LeafHashSource {
  if (!Array.isArray(leaves)) return leaves as LeafHashSource;
  const list = leaves as readonly Uint8Array[];
  return {
    size: list.length,
    hashAt: (index) => list[index] ?? new Uint8Array(0),
  };
}

function leafAt(source: LeafHashSource, index: number): Uint8Array {
  const hash = source.hashAt(index);
  requireHash(`leaf hash ${index}`, hash);
  return hash;
}

/** MTH over leaves [start, end) by the RFC 9162 §2.1.1 recursion (depth O(log n)). */
function subtreeHash(source: LeafHashSource, start: number, end: number): Buffer {
  const count = end - start;
  if (count === 0) return emptyTreeHash();
  if (count === 1) return Buffer.from(leafAt(source, start));
  const k = splitPoint(count);
  return merkleNodeHash(subtreeHash(source, start, start + k), subtreeHash(source, start + k, end));
}

function checkedSource(leaves: LeafHashes, treeSize: number): LeafHashSource {
  requireCount('treeSize', treeSize);
  const source = sourceOf(leaves);
  if (treeSize > source.size) {
    throw new TransparencyArgumentError('treeSize is larger than the number of leaves held', {
      metadata: { treeSize, held: source.size },
    });
  }
  return source;
}

/**
 * MTH(D[0:treeSize]) of RFC 9162 §2.1.1 for any size, not only powers of two.
 * `treeSize` defaults to every leaf held; a smaller size gives the root an
 * earlier checkpoint signed.
 */
export function merkleTreeHash(leaves: LeafHashes, treeSize?: number): Buffer {
  const size = treeSize ?? sourceOf(leaves).size;
  return subtreeHash(checkedSource(leaves, size), 0, size);
}

/** Where a walk down the RFC 9162 recursion ended and what it passed. */
interface Descent {
  /** Hashes of the subtrees left aside, deepest first (proof order). */
  readonly siblings: Buffer[];
  readonly start: number;
  readonly end: number;
  /** True once the walk took a right branch at least once. */
  readonly wentRight: boolean;
}

/**
 * The top-down walk that PATH and SUBPROOF (RFC 9162 §2.1.3.1, §2.1.4.1) share:
 * split [start, end) at the largest power of two below its width, keep the half
 * that holds `target` and record the other half's hash. Iterative and bounded
 * by log2(size) steps; the two proofs differ only in where they branch and stop.
 */
function descend(
  source: LeafHashSource,
  size: number,
  target: number,
  rules: {
    staysLeft: (m: number, k: number) => boolean;
    arrived: (m: number, width: number) => boolean;
  },
): Descent {
  const outer: Buffer[] = [];
  let start = 0;
  let end = size;
  let m = target;
  let wentRight = false;
  while (!rules.arrived(m, end - start)) {
    const k = splitPoint(end - start);
    if (rules.staysLeft(m, k)) {
      outer.push(subtreeHash(source, start + k, end));
      end = start + k;
    } else {
      outer.push(subtreeHash(source, start, start + k));
      start += k;
      m -= k;
      wentRight = true;
    }
  }
  return { siblings: outer.reverse(), start, end, wentRight };
}

/**
 * Inclusion proof PATH(leafIndex, D[0:treeSize]) of RFC 9162 §2.1.3.1: the
 * sibling subtree hashes from the leaf up to the root. Built top-down and
 * reversed, so it takes O(log n) steps plus the subtree hashing.
 */
export function inclusionProof(leaves: LeafHashes, leafIndex: number, treeSize: number): Buffer[] {
  const source = checkedSource(leaves, treeSize);
  requireCount('leafIndex', leafIndex);
  if (leafIndex >= treeSize) {
    throw new TransparencyArgumentError('leafIndex must be below treeSize', {
      metadata: { leafIndex, treeSize },
    });
  }
  const descent = descend(source, treeSize, leafIndex, {
    staysLeft: (m, k) => m < k,
    arrived: (_m, width) => width <= 1,
  });
  return descent.siblings;
}

/**
 * Consistency proof PROOF(firstSize, D[0:secondSize]) of RFC 9162 §2.1.4.1:
 * the hashes that show the tree of `firstSize` leaves is a prefix of the tree
 * of `secondSize`. Empty when the sizes are equal or the first tree is empty
 * (both are consistent with anything that extends them).
 */
export function consistencyProof(
  leaves: LeafHashes,
  firstSize: number,
  secondSize: number,
): Buffer[] {
  const source = checkedSource(leaves, secondSize);
  requireCount('firstSize', firstSize);
  if (firstSize > secondSize) {
    throw new TransparencyArgumentError('firstSize must not exceed secondSize', {
      metadata: { firstSize, secondSize },
    });
  }
  if (firstSize === 0) return [];
  const { siblings, start, end, wentRight } = descend(source, secondSize, firstSize, {
    staysLeft: (m, k) => m <= k,
    arrived: (m, width) => m === width,
  });
  // SUBPROOF's flag b: while the walk stayed on the old tree's own root path,
  // the verifier already has that subtree's hash (the old root) and it is left
  // out; once it went right, the old tree's last subtree must be given.
  return wentRight ? [subtreeHash(source, start, end), ...siblings] : siblings;
}

/** Input of {@link verifyInclusion}. */
export interface InclusionClaim {
  /** Hash of the leaf (see {@link merkleLeafHash}), not the leaf bytes. */
  readonly leafHash: Uint8Array;
  readonly leafIndex: number;
  readonly treeSize: number;
  /** Proof hashes, leaf side first, as {@link inclusionProof} returns them. */
  readonly path: readonly Uint8Array[];
  /** Root the proof must reach, normally from a verified checkpoint. */
  readonly root: Uint8Array;
}

function proofShapeProblem(
  hashes: readonly Uint8Array[],
  named: Record<string, Uint8Array>,
): ProofVerdict | undefined {
  if (hashes.length > MAX_PROOF_HASHES) {
    return refuse('PROOF_TOO_LONG', `${hashes.length} hashes, at most ${MAX_PROOF_HASHES}`);
  }
  for (const [name, hash] of Object.entries(named)) {
    if (hash.length !== MERKLE_HASH_BYTES) {
      return refuse('BAD_HASH_LENGTH', `${name} is ${hash.length} bytes`);
    }
  }
  const short = hashes.findIndex((hash) => hash.length !== MERKLE_HASH_BYTES);
  if (short >= 0) return refuse('BAD_HASH_LENGTH', `proof hash ${short} is not 32 bytes`);
  return undefined;
}

/**
 * The fn/sn bit walk shared by RFC 9162 §2.1.3.2 (step 4) and §2.1.4.2 (step
 * 6): for each proof hash it tells `step` whether that hash is the left
 * sibling, and refuses a proof with hashes past the root or one that stops
 * below it. One pass, so the work is bounded by the proof length.
 */
function walkProof(
  firstNode: number,
  lastNode: number,
  hashes: readonly Uint8Array[],
  step: (hash: Uint8Array, siblingOnLeft: boolean) => void,
): ProofVerdict | undefined {
  let fn = firstNode;
  let sn = lastNode;
  for (const hash of hashes) {
    if (sn === 0) return refuse('WRONG_PROOF_LENGTH', 'proof has hashes past the root');
    const siblingOnLeft = isOdd(fn) || fn === sn;
    step(hash, siblingOnLeft);
    if (siblingOnLeft) {
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return refuse('WRONG_PROOF_LENGTH', 'proof stops below the root');
  return undefined;
}

/**
 * Checks an inclusion proof exactly as RFC 9162 §2.1.3.2 prescribes (the
 * fn/sn bit walk), so the result matches any other conforming verifier. Work is
 * bounded by the proof length, itself capped at {@link MAX_PROOF_HASHES}.
 */
export function verifyInclusion(claim: InclusionClaim): ProofVerdict {
  const { leafHash, leafIndex, treeSize, path, root } = claim;
  if (!isSafeCount(leafIndex) || !isSafeCount(treeSize)) {
    return refuse('INVALID_SIZE', `leaf index ${leafIndex}, tree size ${treeSize}`);
  }
  if (leafIndex >= treeSize) {
    return refuse('INDEX_OUT_OF_RANGE', `leaf index ${leafIndex} >= tree size ${treeSize}`);
  }
  const shape = proofShapeProblem(path, { 'leaf hash': leafHash, root });
  if (shape) return shape;
  let r: Buffer = Buffer.from(leafHash);
  const walked = walkProof(leafIndex, treeSize - 1, path, (p, siblingOnLeft) => {
    r = siblingOnLeft ? merkleNodeHash(p, r) : merkleNodeHash(r, p);
  });
  if (walked) return walked;
  if (!sameHash(r, root)) return refuse('ROOT_MISMATCH', 'proof leads to a different root');
  return VERIFIED;
}

/** Input of {@link verifyConsistency}. */
export interface ConsistencyClaim {
  readonly firstSize: number;
  readonly secondSize: number;
  readonly firstRoot: Uint8Array;
  readonly secondRoot: Uint8Array;
  /** Proof hashes as {@link consistencyProof} returns them. */
  readonly proof: readonly Uint8Array[];
}

function trivialConsistency(claim: ConsistencyClaim): ProofVerdict {
  const { firstSize, firstRoot, secondRoot, proof } = claim;
  if (proof.length !== 0) {
    return refuse('WRONG_PROOF_LENGTH', 'proof must be empty for an empty or unchanged tree');
  }
  if (firstSize === 0) return VERIFIED;
  return sameHash(firstRoot, secondRoot)
    ? VERIFIED
    : refuse('ROOT_MISMATCH', 'same tree size with two different roots');
}

/**
 * Checks a consistency proof exactly as RFC 9162 §2.1.4.2 prescribes, i.e.
 * that the tree with `secondRoot` extends the tree with `firstRoot` without
 * rewriting any of its leaves. Equal sizes need an empty proof and equal roots;
 * an empty first tree is a prefix of every tree and needs an empty proof.
 */
export function verifyConsistency(claim: ConsistencyClaim): ProofVerdict {
  const { firstSize, secondSize, firstRoot, secondRoot, proof } = claim;
  if (!isSafeCount(firstSize) || !isSafeCount(secondSize)) {
    return refuse('INVALID_SIZE', `sizes ${firstSize} and ${secondSize}`);
  }
  if (firstSize > secondSize) {
    return refuse('SIZES_OUT_OF_ORDER', `first size ${firstSize} > second size ${secondSize}`);
  }
  const shape = proofShapeProblem(proof, { 'first root': firstRoot, 'second root': secondRoot });
  if (shape) return shape;
  if (firstSize === 0 || firstSize === secondSize) return trivialConsistency(claim);
  if (proof.length === 0) return refuse('WRONG_PROOF_LENGTH', 'proof is empty');

  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : [...proof];
  // Step 4: skip the levels where the old tree's last leaf is a right child,
  // since the first proof hash already covers them.
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const [seed, ...rest] = path as [Uint8Array, ...Uint8Array[]];
  let fr: Buffer = Buffer.from(seed);
  let sr: Buffer = Buffer.from(seed);
  const walked = walkProof(fn, sn, rest, (c, siblingOnLeft) => {
    if (siblingOnLeft) {
      fr = merkleNodeHash(c, fr);
      sr = merkleNodeHash(c, sr);
    } else {
      sr = merkleNodeHash(sr, c);
    }
  });
  if (walked) return walked;
  if (!sameHash(fr, firstRoot)) return refuse('ROOT_MISMATCH', 'first root differs');
  if (!sameHash(sr, secondRoot)) return refuse('ROOT_MISMATCH', 'second root differs');
  return VERIFIED;
}

function popCount(value: number): number {
  let count = 0;
  for (let rest = value; rest > 0; rest = half(rest)) if (isOdd(rest)) count += 1;
  return count;
}

/**
 * Append-only Merkle log that keeps only its compact range: the roots of the
 * perfect subtrees that make up the tree, one per set bit of the size, largest
 * first. Appending n leaves therefore holds O(log n) hashes, which is what lets
 * a checkpointer follow an unbounded audit topic in bounded memory; proofs are
 * built elsewhere from the stored leaf hashes ({@link inclusionProof}).
 */
export class MerkleLog {
  private readonly range: Buffer[];
  private count: number;

  /** An empty log, or one resumed from a size and its compact range. */
  constructor(size = 0, compactRange: readonly Uint8Array[] = []) {
    requireCount('size', size);
    if (compactRange.length !== popCount(size)) {
      throw new TransparencyArgumentError('compact range does not match the size', {
        metadata: { size, hashes: compactRange.length },
      });
    }
    compactRange.forEach((hash, i) => requireHash(`compact range hash ${i}`, hash));
    this.range = compactRange.map((hash) => Buffer.from(hash));
    this.count = size;
  }

  /** Number of leaves appended. */
  get size(): number {
    return this.count;
  }

  /** Copies of the compact range, to persist and later resume with. */
  compactRange(): Buffer[] {
    return this.range.map((hash) => Buffer.from(hash));
  }

  /** Appends a leaf's bytes (hashed with the 0x00 prefix); returns its index. */
  append(leaf: Uint8Array): number {
    return this.appendLeafHash(merkleLeafHash(leaf));
  }

  /** Appends an already computed leaf hash; returns its index. */
  appendLeafHash(leafHash: Uint8Array): number {
    requireHash('leafHash', leafHash);
    if (this.count >= Number.MAX_SAFE_INTEGER) {
      throw new TransparencyArgumentError('log is full: size would pass 2^53 - 1');
    }
    // Each trailing set bit of the old size is a perfect subtree the new leaf
    // completes; merge them right to left, exactly as a binary counter carries.
    let node: Buffer = Buffer.from(leafHash);
    for (let n = this.count; isOdd(n); n = half(n)) {
      const left = this.range.pop();
      if (left === undefined) throw new TransparencyArgumentError('compact range underflow');
      node = merkleNodeHash(left, node);
    }
    this.range.push(node);
    this.count += 1;
    return this.count - 1;
  }

  /** MTH of everything appended so far: the compact range folded right to left. */
  root(): Buffer {
    const last = this.range[this.range.length - 1];
    if (last === undefined) return emptyTreeHash();
    let root = last;
    for (let i = this.range.length - 2; i >= 0; i -= 1) {
      root = merkleNodeHash(this.range[i] as Buffer, root);
    }
    return Buffer.from(root);
  }
}
