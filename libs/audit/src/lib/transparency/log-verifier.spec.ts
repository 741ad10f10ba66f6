import type { AuditEventV1 } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import { auditKeyOf, buildAuditEvent, computeEventHash } from '../audit-event';
import { AUDIT_GENESIS_HASH, payloadHashOf } from '../hashing';
import { signCheckpoint } from './checkpoint';
import { auditLeafFieldsOf, auditLeafHash, stableContentHashOf } from './leaf';
import { checkpointDue, type LogOrderBatch, type LogOrderEntry } from './leaf-order';
import {
  LogVerifier,
  judgeKeyLeaves,
  verifyLog,
  type CheckpointedLeaf,
  type CheckpointNoteRef,
  type LogFinding,
  type LogVerificationReport,
  type LogVerifierOptions,
  type TopicLookup,
  type TopicRecordRef,
} from './log-verifier';
import { MerkleLog, merkleTreeHash } from './merkle';
import { generateNoteKey, parseVerifierKey, type NoteSigner } from './signed-note';

const ORIGIN = 'grantstream.example/audit';
const LIMITS = { maxNoteBytes: 4096, maxSignatures: 16, origin: ORIGIN };
const ORDER_LIMITS = { maxBatchEntries: 8 };
const PARTITIONS = 3;
const logKey = generateNoteKey(ORIGIN);
const verifierOf = (verifierKey: string) => {
  const parsed = parseVerifierKey(verifierKey);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.verifier;
};
const logVerifier = verifierOf(logKey.verifierKey);

const STAGES = [
  { stage: 'ingest', action: 'INGESTED' },
  { stage: 'normalization', action: 'NORMALIZED' },
  { stage: 'routing', action: 'FORWARD' },
  { stage: 'submission', action: 'SUBMITTED' },
  { stage: 'status', action: 'STATUS_CHANGED' },
] as const;

/** A correctly chained five-event trail of one grant. */
function trail(grantId: string, from = AUDIT_GENESIS_HASH, occurredAt = 1_700_000_000_000) {
  let previous = from;
  return STAGES.map((step, index) => {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: 'nsf',
        auditTrailId: `trail-${grantId}`,
        ...step,
        payloadHash: payloadHashOf(Buffer.from(`${grantId}-${index}`)),
        service: { name: step.stage, version: '1.0.0' },
        occurredAt: occurredAt + index * 1000,
        source: { topic: `in.${step.stage}`, partition: 0, offset: index },
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

/** Re-hashes an edited event and re-chains the ones after it, as a forger with the code would. */
function rechained(events: AuditEventV1[], from: number, edit: Partial<AuditEventV1>) {
  const out: AuditEventV1[] = [];
  let previous = from === 0 ? AUDIT_GENESIS_HASH : (events[from - 1] as AuditEventV1).event_hash;
  events.slice(from).forEach((event, i) => {
    const changed = { ...event, ...(i === 0 ? edit : {}), previous_event_hash: previous };
    const hashed = { ...changed, event_hash: computeEventHash(changed) };
    previous = hashed.event_hash;
    out.push(hashed);
  });
  return out;
}

interface TopicRecord {
  readonly key: string;
  readonly event: AuditEventV1;
  readonly partition: number;
  readonly offset: string;
}

/**
 * The audit topic: records appended per partition (a key always lands on the
 * same partition, as Kafka's default partitioner does).
 */
class Topic {
  readonly records: TopicRecord[] = [];
  private readonly next = new Array<number>(PARTITIONS).fill(0);

  produce(events: AuditEventV1[]): void {
    for (const event of events) {
      const key = auditKeyOf(event);
      const partition = (key.charCodeAt(key.length - 1) + key.length) % PARTITIONS;
      const offset = this.next[partition] ?? 0;
      this.next[partition] = offset + 1;
      this.records.push({ key, event, partition, offset: String(offset) });
    }
  }

  /** Log compaction: only the latest record of each key survives. */
  compact(): void {
    const latest = new Map<string, TopicRecord>();
    for (const record of this.records) latest.set(record.key, record);
    const kept = new Set(latest.values());
    this.records.splice(0, this.records.length, ...this.records.filter((r) => kept.has(r)));
  }

  /** Deletes keys the way a tombstone plus compaction (or an admin's rewrite) would. */
  remove(predicate: (record: TopicRecord) => boolean): void {
    this.records.splice(0, this.records.length, ...this.records.filter((r) => !predicate(r)));
  }

  lookup(): TopicLookup {
    const map = new Map<string, TopicRecordRef[]>();
    for (const { key, event, partition, offset } of this.records) {
      const refs = map.get(key) ?? [];
      refs.push({
        eventHash: event.event_hash,
        stableHash: stableContentHashOf(event),
        partition,
        offset,
      });
      map.set(key, refs);
    }
    return map;
  }
}

/**
 * The checkpointer's job, without Kafka: read the records it has not read yet,
 * partitions interleaved in an order of its own (here: a seeded shuffle, so
 * the order is recorded, never derivable), append leaves, write order batches
 * and cut checkpoints by the policy, publishing each to the topic and the
 * witness store.
 */
class Checkpointer {
  readonly batches: LogOrderBatch[] = [];
  readonly topicCheckpoints: CheckpointNoteRef[] = [];
  readonly witness: CheckpointNoteRef[] = [];
  readonly log = new MerkleLog();
  private readonly read = new Set<TopicRecord>();
  private checkpointedSize = 0;
  private lastCut = 0;
  private now = 0;
  private seed = 7;

  constructor(
    private readonly signer: NoteSigner = logKey.signer,
    private readonly policy = { everyLeaves: 7, everyMs: 60_000 },
  ) {}

  private random(): number {
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return this.seed / 2_147_483_648;
  }

  follow(topic: Topic): void {
    const queues = Array.from({ length: PARTITIONS }, (_, p) =>
      topic.records.filter((r) => r.partition === p && !this.read.has(r)),
    );
    let pending: LogOrderEntry[] = [];
    for (;;) {
      const open = queues.filter((q) => q.length > 0);
      if (open.length === 0) break;
      const record = (open[Math.floor(this.random() * open.length)] as TopicRecord[]).shift();
      if (record === undefined) break;
      this.read.add(record);
      const entry = {
        ...auditLeafFieldsOf(record.key, record.event),
        partition: record.partition,
        offset: record.offset,
      };
      pending.push(entry);
      this.log.appendLeafHash(auditLeafHash(entry));
      this.now += 1000;
      const due = checkpointDue(
        {
          treeSize: this.log.size,
          checkpointedSize: this.checkpointedSize,
          lastCheckpointAtMs: this.lastCut,
          nowMs: this.now,
        },
        this.policy,
      );
      if (pending.length === ORDER_LIMITS.maxBatchEntries || due.cut) pending = this.flush(pending);
      if (due.cut) this.cut();
    }
    this.flush(pending);
  }

  /** Cuts a checkpoint of everything appended, whatever the policy says (the end of a test run). */
  cut(): void {
    const note = signCheckpoint(
      { origin: ORIGIN, size: this.log.size, rootHash: this.log.root(), time: new Date(this.now) },
      this.signer,
    );
    const ref = `checkpoints/0/${this.topicCheckpoints.length}`;
    this.topicCheckpoints.push({ note, ref });
    this.witness.push({ note, ref: `witness/${this.log.size}` });
    this.checkpointedSize = this.log.size;
    this.lastCut = this.now;
  }

  private flush(pending: LogOrderEntry[]): LogOrderEntry[] {
    if (pending.length > 0) {
      const firstIndex = this.batches.reduce((n, b) => n + b.entries.length, 0);
      this.batches.push({ firstIndex, entries: pending });
    }
    return [];
  }
}

const GRANTS = ['G-1', 'G-2', 'G-3', 'G-4', 'G-5', 'G-6'];
const trails = new Map(GRANTS.map((g) => [g, trail(g)]));
const eventsOf = (grantId: string): AuditEventV1[] => trails.get(grantId) ?? [];

/** Six grants' trails, an identical redelivery and a re-made decision, all checkpointed. */
function pipeline(): { topic: Topic; checkpointer: Checkpointer } {
  const topic = new Topic();
  for (const grantId of GRANTS) topic.produce(eventsOf(grantId));
  // An identical redelivery of G-5's routing decision, and G-6's last two
  // decisions made again after their input was read again: same decisions,
  // other times, the successor pointing to the new copy.
  topic.produce([eventsOf('G-5')[2] as AuditEventV1]);
  const g6 = eventsOf('G-6');
  const remadeRouting = rechained(g6, 3, { occurred_at: 1_800_000_000_000 });
  topic.produce(remadeRouting);
  const checkpointer = new Checkpointer();
  checkpointer.follow(topic);
  checkpointer.cut();
  return { topic, checkpointer };
}

function optionsFor(
  topic: Topic,
  checkpointer: Checkpointer,
  over: Partial<LogVerifierOptions> = {},
): LogVerifierOptions {
  return {
    verifiers: [logVerifier],
    checkpointLimits: LIMITS,
    orderLimits: ORDER_LIMITS,
    topic: topic.lookup(),
    topicCheckpoints: checkpointer.topicCheckpoints,
    witnessCheckpoints: checkpointer.witness,
    ...over,
  };
}

function verify(topic: Topic, checkpointer: Checkpointer, over: Partial<LogVerifierOptions> = {}) {
  return verifyLog(optionsFor(topic, checkpointer, over), checkpointer.batches);
}

const kinds = (findings: readonly LogFinding[]): string[] => findings.map((f) => f.kind);
const leafOf = (checkpointer: Checkpointer, event: AuditEventV1): number => {
  let index = -1;
  for (const batch of checkpointer.batches) {
    batch.entries.forEach((entry, i) => {
      if (entry.eventHash === event.event_hash && index < 0) index = batch.firstIndex + i;
    });
  }
  return index;
};

function expectIntactExcept(report: LogVerificationReport, tampered: string[]): void {
  expect(report.grantsWithFindings).toEqual(tampered);
  expect(report.grants).toBe(GRANTS.length);
}

describe('LogVerifier on an untouched log', () => {
  it('reproduces every checkpoint root, before and after compaction', () => {
    const { topic, checkpointer } = pipeline();
    expect(checkpointer.topicCheckpoints.length).toBeGreaterThan(3);
    const before = verify(topic, checkpointer);
    expect(before.findings).toEqual([]);
    expect(before.ok).toBe(true);

    topic.compact();
    const after = verify(topic, checkpointer);
    expect(after.findings).toEqual([]);
    expect(after.rootsReproduced).toBe(checkpointer.topicCheckpoints.length);
    expect(after.checkpoints).toEqual({
      verified: checkpointer.topicCheckpoints.length * 2,
      refused: 0,
    });
    expect(after.leaves).toBe(checkpointer.log.size);
    expect(after.checkpointedLeaves).toBe(checkpointer.log.size);
    expect(after.grants).toBe(GRANTS.length);
  });

  it('takes a legit re-made decision after compaction as SUPERSEDED, not a finding', () => {
    const { topic, checkpointer } = pipeline();
    topic.compact();
    const report = verify(topic, checkpointer);
    const superseded = report.notices.filter((n) => n.kind === 'SUPERSEDED');
    expect(superseded.map((n) => n.leafIndex)).toEqual(
      [
        leafOf(checkpointer, eventsOf('G-6')[3] as AuditEventV1),
        leafOf(checkpointer, eventsOf('G-6')[4] as AuditEventV1),
      ].sort((a, b) => a - b),
    );
    expect(superseded.every((n) => n.grantId === 'G-6')).toBe(true);
    expect(report.ok).toBe(true);
  });

  it('reports records past the last checkpoint as UNCHECKPOINTED, not as tampering', () => {
    const { topic, checkpointer } = pipeline();
    topic.produce(trail('G-7'));
    checkpointer.follow(topic); // logged and in order batches, but not checkpointed
    topic.produce(trail('G-8'));
    const report = verify(topic, checkpointer);
    expect(report.ok).toBe(true);
    const unchecked = report.notices.filter((n) => n.kind === 'UNCHECKPOINTED');
    expect(new Set(unchecked.map((n) => n.grantId))).toEqual(new Set(['G-7', 'G-8']));
    expect(unchecked).toHaveLength(10);
  });

  it('reproduces every root of a larger log with redeliveries after compaction', () => {
    const topic = new Topic();
    const checkpointer = new Checkpointer(logKey.signer, { everyLeaves: 13, everyMs: 20_000 });
    let remadeLeaves = 0;
    for (let g = 0; g < 40; g += 1) {
      const events = trail(`H-${g}`);
      topic.produce(events);
      if (g % 3 === 0) topic.produce([events[g % 5] as AuditEventV1]);
      if (g % 4 === 1) {
        const from = 1 + (g % 4);
        topic.produce(rechained(events, from, { occurred_at: 1_900_000_000_000 + g }));
        // Every leaf of an original version is superseded, its identical redelivery included.
        remadeLeaves += events.length - from + (g % 3 === 0 && g % 5 >= from ? 1 : 0);
      }
      if (g % 10 === 9) checkpointer.follow(topic);
    }
    checkpointer.follow(topic);
    checkpointer.cut();
    topic.compact();
    const report = verify(topic, checkpointer);
    expect(report.findings).toEqual([]);
    expect(report.rootsReproduced).toBe(checkpointer.topicCheckpoints.length);
    expect(report.notices.filter((n) => n.kind === 'SUPERSEDED')).toHaveLength(remadeLeaves);
    expect(report.grants).toBe(40);
  });

  it('streams: batches from a generator give the same report', () => {
    const { topic, checkpointer } = pipeline();
    function* batches() {
      yield* checkpointer.batches;
    }
    const verifier = new LogVerifier(optionsFor(topic, checkpointer));
    for (const batch of batches()) verifier.addBatch(batch);
    expect(verifier.finish()).toEqual(verify(topic, checkpointer));
  });
});

describe('LogVerifier on tampered events', () => {
  it('names the last event of a trail deleted as MISSING (the chain alone cannot)', () => {
    const { topic, checkpointer } = pipeline();
    const last = eventsOf('G-2')[4] as AuditEventV1;
    topic.compact();
    topic.remove((r) => r.key === auditKeyOf(last));
    const report = verify(topic, checkpointer);
    expect(kinds(report.findings)).toEqual(['MISSING']);
    expect(report.findings[0]).toMatchObject({
      grantId: 'G-2',
      leafIndex: leafOf(checkpointer, last),
      key: auditKeyOf(last),
    });
    expectIntactExcept(report, ['G-2']);
  });

  it('names every leaf of a grant whose whole trail was removed as MISSING of that grant', () => {
    const { topic, checkpointer } = pipeline();
    topic.compact();
    topic.remove((r) => r.event.grant_id === 'G-3');
    const report = verify(topic, checkpointer);
    expect(kinds(report.findings)).toEqual(Array(5).fill('MISSING'));
    expect(report.findings.map((f) => f.grantId)).toEqual(Array(5).fill('G-3'));
    expect(report.findings.map((f) => f.leafIndex)).toEqual(
      eventsOf('G-3')
        .map((e) => leafOf(checkpointer, e))
        .sort((a, b) => a - b),
    );
    expectIntactExcept(report, ['G-3']);
  });

  it('names an event rewritten with a recomputed chain after its original was compacted', () => {
    const { topic, checkpointer } = pipeline();
    const g4 = eventsOf('G-4');
    const forged = rechained(g4, 2, { details: { route: 'elsewhere' } });
    topic.produce(forged);
    topic.compact(); // the originals are gone; only the forged chain remains
    checkpointer.follow(topic); // the checkpointer logs the forgery like any record
    checkpointer.cut();
    const report = verify(topic, checkpointer);
    expect(kinds(report.findings)).toEqual(['REWRITTEN']);
    expect(report.findings[0]).toMatchObject({
      grantId: 'G-4',
      leafIndex: leafOf(checkpointer, g4[2] as AuditEventV1),
      key: auditKeyOf(g4[2] as AuditEventV1),
    });
    // Its successors were only re-pointed, their decisions unchanged.
    const superseded = report.notices.filter((n) => n.kind === 'SUPERSEDED' && n.grantId === 'G-4');
    expect(superseded).toHaveLength(2);
    expectIntactExcept(report, ['G-4']);
  });

  it('names an event rewritten after the last checkpoint, the forgery itself not yet covered', () => {
    const { topic, checkpointer } = pipeline();
    const g1 = eventsOf('G-1');
    topic.produce(rechained(g1, 4, { details: { status: 'WITHDRAWN' } }));
    topic.compact();
    const report = verify(topic, checkpointer);
    expect(kinds(report.findings)).toEqual(['REWRITTEN']);
    expect(report.findings[0]?.leafIndex).toBe(leafOf(checkpointer, g1[4] as AuditEventV1));
    expect(report.notices.filter((n) => n.kind === 'UNCHECKPOINTED')).toMatchObject([
      { grantId: 'G-1', key: auditKeyOf(g1[4] as AuditEventV1) },
    ]);
    expectIntactExcept(report, ['G-1']);
  });

  it('does not throw on a record whose offset is not decimal', () => {
    const { topic, checkpointer } = pipeline();
    const lookup = new Map(topic.lookup());
    lookup.set('G-9:x', [
      { eventHash: 'ab'.repeat(32), stableHash: 'cd'.repeat(32), partition: 0, offset: 'n/a' },
    ]);
    const report = verify(topic, checkpointer, { topic: lookup });
    expect(report.ok).toBe(true);
    expect(report.notices.at(-1)).toMatchObject({ kind: 'UNCHECKPOINTED', key: 'G-9:x' });
  });

  it('names a record placed behind the checkpointer as NOT_LOGGED', () => {
    const { topic, checkpointer } = pipeline();
    const lookup = new Map(topic.lookup());
    const forged = trail('G-9')[0] as AuditEventV1;
    lookup.set(auditKeyOf(forged), [
      {
        eventHash: forged.event_hash,
        stableHash: stableContentHashOf(forged),
        partition: 1,
        offset: '0',
      },
    ]);
    const report = verify(topic, checkpointer, { topic: lookup });
    expect(kinds(report.findings)).toEqual(['NOT_LOGGED']);
    expect(report.findings[0]?.grantId).toBe('G-9');
  });
});

describe('LogVerifier on tampered checkpoints and order', () => {
  it('names witness checkpoints missing from a truncated checkpoint topic', () => {
    const { topic, checkpointer } = pipeline();
    const kept = checkpointer.topicCheckpoints.slice(0, 2);
    const report = verify(topic, checkpointer, { topicCheckpoints: kept });
    const truncated = report.findings.filter((f) => f.kind === 'CHECKPOINT_TRUNCATED');
    expect(truncated).toHaveLength(checkpointer.topicCheckpoints.length - 2);
    expect(truncated.map((f) => f.checkpointSize)).toContain(checkpointer.log.size);
    expect(kinds(report.findings).every((k) => k === 'CHECKPOINT_TRUNCATED')).toBe(true);
    // The witness still covers every leaf, so deletions stay visible.
    expect(report.checkpointedLeaves).toBe(checkpointer.log.size);
  });

  it('refuses a checkpoint signed with another key and names that key', () => {
    const { topic, checkpointer } = pipeline();
    const rogue = generateNoteKey(ORIGIN);
    const note = signCheckpoint(
      { origin: ORIGIN, size: checkpointer.log.size, rootHash: checkpointer.log.root() },
      rogue.signer,
    );
    const report = verify(topic, checkpointer, {
      topicCheckpoints: [...checkpointer.topicCheckpoints, { note, ref: 'checkpoints/0/99' }],
    });
    expect(kinds(report.findings)).toEqual(['CHECKPOINT_REFUSED']);
    expect(report.findings[0]?.checkpointRef).toBe('checkpoints/0/99');
    expect(report.findings[0]?.message).toContain(
      `${ORIGIN}+${rogue.signer.keyId.toString('hex')}`,
    );
    expect(report.findings[0]?.message).toContain('NO_TRUSTED_SIGNATURE');
    expect(report.checkpoints.refused).toBe(1);
  });

  it('accepts checkpoints signed by a retired key that is still trusted', () => {
    const retired = generateNoteKey(ORIGIN);
    const topic = new Topic();
    topic.produce(eventsOf('G-1'));
    const checkpointer = new Checkpointer(retired.signer);
    checkpointer.follow(topic);
    checkpointer.cut();
    const rotated = verify(topic, checkpointer, {
      verifiers: [logVerifier, verifierOf(retired.verifierKey)],
    });
    expect(rotated.ok).toBe(true);
    expect(verify(topic, checkpointer).findings[0]?.kind).toBe('CHECKPOINT_REFUSED');
  });

  it('refuses a checkpoint that forks history (inconsistent with a later one)', () => {
    const { topic, checkpointer } = pipeline();
    const first = checkpointer.batches[0] as LogOrderBatch;
    const size = first.entries.length + 1;
    const leaves = checkpointer.batches.flatMap((b) => b.entries.map(auditLeafHash)).slice(0, size);
    leaves[1] = auditLeafHash({
      ...(first.entries[1] as LogOrderEntry),
      stableHash: 'ff'.repeat(32),
    });
    const note = signCheckpoint(
      { origin: ORIGIN, size, rootHash: merkleTreeHash(leaves) },
      logKey.signer,
    );
    const report = verify(topic, checkpointer, {
      topicCheckpoints: [...checkpointer.topicCheckpoints, { note, ref: 'checkpoints/0/50' }],
      witnessCheckpoints: [...checkpointer.witness, { note, ref: 'witness/forged' }],
    });
    expect(kinds(report.findings)).toEqual(['CHECKPOINT_FORK']);
    expect(report.findings[0]).toMatchObject({ checkpointSize: size });
    expect(report.findings[0]?.message).toMatch(
      /inconsistent with the checkpoint of tree size \d+/,
    );
  });

  it('names two signed roots for one tree size as a fork', () => {
    const { topic, checkpointer } = pipeline();
    const size = 3;
    const note = signCheckpoint(
      { origin: ORIGIN, size, rootHash: Buffer.alloc(32, 7) },
      logKey.signer,
    );
    const genuine = signCheckpoint(
      {
        origin: ORIGIN,
        size,
        rootHash: merkleTreeHash(
          checkpointer.batches.flatMap((b) => b.entries.map(auditLeafHash)),
          size,
        ),
      },
      logKey.signer,
    );
    const report = verify(topic, checkpointer, {
      topicCheckpoints: [
        ...checkpointer.topicCheckpoints,
        { note: genuine, ref: 'a' },
        { note, ref: 'b' },
      ],
    });
    expect(kinds(report.findings)).toEqual(['CHECKPOINT_FORK']);
    expect(report.findings[0]?.message).toContain('2 signed checkpoints of tree size 3');
  });

  it('names an order topic that lost its last batch as ORDER_TRUNCATED', () => {
    const { topic, checkpointer } = pipeline();
    const report = verifyLog(optionsFor(topic, checkpointer), checkpointer.batches.slice(0, -1));
    expect(kinds(report.findings)).toContain('ORDER_TRUNCATED');
  });

  it('names an order batch rewritten on the order topic as a root mismatch', () => {
    const { topic, checkpointer } = pipeline();
    const batches = checkpointer.batches.map((batch, i) =>
      i === checkpointer.batches.length - 1
        ? { ...batch, entries: [...batch.entries].reverse() }
        : batch,
    );
    const report = verifyLog(optionsFor(topic, checkpointer), batches);
    expect(kinds(report.findings)).toEqual(['ROOT_MISMATCH']);
    expect(report.findings[0]?.checkpointSize).toBe(checkpointer.log.size);
  });

  it('names a gap in the order batches as ORDER_INVALID and stops placing leaves', () => {
    const { topic, checkpointer } = pipeline();
    const batches = checkpointer.batches.filter((_, i) => i !== 1);
    const report = verifyLog(optionsFor(topic, checkpointer), batches);
    expect(kinds(report.findings)[0]).toBe('ORDER_INVALID');
    expect(report.leaves).toBe(checkpointer.batches[0]?.entries.length);
    expect(report.ok).toBe(false);
  });
});

/**
 * What a caller short of memory does: the verifier hands back each
 * checkpointed leaf, and the leaves are judged key by key against the topic
 * with judgeKeyLeaves once every batch is in.
 */
function verifySliced(topic: Topic, checkpointer: Checkpointer): LogVerificationReport {
  const leaves = new Map<string, CheckpointedLeaf[]>();
  const { topic: lookup, ...options } = optionsFor(topic, checkpointer);
  const verifier = new LogVerifier({
    ...options,
    onCheckpointedLeaf: (leaf) =>
      leaves.set(leaf.entry.key, [...(leaves.get(leaf.entry.key) ?? []), leaf]),
  });
  for (const batch of checkpointer.batches) verifier.addBatch(batch);
  const base = verifier.finish();
  const findings: LogFinding[] = [...base.findings];
  const notices: LogFinding[] = [...base.notices];
  const keys = new Set([...leaves.keys(), ...(lookup?.keys() ?? [])]);
  for (const key of keys) {
    const judged = judgeKeyLeaves(
      key,
      leaves.get(key) ?? [],
      lookup?.get(key) ?? [],
      verifier.highWaterMarks(),
    );
    findings.push(...judged.findings);
    notices.push(...judged.notices);
  }
  return { ...base, findings, notices, ok: findings.length === 0 };
}

const sortedFindings = (list: readonly LogFinding[]) =>
  list.map((f) => `${f.kind} ${f.key ?? ''} ${f.leafIndex ?? ''} ${f.message}`).sort();

describe('LogVerifier with leaves judged by the caller a key at a time', () => {
  const states: [string, (topic: Topic, checkpointer: Checkpointer) => void][] = [
    ['an untouched compacted log', (topic) => topic.compact()],
    [
      'a deleted tail and a removed trail',
      (topic) => {
        topic.compact();
        topic.remove((r) => r.key === auditKeyOf(eventsOf('G-2')[4] as AuditEventV1));
        topic.remove((r) => r.event.grant_id === 'G-3');
      },
    ],
    [
      'a rewrite after compaction, logged again, and records past the checkpoint',
      (topic, checkpointer) => {
        topic.produce(rechained(eventsOf('G-4'), 2, { details: { route: 'elsewhere' } }));
        topic.compact();
        checkpointer.follow(topic);
        checkpointer.cut();
        topic.produce(rechained(eventsOf('G-1'), 4, { details: { status: 'WITHDRAWN' } }));
      },
    ],
  ];

  it.each(states)('names the same findings and notices as the topic lookup: %s', (_, tamper) => {
    const { topic, checkpointer } = pipeline();
    tamper(topic, checkpointer);
    const whole = verify(topic, checkpointer);
    const sliced = verifySliced(topic, checkpointer);
    expect(sortedFindings(sliced.findings)).toEqual(sortedFindings(whole.findings));
    expect(sortedFindings(sliced.notices)).toEqual(sortedFindings(whole.notices));
    expect(sliced.rootsReproduced).toBe(whole.rootsReproduced);
    expect(sliced.ok).toBe(whole.ok);
  });

  it('names a record behind the checkpointer NOT_LOGGED from the high-water marks', () => {
    const { topic, checkpointer } = pipeline();
    const forged = trail('G-9')[0] as AuditEventV1;
    const ref = {
      eventHash: forged.event_hash,
      stableHash: stableContentHashOf(forged),
      partition: 1,
    };
    const verifier = new LogVerifier({
      ...optionsFor(topic, checkpointer),
      topic: undefined,
      onCheckpointedLeaf: () => undefined,
    });
    for (const batch of checkpointer.batches) verifier.addBatch(batch);
    const behind = judgeKeyLeaves(
      auditKeyOf(forged),
      [],
      [{ ...ref, offset: '0' }],
      verifier.highWaterMarks(),
    );
    expect(kinds(behind.findings)).toEqual(['NOT_LOGGED']);
    const ahead = judgeKeyLeaves(
      auditKeyOf(forged),
      [],
      [{ ...ref, offset: '999' }],
      verifier.highWaterMarks(),
    );
    expect(kinds(ahead.notices)).toEqual(['UNCHECKPOINTED']);
  });

  it('names an order record that is not a batch as ORDER_INVALID and places nothing after it', () => {
    const { topic, checkpointer } = pipeline();
    const verifier = new LogVerifier(optionsFor(topic, checkpointer));
    verifier.addBatch(checkpointer.batches[0] as LogOrderBatch);
    verifier.refuseOrderRecord('order/0/1', 'NOT_A_BATCH: expected object');
    for (const batch of checkpointer.batches.slice(1)) verifier.addBatch(batch);
    const report = verifier.finish();
    expect(report.findings[0]).toMatchObject({ kind: 'ORDER_INVALID' });
    expect(report.findings[0]?.message).toContain('order/0/1');
    expect(report.leaves).toBe(checkpointer.batches[0]?.entries.length);
  });
});
