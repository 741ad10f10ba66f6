import { timingSafeEqual } from 'node:crypto';
import { openCheckpoint, type Checkpoint, type CheckpointExpectations } from './checkpoint';
import { auditLeafHash, encodeAuditLeaf, grantIdOfAuditKey, type AuditLeafFields } from './leaf';
import type { LogOrderBatch } from './leaf-order';
import {
  inclusionProof,
  merkleLeafHash,
  merkleTreeHash,
  verifyInclusion,
  type LeafHashSource,
  type LeafHashes,
  type ProofVerdict,
} from './merkle';
import { inclusionProofFile, type InclusionProofFile } from './proof-file';
import { decodeBase64Strict, parseVerifierKey } from './signed-note';

/** A leaf of one grant: its index in the log and what it commits to. */
export interface GrantLeaf {
  readonly index: number;
  readonly fields: AuditLeafFields;
}

/**
 * The leaves of one grant, in log order, read from the order batches (which
 * must have passed {@link validateOrderBatches}: the index is the batch's
 * firstIndex plus the entry's position). Streams: holds one batch at a time
 * plus the grant's leaves.
 */
export function leavesOfGrant(batches: Iterable<LogOrderBatch>, grantId: string): GrantLeaf[] {
  const leaves: GrantLeaf[] = [];
  for (const batch of batches) {
    batch.entries.forEach((entry, i) => {
      if (grantIdOfAuditKey(entry.key) !== grantId) return;
      const { key, eventHash, stableHash } = entry;
      leaves.push({ index: batch.firstIndex + i, fields: { key, eventHash, stableHash } });
    });
  }
  return leaves;
}

/** What {@link proveGrant} needs. */
export interface GrantProofInput {
  /** Leaf hashes of the log (rebuilt from the order batches), at least the checkpoint's size. */
  readonly leaves: LeafHashes;
  /** The grant's leaves ({@link leavesOfGrant}). */
  readonly grantLeaves: readonly GrantLeaf[];
  /** The signed checkpoint note to prove against, verbatim. */
  readonly checkpoint: string;
  /** The log's verifier key string, written into every proof file. */
  readonly verifierKey: string;
  readonly limits: CheckpointExpectations;
}

/**
 * Why no proof was built:
 * - `BAD_VERIFIER_KEY`: the verifier key string is refused.
 * - `CHECKPOINT_REFUSED`: the checkpoint does not verify with that key.
 * - `LOG_TOO_SHORT`: fewer leaves than the checkpoint's tree size.
 * - `ROOT_MISMATCH`: the leaves do not reproduce the checkpoint's root.
 * - `LEAF_MISMATCH`: a grant leaf's fields do not hash to the leaf at its index.
 * - `PROOF_FAILED`: a built proof does not verify (a bug; never expected).
 */
export type GrantProofRefusal =
  | 'BAD_VERIFIER_KEY'
  | 'CHECKPOINT_REFUSED'
  | 'LOG_TOO_SHORT'
  | 'ROOT_MISMATCH'
  | 'LEAF_MISMATCH'
  | 'PROOF_FAILED';

/** One event's proof and the leaf it proves. */
export interface GrantEventProof {
  readonly leafIndex: number;
  readonly key: string;
  readonly eventHash: string;
  readonly file: InclusionProofFile;
}

/** Outcome of {@link proveGrant}. */
export type GrantProofResult =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      /** Proofs of the grant's leaves inside the checkpoint, in log order. */
      readonly proofs: readonly GrantEventProof[];
      /** Grant leaves past the checkpoint's tree size: not provable against it yet. */
      readonly notCovered: readonly GrantLeaf[];
    }
  | { readonly ok: false; readonly reason: GrantProofRefusal; readonly detail: string };

function sourceOf(leaves: LeafHashes): LeafHashSource {
  if (!Array.isArray(leaves)) return leaves as LeafHashSource;
  const list = leaves as readonly Uint8Array[];
  return { size: list.length, hashAt: (index) => list[index] ?? new Uint8Array(0) };
}

const sameHash = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

/**
 * Builds one inclusion proof file (tools/audit-proof-verifier's format, leaf
 * bytes disclosed) per grant leaf inside the checkpoint, and checks each with
 * {@link verifyProofFile} before returning it, so a proof handed to an auditor
 * has passed the library's own verifier. The checkpoint is verified with the
 * given key and its root recomputed from the leaves first: a proof against a
 * root the leaves do not reproduce would prove nothing.
 *
 * Each proof walks the tree (O(n) hashing for an n-leaf log, see
 * docs/audit.md); a grant has a handful of events, so this is seconds for a
 * million leaves.
 */
export function proveGrant(input: GrantProofInput): GrantProofResult {
  const parsedKey = parseVerifierKey(input.verifierKey);
  if (!parsedKey.ok) {
    return { ok: false, reason: 'BAD_VERIFIER_KEY', detail: parsedKey.reason };
  }
  const opened = openCheckpoint(input.checkpoint, [parsedKey.verifier], input.limits);
  if (!opened.ok) {
    return {
      ok: false,
      reason: 'CHECKPOINT_REFUSED',
      detail: `${opened.reason}: ${opened.detail}`,
    };
  }
  const { checkpoint } = opened;
  const source = sourceOf(input.leaves);
  if (source.size < checkpoint.size) {
    return {
      ok: false,
      reason: 'LOG_TOO_SHORT',
      detail: `${source.size} leaves, the checkpoint covers ${checkpoint.size}`,
    };
  }
  if (!sameHash(merkleTreeHash(source, checkpoint.size), checkpoint.rootHash)) {
    return {
      ok: false,
      reason: 'ROOT_MISMATCH',
      detail: `the leaves do not reproduce the root of tree size ${checkpoint.size}`,
    };
  }
  const proofs: GrantEventProof[] = [];
  const notCovered: GrantLeaf[] = [];
  for (const leaf of input.grantLeaves) {
    if (leaf.index >= checkpoint.size) {
      notCovered.push(leaf);
      continue;
    }
    if (!sameHash(auditLeafHash(leaf.fields), source.hashAt(leaf.index))) {
      return {
        ok: false,
        reason: 'LEAF_MISMATCH',
        detail: `leaf ${leaf.index} is not ${leaf.fields.key} / ${leaf.fields.eventHash}`,
      };
    }
    const file = inclusionProofFile({
      checkpoint: input.checkpoint,
      verifierKey: input.verifierKey,
      leaf: encodeAuditLeaf(leaf.fields),
      leafIndex: leaf.index,
      treeSize: checkpoint.size,
      path: inclusionProof(source, leaf.index, checkpoint.size),
    });
    const verdict = verifyProofFile(file, input.limits);
    if (!verdict.ok) {
      return { ok: false, reason: 'PROOF_FAILED', detail: `leaf ${leaf.index}: ${verdict.detail}` };
    }
    proofs.push({
      leafIndex: leaf.index,
      key: leaf.fields.key,
      eventHash: leaf.fields.eventHash,
      file,
    });
  }
  return { ok: true, checkpoint, proofs, notCovered };
}

/** Outcome of {@link verifyProofFile}. */
export type ProofFileVerdict =
  | { readonly ok: true; readonly checkpoint: Checkpoint }
  | { readonly ok: false; readonly detail: string };

function decodeHash(value: unknown): Buffer | undefined {
  return typeof value === 'string' ? decodeBase64Strict(value) : undefined;
}

/**
 * Checks an inclusion proof file with the library (the same rules as the
 * standalone verifier): the key string, the checkpoint's signature by that
 * key, the tree size, and the RFC 9162 path from the leaf to the root. Like
 * the standalone script it trusts the key in the file; the caller compares it
 * with the log's published key.
 */
export function verifyProofFile(
  file: InclusionProofFile,
  limits: CheckpointExpectations,
): ProofFileVerdict {
  const key = parseVerifierKey(file.verifierKey);
  if (!key.ok) return { ok: false, detail: `verifier key: ${key.reason}` };
  const opened = openCheckpoint(file.checkpoint, [key.verifier], limits);
  if (!opened.ok) return { ok: false, detail: `checkpoint: ${opened.reason}` };
  if (file.treeSize !== opened.checkpoint.size) {
    return { ok: false, detail: `tree size ${file.treeSize} is not the checkpoint's` };
  }
  if ((file.leaf === undefined) === (file.leafHash === undefined)) {
    return { ok: false, detail: 'give exactly one of leaf or leafHash' };
  }
  const leafBytes = file.leaf === undefined ? undefined : decodeHash(file.leaf);
  const leafHash =
    file.leaf === undefined ? decodeHash(file.leafHash) : leafBytes && merkleLeafHash(leafBytes);
  if (leafHash === undefined) return { ok: false, detail: 'leaf is not canonical base64' };
  const path = file.inclusionPath.map(decodeHash);
  if (path.some((hash) => hash === undefined)) {
    return { ok: false, detail: 'inclusion path is not canonical base64' };
  }
  const verdict: ProofVerdict = verifyInclusion({
    leafHash,
    leafIndex: file.leafIndex,
    treeSize: file.treeSize,
    path: path as Buffer[],
    root: opened.checkpoint.rootHash,
  });
  return verdict.ok
    ? { ok: true, checkpoint: opened.checkpoint }
    : { ok: false, detail: `${verdict.reason}: ${verdict.detail}` };
}
