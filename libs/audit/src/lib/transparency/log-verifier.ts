import { timingSafeEqual } from 'node:crypto';
import { openCheckpoint, type CheckpointExpectations, type CheckpointRefusal } from './checkpoint';
import { auditLeafHash, grantIdOfAuditKey } from './leaf';
import {
  checkOrderBatch,
  type LogOrderBatch,
  type LogOrderEntry,
  type OrderLimits,
} from './leaf-order';
import { MerkleLog } from './merkle';
import { statedNoteSigners, type NoteVerifier } from './signed-note';

/** One record that survives on the audit topic under a key (values only; tombstones are the chain verifier's). */
export interface TopicRecordRef {
  readonly eventHash: string;
  /** {@link stableContentHashOf} the record's event. */
  readonly stableHash: string;
  readonly partition: number;
  /** Kafka offset as a decimal string. */
  readonly offset: string;
}

/** What the audit topic holds now, by record key: the caller builds it from a read_committed replay. */
export type TopicLookup = ReadonlyMap<string, readonly TopicRecordRef[]>;

/** A signed checkpoint note and where it was read, for the report. */
export interface CheckpointNoteRef {
  readonly note: string;
  /** Where it came from, e.g. `grants.audit.checkpoints.v1/0/17` or a witness object name. */
  readonly ref: string;
}

/**
 * Tampering and breakage the log verifier names:
 * - `CHECKPOINT_REFUSED`: a checkpoint whose signature or shape is refused, e.g.
 *   signed by a key that is not trusted (the report names that key).
 * - `CHECKPOINT_FORK`: a checkpoint inconsistent with another one: two roots for
 *   one tree size, or a root that the leaves reproducing a later checkpoint do
 *   not reproduce (no consistency proof between the two can exist).
 * - `ROOT_MISMATCH`: the leaves rebuilt from the order batches do not reproduce
 *   a checkpoint and no later checkpoint settles which side was changed (the
 *   order topic was altered, or the checkpoint signs another history).
 * - `ORDER_TRUNCATED`: a checkpoint covers more leaves than the order batches hold.
 * - `ORDER_INVALID`: the order batches are not contiguous or are malformed;
 *   leaves after the problem cannot be placed.
 * - `CHECKPOINT_TRUNCATED`: a witness checkpoint that the checkpoint topic does not hold.
 * - `MISSING`: a checkpointed leaf whose key is gone from the audit topic (the
 *   event was deleted; includes the last event of a trail and whole trails).
 * - `REWRITTEN`: a checkpointed leaf whose key is present, but no surviving
 *   record has its event hash and none has its stable content hash.
 * - `NOT_LOGGED`: a record the checkpointer read past (its offset is at or
 *   below a checkpointed leaf of its partition) that no checkpointed leaf holds.
 */
export type LogFindingKind =
  | 'CHECKPOINT_REFUSED'
  | 'CHECKPOINT_FORK'
  | 'ROOT_MISMATCH'
  | 'ORDER_TRUNCATED'
  | 'ORDER_INVALID'
  | 'CHECKPOINT_TRUNCATED'
  | 'MISSING'
  | 'REWRITTEN'
  | 'NOT_LOGGED';

/**
 * What is reported but is not tampering:
 * - `SUPERSEDED`: a leaf whose record was replaced by the same decision made
 *   again (same key and stable content hash, another event hash), after
 *   compaction removed the first copy.
 * - `UNCHECKPOINTED`: a record on the topic that no checkpoint covers yet.
 */
export type LogNoticeKind = 'SUPERSEDED' | 'UNCHECKPOINTED';

/** One finding or notice, naming the grant, leaf and position where it can. */
export interface LogFinding {
  readonly kind: LogFindingKind | LogNoticeKind;
  readonly grantId?: string;
  readonly leafIndex?: number;
  readonly key?: string;
  readonly partition?: number;
  readonly offset?: string;
  /** Tree size of the checkpoint a checkpoint-level finding is about. */
  readonly checkpointSize?: number;
  /** Where that checkpoint was read ({@link CheckpointNoteRef.ref}). */
  readonly checkpointRef?: string;
  readonly message: string;
}

/** Result of {@link LogVerifier.finish}; a named type so tools render it and tests import it. */
export interface LogVerificationReport {
  /** Leaves the order batches placed. */
  readonly leaves: number;
  /** Leaves covered by the largest verified checkpoint, the ones compared with the topic. */
  readonly checkpointedLeaves: number;
  /** Checkpoints (topic and witness) whose signature verified, and those refused. */
  readonly checkpoints: { readonly verified: number; readonly refused: number };
  /** Verified checkpoints whose root the rebuilt leaves reproduce. */
  readonly rootsReproduced: number;
  /** Distinct grants among the checkpointed leaves. */
  readonly grants: number;
  /** Sorted grant ids named by a finding. */
  readonly grantsWithFindings: readonly string[];
  /** Tampering, in the order found: checkpoints first, then leaves by index, then records. */
  readonly findings: readonly LogFinding[];
  /** SUPERSEDED and UNCHECKPOINTED, which are not tampering. */
  readonly notices: readonly LogFinding[];
  readonly ok: boolean;
}

/** A leaf inside the largest verified checkpoint, as handed to {@link LogVerifierOptions.onCheckpointedLeaf}. */
export interface CheckpointedLeaf {
  readonly index: number;
  readonly entry: LogOrderEntry;
}

/** Configuration of a verification run. */
export interface LogVerifierOptions {
  /** Trusted log keys: the current one and every retired one that signed checkpoints still kept. */
  readonly verifiers: readonly NoteVerifier[];
  /** Note limits and the log's origin. */
  readonly checkpointLimits: CheckpointExpectations;
  readonly orderLimits: OrderLimits;
  /** The audit topic now; give it, or {@link onCheckpointedLeaf}. */
  readonly topic?: TopicLookup;
  /**
   * Instead of `topic`: receives every checkpointed leaf, and the leaves are
   * not compared here. For a caller that judges them against the topic itself,
   * a slice of grants at a time ({@link judgeKeyLeaves} with
   * {@link LogVerifier.highWaterMarks}), so that neither the whole topic nor
   * every leaf has to be in memory. The report then has no leaf findings,
   * notices or grant count: they are the caller's.
   */
  readonly onCheckpointedLeaf?: (leaf: CheckpointedLeaf) => void;
  /** Every note on the checkpoint topic, in topic order. */
  readonly topicCheckpoints: readonly CheckpointNoteRef[];
  /** Every note in the witness store. */
  readonly witnessCheckpoints: readonly CheckpointNoteRef[];
}

/** A verified checkpoint: its size, root and every place it was read. */
interface Anchor {
  readonly size: number;
  readonly root: Buffer;
  readonly refs: string[];
  inTopic: boolean;
  reproduced: boolean;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const sameHash = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

/**
 * Verifies the Merkle log over the audit topic: the signed checkpoints (topic
 * and witness store), that the leaves rebuilt from the order batches reproduce
 * them, and that every checkpointed leaf still stands on the topic.
 *
 * Streaming: give the order batches one by one in index order with
 * {@link addBatch}. The verifier keeps the log's compact range (O(log n)
 * hashes), the checkpoints, one bit per surviving topic record it matched and a
 * set of grant ids; the topic lookup is the caller's. No leaf is kept.
 *
 * Consistency between checkpoints is checked by replay rather than by RFC 9162
 * consistency proofs: the compact range at size m folds to the root of the
 * m-leaf tree, and extending it with the logged leaves m..n yields the root of
 * the n-leaf tree. Both roots reproduced is exactly what a consistency proof
 * establishes for a party that lacks the leaves; a checkpoint whose root is not
 * reproduced while a later one is cannot have a valid consistency proof to it
 * (it would need a SHA-256 collision), which is a fork.
 */
export class LogVerifier {
  private readonly log = new MerkleLog();
  private readonly anchors = new Map<number, Anchor[]>();
  private readonly checkpointFindings: LogFinding[] = [];
  private readonly leafFindings: LogFinding[] = [];
  private readonly notices: LogFinding[] = [];
  private readonly matched = new Set<TopicRecordRef>();
  private readonly grants = new Set<string>();
  /** Highest offset per partition among checkpointed leaves, as BigInt. */
  private readonly highWater = new Map<number, bigint>();
  private readonly coveredSize: number;
  private verified = 0;
  private refused = 0;
  private orderBroken = false;
  private finished: LogVerificationReport | undefined;

  constructor(private readonly options: LogVerifierOptions) {
    for (const note of options.topicCheckpoints) this.admit(note, true);
    for (const note of options.witnessCheckpoints) this.admit(note, false);
    let covered = 0;
    for (const size of this.anchors.keys()) covered = Math.max(covered, size);
    this.coveredSize = covered;
    this.checkSameSizeForks();
    this.checkWitnessesInTopic();
    this.reachAnchors();
  }

  /** Appends one order batch: its leaves are hashed, compared with the topic and folded into the roots. */
  addBatch(batch: LogOrderBatch): void {
    if (this.orderBroken || this.finished !== undefined) return;
    const problem = checkOrderBatch(batch, this.log.size, this.options.orderLimits);
    if (problem !== undefined) {
      this.orderBroken = true;
      this.checkpointFindings.push({
        kind: 'ORDER_INVALID',
        leafIndex: problem.leafIndex ?? problem.batchFirstIndex,
        message: `order batches: ${problem.kind}: ${problem.message}; leaves from here on cannot be placed`,
      });
      return;
    }
    const sink = this.options.onCheckpointedLeaf;
    for (const entry of batch.entries) {
      const index = this.log.appendLeafHash(auditLeafHash(entry));
      if (index < this.coveredSize) {
        this.raiseHighWater(entry);
        if (sink !== undefined) sink({ index, entry });
        else this.compareLeaf(index, entry);
      }
      this.reachAnchors();
    }
  }

  /**
   * An order record that could not be read as a batch at all (not a batch,
   * another log's, too large): the order breaks there, as for a batch that
   * does not fit, and leaves after it cannot be placed.
   */
  refuseOrderRecord(ref: string, detail: string): void {
    if (this.orderBroken || this.finished !== undefined) return;
    this.orderBroken = true;
    this.checkpointFindings.push({
      kind: 'ORDER_INVALID',
      leafIndex: this.log.size,
      message: `order record ${ref} refused: ${detail}; leaves from ${this.log.size} on cannot be placed`,
    });
  }

  /**
   * Highest offset per partition among the checkpointed leaves appended so
   * far: complete once every batch was added, which is when a caller that
   * judges leaves itself needs it (records at or below it that no leaf holds
   * are NOT_LOGGED).
   */
  highWaterMarks(): ReadonlyMap<number, bigint> {
    return this.highWater;
  }

  private raiseHighWater(entry: LogOrderEntry): void {
    const previous = this.highWater.get(entry.partition);
    const offset = BigInt(entry.offset);
    if (previous === undefined || offset > previous) this.highWater.set(entry.partition, offset);
  }

  /** Checks what only the whole log can tell and returns the report; later calls return the same report. */
  finish(): LogVerificationReport {
    if (this.finished !== undefined) return this.finished;
    this.judgeAnchors();
    this.judgeUnmatchedRecords();
    const findings = [...this.checkpointFindings, ...this.leafFindings];
    const named = new Set<string>();
    for (const finding of findings) if (finding.grantId !== undefined) named.add(finding.grantId);
    let reproduced = 0;
    for (const list of this.anchors.values()) reproduced += list.filter((a) => a.reproduced).length;
    this.finished = {
      leaves: this.log.size,
      checkpointedLeaves: Math.min(this.coveredSize, this.log.size),
      checkpoints: { verified: this.verified, refused: this.refused },
      rootsReproduced: reproduced,
      grants: this.grants.size,
      grantsWithFindings: [...named].sort(),
      findings,
      notices: this.notices,
      ok: findings.length === 0,
    };
    return this.finished;
  }

  private admit(note: CheckpointNoteRef, inTopic: boolean): void {
    const { verifiers, checkpointLimits } = this.options;
    const opened = openCheckpoint(note.note, verifiers, checkpointLimits);
    if (!opened.ok) {
      this.refused += 1;
      this.checkpointFindings.push({
        kind: 'CHECKPOINT_REFUSED',
        checkpointRef: note.ref,
        message: `${inTopic ? 'checkpoint' : 'witness checkpoint'} ${note.ref} refused: ${refusalText(opened.reason, opened.detail, note.note, checkpointLimits)}`,
      });
      return;
    }
    this.verified += 1;
    const { size, rootHash } = opened.checkpoint;
    const list = this.anchors.get(size) ?? [];
    const same = list.find((anchor) => sameHash(anchor.root, rootHash));
    if (same !== undefined) {
      same.refs.push(note.ref);
      same.inTopic ||= inTopic;
    } else {
      list.push({
        size,
        root: Buffer.from(rootHash),
        refs: [note.ref],
        inTopic,
        reproduced: false,
      });
    }
    this.anchors.set(size, list);
  }

  private checkSameSizeForks(): void {
    for (const [size, list] of this.anchors) {
      if (list.length < 2) continue;
      this.checkpointFindings.push({
        kind: 'CHECKPOINT_FORK',
        checkpointSize: size,
        checkpointRef: list.map((a) => a.refs.join(', ')).join(' / '),
        message: `${list.length} signed checkpoints of tree size ${size} with different roots (${list.map((a) => `${hex(a.root)} in ${a.refs.join(', ')}`).join('; ')}): the log signed two histories`,
      });
    }
  }

  private checkWitnessesInTopic(): void {
    for (const [size, list] of this.anchors) {
      for (const anchor of list) {
        if (anchor.inTopic) continue;
        this.checkpointFindings.push({
          kind: 'CHECKPOINT_TRUNCATED',
          checkpointSize: size,
          checkpointRef: anchor.refs.join(', '),
          message: `witness checkpoint of tree size ${size} (${anchor.refs.join(', ')}) is not on the checkpoint topic: checkpoints were removed from it`,
        });
      }
    }
  }

  /** Compares the current root with every checkpoint of the current size. */
  private reachAnchors(): void {
    const list = this.anchors.get(this.log.size);
    if (list === undefined) return;
    const root = this.log.root();
    for (const anchor of list) anchor.reproduced = sameHash(anchor.root, root);
  }

  private compareLeaf(index: number, entry: LogOrderEntry): void {
    this.grants.add(grantIdOfAuditKey(entry.key));
    const records = this.options.topic?.get(entry.key) ?? [];
    const judged = judgeLeaf({ index, entry }, records, this.matched);
    if (judged?.kind === 'SUPERSEDED') this.notices.push(judged);
    else if (judged !== undefined) this.leafFindings.push(judged);
  }

  private judgeAnchors(): void {
    const sizes = [...this.anchors.keys()].sort((a, b) => a - b);
    let laterReproduced: number | undefined;
    // Walk from the largest size down, so each checkpoint knows the nearest
    // later one that the leaves reproduce.
    for (let i = sizes.length - 1; i >= 0; i -= 1) {
      const size = sizes[i] as number;
      const list = this.anchors.get(size) ?? [];
      // Two roots for one size were named already; each is judged only for truncation.
      const forkedHere = list.length > 1;
      for (const anchor of list) {
        if (anchor.reproduced || (forkedHere && size <= this.log.size)) continue;
        const ref = anchor.refs.join(', ');
        if (size > this.log.size) {
          this.checkpointFindings.push({
            kind: this.orderBroken ? 'ROOT_MISMATCH' : 'ORDER_TRUNCATED',
            checkpointSize: size,
            checkpointRef: ref,
            message: this.orderBroken
              ? `checkpoint of tree size ${size} (${ref}) cannot be reproduced: the order batches break at leaf ${this.log.size}`
              : `checkpoint of tree size ${size} (${ref}) covers more leaves than the ${this.log.size} the order batches hold: the order topic was truncated`,
          });
        } else if (laterReproduced !== undefined) {
          const earlier = sizes
            .slice(0, i)
            .filter((s) => (this.anchors.get(s) ?? []).some((a) => a.reproduced))
            .pop();
          const predecessor =
            earlier === undefined ? '' : ` and with its predecessor of tree size ${earlier}`;
          this.checkpointFindings.push({
            kind: 'CHECKPOINT_FORK',
            checkpointSize: size,
            checkpointRef: ref,
            message: `checkpoint of tree size ${size} (${ref}) has root ${hex(anchor.root)}, inconsistent with the checkpoint of tree size ${laterReproduced} that the logged leaves reproduce${predecessor}: a forked history`,
          });
        } else {
          this.checkpointFindings.push({
            kind: 'ROOT_MISMATCH',
            checkpointSize: size,
            checkpointRef: ref,
            message: `the leaves rebuilt from the order batches do not reproduce the root of the checkpoint of tree size ${size} (${ref}): the order topic was altered or the checkpoint signs another history`,
          });
        }
      }
      if (list.some((anchor) => anchor.reproduced)) laterReproduced = size;
    }
  }

  private judgeUnmatchedRecords(): void {
    const topic = this.options.topic;
    if (topic === undefined) return;
    for (const [key, records] of topic) {
      for (const record of records) {
        if (this.matched.has(record)) continue;
        const judged = judgeUnmatchedRecord(key, record, this.highWater);
        if (judged.kind === 'NOT_LOGGED') this.leafFindings.push(judged);
        else this.notices.push(judged);
      }
    }
  }
}

/**
 * Judges one checkpointed leaf against the records its key holds now,
 * adding the records it matches to `matched`: undefined when its event is
 * there, SUPERSEDED (a notice) when the same decision was made again,
 * MISSING or REWRITTEN otherwise.
 */
function judgeLeaf(
  leaf: CheckpointedLeaf,
  records: readonly TopicRecordRef[],
  matched: Set<TopicRecordRef>,
): LogFinding | undefined {
  const { index, entry } = leaf;
  const where = { grantId: grantIdOfAuditKey(entry.key), leafIndex: index, key: entry.key };
  if (records.length === 0) {
    return {
      ...where,
      partition: entry.partition,
      offset: entry.offset,
      kind: 'MISSING',
      message: `leaf ${index}: event ${entry.eventHash} (logged from ${entry.partition}/${entry.offset}) is gone from the topic: key ${entry.key} was deleted`,
    };
  }
  let exact = false;
  for (const record of records) {
    if (record.eventHash !== entry.eventHash) continue;
    exact = true;
    matched.add(record);
  }
  if (exact) return undefined;
  const remade = records.find((record) => record.stableHash === entry.stableHash);
  if (remade !== undefined) {
    return {
      ...where,
      partition: remade.partition,
      offset: remade.offset,
      kind: 'SUPERSEDED',
      message: `leaf ${index}: event ${entry.eventHash} was replaced by ${remade.eventHash}, the same decision made again`,
    };
  }
  const survivor = records[records.length - 1] as TopicRecordRef;
  return {
    ...where,
    partition: survivor.partition,
    offset: survivor.offset,
    kind: 'REWRITTEN',
    message: `leaf ${index}: event ${entry.eventHash} is gone and key ${entry.key} now holds ${survivor.eventHash} at ${survivor.partition}/${survivor.offset}, whose content differs in more than the time of the decision`,
  };
}

/** A record no checkpointed leaf holds: NOT_LOGGED when the checkpointer read past it, else UNCHECKPOINTED. */
function judgeUnmatchedRecord(
  key: string,
  record: TopicRecordRef,
  highWater: ReadonlyMap<number, bigint>,
): LogFinding {
  const mark = highWater.get(record.partition);
  const where = {
    grantId: grantIdOfAuditKey(key),
    key,
    partition: record.partition,
    offset: record.offset,
  };
  // An offset the client could not have given (not decimal) cannot be
  // placed, so it is reported as not yet covered rather than thrown on.
  const behind = mark !== undefined && DECIMAL.test(record.offset) && BigInt(record.offset) <= mark;
  return behind
    ? {
        ...where,
        kind: 'NOT_LOGGED',
        message: `record ${record.partition}/${record.offset} (event ${record.eventHash}) lies before checkpointed leaves of its partition but no checkpointed leaf holds it: it was placed on the topic past the checkpointer`,
      }
    : {
        ...where,
        kind: 'UNCHECKPOINTED',
        message: `record ${record.partition}/${record.offset} (event ${record.eventHash}) is not covered by a checkpoint yet`,
      };
}

/** What {@link judgeKeyLeaves} found for one key. */
export interface KeyJudgement {
  /** MISSING, REWRITTEN and NOT_LOGGED, leaves first in index order. */
  readonly findings: readonly LogFinding[];
  /** SUPERSEDED and UNCHECKPOINTED. */
  readonly notices: readonly LogFinding[];
}

/**
 * Judges one key exactly as {@link LogVerifier} does with a topic lookup: its
 * checkpointed leaves against the records the key holds now, then the records
 * no leaf matched against the high-water marks
 * ({@link LogVerifier.highWaterMarks}, complete only after every batch).
 * Keys are independent, so a caller can judge them a slice at a time.
 */
export function judgeKeyLeaves(
  key: string,
  leaves: readonly CheckpointedLeaf[],
  records: readonly TopicRecordRef[],
  highWater: ReadonlyMap<number, bigint>,
): KeyJudgement {
  const findings: LogFinding[] = [];
  const notices: LogFinding[] = [];
  const matched = new Set<TopicRecordRef>();
  for (const leaf of [...leaves].sort((a, b) => a.index - b.index)) {
    const judged = judgeLeaf(leaf, records, matched);
    if (judged?.kind === 'SUPERSEDED') notices.push(judged);
    else if (judged !== undefined) findings.push(judged);
  }
  for (const record of records) {
    if (matched.has(record)) continue;
    const judged = judgeUnmatchedRecord(key, record, highWater);
    if (judged.kind === 'NOT_LOGGED') findings.push(judged);
    else notices.push(judged);
  }
  return { findings, notices };
}

function refusalText(
  reason: CheckpointRefusal,
  detail: string,
  note: string,
  limits: CheckpointExpectations,
): string {
  if (reason !== 'NO_TRUSTED_SIGNATURE') return `${reason}: ${detail}`;
  const signers = statedNoteSigners(note, limits).map((s) => `${s.name}+${s.keyId}`);
  return `${reason}: signed only by ${signers.length === 0 ? 'nobody' : signers.join(', ')}, which is not a trusted key`;
}

/** Runs a {@link LogVerifier} over batches given as any iterable (an array, a generator reading a file). */
export function verifyLog(
  options: LogVerifierOptions,
  batches: Iterable<LogOrderBatch>,
): LogVerificationReport {
  const verifier = new LogVerifier(options);
  for (const batch of batches) verifier.addBatch(batch);
  return verifier.finish();
}
