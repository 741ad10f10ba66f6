import {
  ChainVerifier,
  LogVerifier,
  grantIdOfAuditKey,
  judgeKeyLeaves,
  parseVerifierKey,
  stableContentHashOf,
  type AuditRecord,
  type CheckpointedLeaf,
  type LogFinding,
  type LogVerificationReport,
  type NoteVerifier,
  type TopicRecordRef,
  type VerificationReport,
} from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';
import { GrantSpill } from './grant-spill';
import type { AuditSources, RefusedNote, Undecodable } from './log-sources';

/** What a run checks the log with (from `audit.log` and the command line). */
export interface LogCheckOptions {
  /** Trusted verifier key strings; none means the log is not checked. */
  readonly verifierKeys: readonly string[];
  /** Configured key files that could not be read (audit.log.verifierKeyFiles): named when no key is left. */
  readonly unreadKeyFiles?: readonly string[];
  readonly origin: string;
  readonly maxBatchEntries: number;
  readonly maxNoteBytes: number;
  readonly maxSignatures: number;
  readonly bucketRecords: number;
  readonly spillBufferBytes: number;
  readonly maxFindingsListed: number;
}

/** The log part of a run's result. */
export type LogCheck =
  | { readonly checked: false; readonly reason: string }
  | (LogVerificationReport & {
      readonly checked: true;
      /** Findings and notices by kind, the unlisted ones included. */
      readonly counts: Readonly<Record<string, number>>;
      /** Findings and notices counted but not listed (past `maxFindingsListed` of their kind). */
      readonly unlisted: number;
    });

/** Result of {@link verifyAudit}: the chains, the undecodable records and the Merkle log. */
export interface AuditVerifyResult {
  readonly chain: VerificationReport;
  readonly undecodable: readonly Undecodable[];
  readonly log: LogCheck;
  readonly records: number;
  readonly ok: boolean;
}

/** The trusted keys parsed, or the first one refused. */
export function parseVerifiers(
  keys: readonly string[],
): { ok: true; verifiers: NoteVerifier[] } | { ok: false; detail: string } {
  const verifiers: NoteVerifier[] = [];
  for (const key of keys) {
    const parsed = parseVerifierKey(key);
    if (!parsed.ok) return { ok: false, detail: `verifier key ${key}: ${parsed.reason}` };
    verifiers.push(parsed.verifier);
  }
  return { ok: true, verifiers };
}

/** One report of several buckets' chain reports: buckets hold disjoint grants, so counts add up. */
export function mergeChainReports(reports: readonly VerificationReport[]): VerificationReport {
  const byGrant = <T extends { grantId: string }>(list: T[]): T[] =>
    list
      .map((item, i) => ({ item, i }))
      .sort((a, b) =>
        a.item.grantId < b.item.grantId ? -1 : a.item.grantId > b.item.grantId ? 1 : a.i - b.i,
      )
      .map(({ item }) => item);
  return {
    grants: reports.reduce((n, r) => n + r.grants, 0),
    trails: reports.reduce((n, r) => n + r.trails, 0),
    events: reports.reduce((n, r) => n + r.events, 0),
    findings: byGrant(reports.flatMap((r) => r.findings)),
    grantsWithFindings: reports.flatMap((r) => r.grantsWithFindings).sort(),
    linkedTrails: byGrant(reports.flatMap((r) => r.linkedTrails)),
    redeliveries: {
      identical: reports.reduce((n, r) => n + r.redeliveries.identical, 0),
      remade: reports.reduce((n, r) => n + r.redeliveries.remade, 0),
    },
    ok: reports.every((r) => r.ok),
  };
}

/** Keeps at most `max` findings of each kind, counting all of them. */
class FindingList {
  readonly listed: LogFinding[] = [];
  readonly counts: Record<string, number> = {};
  unlisted = 0;

  constructor(private readonly max: number) {}

  add(finding: LogFinding): void {
    const n = (this.counts[finding.kind] ?? 0) + 1;
    this.counts[finding.kind] = n;
    if (n <= this.max) this.listed.push(finding);
    else this.unlisted += 1;
  }
}

const RECORDS = 'records';
const LEAVES = 'leaves';

type SpilledRecord = [string, number, string, AuditEventV1 | null];
type SpilledLeaf = [number, string, string, string, number, string];

/**
 * `grantctl audit verify`: every trail's hash chain and, when trusted keys are
 * given, the signed Merkle log (docs/audit.md).
 *
 * Memory stays bounded whatever the topic's size. The order batches stream
 * through {@link LogVerifier}, which keeps the log's compact range and hands
 * back each checkpointed leaf; the leaves and the audit records are spilled to
 * temporary files bucketed by grant ({@link GrantSpill}), and each bucket is
 * then checked alone: its chains by a fresh {@link ChainVerifier}, its leaves
 * against its records by {@link judgeKeyLeaves}. A bucket holds about
 * `bucketRecords` records, so memory follows that setting, not the topic.
 */
export async function verifyAudit(
  sources: AuditSources,
  options: LogCheckOptions,
): Promise<AuditVerifyResult> {
  const size = await sources.auditSize();
  const spill = new GrantSpill(
    Math.max(1, Math.ceil(size / options.bucketRecords)),
    options.spillBufferBytes,
  );
  try {
    const verifiers = parseVerifiers(options.verifierKeys);
    let logVerifier: LogVerifier | undefined;
    const preFindings: LogFinding[] = [];
    let logSkipped: string | undefined;
    if (!verifiers.ok) logSkipped = verifiers.detail;
    else if (verifiers.verifiers.length === 0) {
      const unread = options.unreadKeyFiles ?? [];
      logSkipped = `no trusted verifier key configured (audit.log.verifierKeys, audit.log.verifierKeyFiles or --verifier-key)${unread.length > 0 ? `; no key file at ${unread.join(', ')} (has the checkpointer run?)` : ''}: the Merkle log was not checked`;
    } else {
      const topicNotes = await sources.checkpointNotes();
      const witnessNotes = await sources.witnessNotes();
      const refusedNote = (r: RefusedNote): LogFinding => ({
        kind: 'CHECKPOINT_REFUSED',
        checkpointRef: r.ref,
        message: `${r.ref} refused before its signature was looked at: ${r.detail}`,
      });
      preFindings.push(...topicNotes.refused.map(refusedNote));
      preFindings.push(...witnessNotes.refused.map(refusedNote));
      logVerifier = new LogVerifier({
        verifiers: verifiers.verifiers,
        checkpointLimits: {
          origin: options.origin,
          maxNoteBytes: options.maxNoteBytes,
          maxSignatures: options.maxSignatures,
        },
        orderLimits: { maxBatchEntries: options.maxBatchEntries },
        topicCheckpoints: topicNotes.notes,
        witnessCheckpoints: witnessNotes.notes,
        onCheckpointedLeaf: ({ index, entry }) => {
          const line: SpilledLeaf = [
            index,
            entry.key,
            entry.eventHash,
            entry.stableHash,
            entry.partition,
            entry.offset,
          ];
          spill.write(LEAVES, entry.key, JSON.stringify(line));
        },
      });
      for await (const read of sources.orderBatches()) {
        if (read.ok) logVerifier.addBatch(read.batch);
        else logVerifier.refuseOrderRecord(read.ref, read.detail);
      }
    }

    const undecodable: Undecodable[] = [];
    const records = await sources.scanAudit(
      (r) => {
        const line: SpilledRecord = [r.key, r.partition, r.offset, r.event];
        spill.write(RECORDS, r.key, JSON.stringify(line));
      },
      (u) => undecodable.push(u),
    );

    const chainReports: VerificationReport[] = [];
    const leafFindings = new FindingList(options.maxFindingsListed);
    const notices = new FindingList(options.maxFindingsListed);
    const namedGrants = new Set<string>();
    let grants = 0;
    const highWater = logVerifier?.highWaterMarks() ?? new Map<number, bigint>();
    for (let bucket = 0; bucket < spill.buckets; bucket += 1) {
      const chain = new ChainVerifier();
      const topic = new Map<string, TopicRecordRef[]>();
      for (const text of spill.lines(RECORDS, bucket)) {
        const [key, partition, offset, event] = JSON.parse(text) as SpilledRecord;
        const record: AuditRecord = { key, event, partition, offset };
        chain.add(record);
        if (logVerifier === undefined || event === null) continue;
        const ref = {
          eventHash: event.event_hash,
          stableHash: stableContentHashOf(event),
          partition,
          offset,
        };
        const list = topic.get(key);
        if (list === undefined) topic.set(key, [ref]);
        else list.push(ref);
      }
      chainReports.push(chain.finish());
      if (logVerifier === undefined) continue;
      const leaves = new Map<string, CheckpointedLeaf[]>();
      const bucketGrants = new Set<string>();
      for (const text of spill.lines(LEAVES, bucket)) {
        const [index, key, eventHash, stableHash, partition, offset] = JSON.parse(
          text,
        ) as SpilledLeaf;
        const leaf = { index, entry: { key, eventHash, stableHash, partition, offset } };
        const list = leaves.get(key);
        if (list === undefined) leaves.set(key, [leaf]);
        else list.push(leaf);
      }
      const judge = (key: string, keyLeaves: readonly CheckpointedLeaf[]) => {
        const judged = judgeKeyLeaves(key, keyLeaves, topic.get(key) ?? [], highWater);
        for (const f of judged.findings) {
          leafFindings.add(f);
          if (f.grantId !== undefined) namedGrants.add(f.grantId);
        }
        for (const n of judged.notices) notices.add(n);
      };
      for (const [key, keyLeaves] of leaves) {
        bucketGrants.add(grantIdOfAuditKey(key));
        judge(key, keyLeaves);
      }
      for (const key of topic.keys()) if (!leaves.has(key)) judge(key, []);
      grants += bucketGrants.size;
    }

    const chain = mergeChainReports(chainReports);
    let log: LogCheck;
    if (logVerifier === undefined) {
      log = { checked: false, reason: logSkipped ?? 'not checked' };
    } else {
      const base = logVerifier.finish();
      const checkpointFindings = [...preFindings, ...base.findings];
      for (const f of checkpointFindings) if (f.grantId !== undefined) namedGrants.add(f.grantId);
      const byIndex = (a: LogFinding, b: LogFinding) =>
        (a.leafIndex ?? Number.MAX_SAFE_INTEGER) - (b.leafIndex ?? Number.MAX_SAFE_INTEGER) ||
        (a.partition ?? 0) - (b.partition ?? 0) ||
        Number(BigInt(a.offset ?? '0') - BigInt(b.offset ?? '0'));
      const counts: Record<string, number> = { ...leafFindings.counts, ...notices.counts };
      for (const f of checkpointFindings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      const findingCount =
        checkpointFindings.length + leafFindings.listed.length + leafFindings.unlisted;
      log = {
        ...base,
        checked: true,
        grants,
        grantsWithFindings: [...namedGrants].sort(),
        findings: [...checkpointFindings, ...leafFindings.listed.sort(byIndex)],
        notices: notices.listed.sort(byIndex),
        counts,
        unlisted: leafFindings.unlisted + notices.unlisted,
        ok: findingCount === 0,
      };
    }
    const ok = chain.ok && undecodable.length === 0 && (log.checked ? log.ok : true);
    return { chain, undecodable, log, records, ok };
  } finally {
    spill.close();
  }
}
