import {
  checkOrderBatch,
  grantIdOfAuditKey,
  openCheckpoint,
  proveGrant,
  type Checkpoint,
  type CheckpointNoteRef,
  type GrantEventProof,
  type GrantLeaf,
  type LeafHashSource,
  auditLeafHash,
} from '@grantstream/audit';
import type { AuditSources } from './log-sources';
import { parseVerifiers, type LogCheckOptions } from './verify-audit';

/** The checkpoint a proof is made against: the note, where it was read and the key that signed it. */
export interface ChosenCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: string;
  readonly ref: string;
  /** The configured verifier key string the note verifies with. */
  readonly verifierKey: string;
}

/** Outcome of {@link proveFromLog}. */
export type ProveOutcome =
  | {
      readonly ok: true;
      readonly chosen: ChosenCheckpoint;
      readonly proofs: readonly GrantEventProof[];
      /** The grant's leaves logged after the checkpoint: not provable against it yet. */
      readonly notCovered: readonly GrantLeaf[];
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Leaf hashes in one growing buffer, 32 bytes a leaf: what building a proof
 * needs (random access over the whole tree), without an object per leaf.
 */
class LeafHashStore implements LeafHashSource {
  private buffer = Buffer.alloc(0);
  size = 0;

  push(hash: Uint8Array): void {
    const need = (this.size + 1) * hash.length;
    if (need > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(need, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.size * hash.length);
      this.buffer = grown;
    }
    this.buffer.set(hash, this.size * hash.length);
    this.size += 1;
  }

  hashAt(index: number): Uint8Array {
    return this.buffer.subarray(index * 32, index * 32 + 32);
  }
}

/**
 * Picks the checkpoint to prove against: the largest verified one, or the one
 * of `treeSize`. Checkpoints from the topic and the witness store both count;
 * two different roots for the chosen size is a fork, and nothing is proved
 * against a forked size.
 */
export function chooseCheckpoint(
  notes: readonly CheckpointNoteRef[],
  options: LogCheckOptions,
  treeSize: number | undefined,
): ChosenCheckpoint | { reason: string } {
  const parsed = parseVerifiers(options.verifierKeys);
  if (!parsed.ok) return { reason: parsed.detail };
  if (parsed.verifiers.length === 0) {
    return {
      reason: 'no trusted verifier key configured (audit.log.verifierKeys or --verifier-key)',
    };
  }
  const limits = {
    origin: options.origin,
    maxNoteBytes: options.maxNoteBytes,
    maxSignatures: options.maxSignatures,
  };
  const verified: ChosenCheckpoint[] = [];
  for (const note of notes) {
    options.verifierKeys.forEach((key, i) => {
      const verifier = parsed.verifiers[i];
      if (verifier === undefined) return;
      const opened = openCheckpoint(note.note, [verifier], limits);
      if (opened.ok && !verified.some((v) => v.note === note.note)) {
        verified.push({
          checkpoint: opened.checkpoint,
          note: note.note,
          ref: note.ref,
          verifierKey: key,
        });
      }
    });
  }
  if (verified.length === 0) return { reason: 'no checkpoint verifies with the trusted keys' };
  const size = treeSize ?? Math.max(...verified.map((v) => v.checkpoint.size));
  const atSize = verified.filter((v) => v.checkpoint.size === size);
  const first = atSize[0];
  if (first === undefined) return { reason: `no verified checkpoint of tree size ${size}` };
  const roots = new Set(atSize.map((v) => Buffer.from(v.checkpoint.rootHash).toString('hex')));
  if (roots.size > 1) {
    return {
      reason: `${roots.size} different signed roots for tree size ${size}: a forked log; run audit verify`,
    };
  }
  return first;
}

/**
 * `grantctl audit prove`: inclusion proofs of one grant's events against a
 * signed checkpoint, each checked by the library verifier before it is
 * returned (see proveGrant). Streams the order batches once, keeping 32 bytes
 * per leaf up to the checkpoint's size and the grant's own leaves.
 */
export async function proveFromLog(
  sources: AuditSources,
  grantId: string,
  options: LogCheckOptions,
  treeSize?: number,
): Promise<ProveOutcome> {
  const topic = await sources.checkpointNotes();
  const witness = await sources.witnessNotes();
  const chosen = chooseCheckpoint([...topic.notes, ...witness.notes], options, treeSize);
  if (!('checkpoint' in chosen)) return { ok: false, reason: chosen.reason };
  const size = chosen.checkpoint.size;
  const hashes = new LeafHashStore();
  const grantLeaves: GrantLeaf[] = [];
  let next = 0;
  for await (const read of sources.orderBatches()) {
    if (!read.ok) return { ok: false, reason: `order record ${read.ref} refused: ${read.detail}` };
    const problem = checkOrderBatch(read.batch, next, { maxBatchEntries: options.maxBatchEntries });
    if (problem !== undefined) {
      return { ok: false, reason: `order batches: ${problem.kind}: ${problem.message}` };
    }
    read.batch.entries.forEach((entry, i) => {
      const index = read.batch.firstIndex + i;
      if (index < size) hashes.push(auditLeafHash(entry));
      if (grantIdOfAuditKey(entry.key) === grantId) {
        const { key, eventHash, stableHash } = entry;
        grantLeaves.push({ index, fields: { key, eventHash, stableHash } });
      }
    });
    next += read.batch.entries.length;
  }
  const result = proveGrant({
    leaves: hashes,
    grantLeaves,
    checkpoint: chosen.note,
    verifierKey: chosen.verifierKey,
    limits: {
      origin: options.origin,
      maxNoteBytes: options.maxNoteBytes,
      maxSignatures: options.maxSignatures,
    },
  });
  if (!result.ok) return { ok: false, reason: `${result.reason}: ${result.detail}` };
  return { ok: true, chosen, proofs: result.proofs, notCovered: result.notCovered };
}
