import type { AuditEventV1 } from '@grantstream/contracts';
import { auditKeyOf, computeEventHash, eventIdOf } from './audit-event';
import { layoutChain, type ChainLayout, type ChainLink } from './chain';

/**
 * Actions recorded as annotations of the event they point to rather than as
 * steps of the trail: a notification is delivered while the grant moves on
 * (a deadline-risk alert while its retry waits), so its event cannot be the
 * trail's next link without forking it. It must still point to an event of
 * the grant and is hashed like every event; see {@link ChainLink.annotation}.
 */
export const ANNOTATION_ACTIONS: ReadonlySet<AuditEventV1['action']> = new Set(['NOTIFIED']);

/** One record read from the audit topic; `event` null is a tombstone. */
export interface AuditRecord {
  key: string;
  event: AuditEventV1 | null;
  partition: number;
  /** Kafka offset as the client reports it (a string: offsets can exceed 2^53). */
  offset: string;
}

/**
 * What verification can find wrong with a trail:
 * - `ALTERED`: event_hash, event_id or key do not match the event's content.
 * - `TOMBSTONE`: a null value for a key; the pipeline never writes one, so someone deleted an event.
 * - `DUPLICATE_CONFLICT`: one key carrying two different event_hash values.
 * - `FORK`: two events of a grant claiming the same predecessor.
 * - `GAP`: an event whose predecessor is neither genesis nor any event of the grant.
 * - `NO_GENESIS`: a grant with events, none of them chained to genesis.
 * - `NOT_INGESTED`: a grant whose chain starts at a stage other than `ingest`.
 */
export type FindingKind =
  | 'ALTERED'
  | 'TOMBSTONE'
  | 'DUPLICATE_CONFLICT'
  | 'FORK'
  | 'GAP'
  | 'NO_GENESIS'
  | 'NOT_INGESTED';

/** One problem with one grant's trail, naming the event and its position on the topic when known. */
export interface Finding {
  grantId: string;
  kind: FindingKind;
  eventId?: string;
  key?: string;
  partition?: number;
  offset?: string;
  message: string;
}

/**
 * Result of {@link ChainVerifier.finish}. `findings` are ordered by grant id,
 * then by chain position of the event they name (see {@link firstBadEvent}).
 */
export interface VerificationReport {
  /** Grants with at least one record (value or tombstone). */
  grants: number;
  /** Distinct keys that carried a value. */
  events: number;
  findings: Finding[];
  /** Sorted grant ids with at least one finding. */
  grantsWithFindings: string[];
  ok: boolean;
}

/** Per key, only what verification needs: ids, hashes and a position, never the event. */
interface KeyState extends ChainLink {
  readonly key: string;
  readonly grantId: string;
  readonly eventId: string;
  readonly hashes: string[];
  readonly stage: string;
  readonly partition: number;
  readonly offset: string;
}

/** Findings about the start of a trail sort before any event; unplaced ones after all. */
const GRANT_LEVEL = -1;
const UNPLACED = Number.MAX_SAFE_INTEGER;
const KIND_ORDER: readonly FindingKind[] = [
  'NO_GENESIS',
  'NOT_INGESTED',
  'ALTERED',
  'DUPLICATE_CONFLICT',
  'TOMBSTONE',
  'FORK',
  'GAP',
];

/**
 * Verifies the audit topic record by record, in whatever order the records
 * arrive (several partitions interleave, so log order is not chain order):
 * record-level checks happen in {@link add}, chain-level ones in {@link finish}
 * once every event of every grant is known.
 *
 * Identical redeliveries (same key, same event_hash) are not findings: a stage
 * that crashes after producing and reprocesses its input writes the same event
 * again, and compaction removes the copy only later.
 *
 * Memory is a few short strings per key, so a full replay of the topic fits.
 * When one key carries conflicting versions, the first one read is used for
 * chain layout (a key lives in one partition, so that is the one written first)
 * and every version's hash counts as a link target, so the conflict is reported
 * once as DUPLICATE_CONFLICT instead of again as a GAP after it.
 */
export class ChainVerifier {
  private readonly keys = new Map<string, KeyState>();
  private readonly grants = new Set<string>();
  private readonly recordFindings: Finding[] = [];
  private readonly seenFindings = new Set<string>();

  /** Checks one record and remembers what the chain checks need. */
  add(record: AuditRecord): void {
    const { key, event, partition, offset } = record;
    if (event === null) {
      const grantId = grantIdOfKey(key);
      this.grants.add(grantId);
      this.report({
        grantId,
        kind: 'TOMBSTONE',
        eventId: eventIdOfKey(key),
        key,
        partition,
        offset,
        message: `tombstone for ${key}: the pipeline never deletes audit events, so this one was removed deliberately`,
      });
      return;
    }
    this.grants.add(event.grant_id);
    const where = { grantId: event.grant_id, eventId: event.event_id, key, partition, offset };

    const altered: string[] = [];
    const recomputed = computeEventHash(event);
    if (recomputed !== event.event_hash) {
      altered.push(`event_hash ${event.event_hash} but content hashes to ${recomputed}`);
    }
    const impliedId = eventIdOf(event);
    if (impliedId !== event.event_id) {
      altered.push(`event_id ${event.event_id} but identity fields imply ${impliedId}`);
    }
    const expectedKey = auditKeyOf(event);
    if (key !== expectedKey) altered.push(`key ${key} but event implies ${expectedKey}`);
    if (altered.length > 0) {
      this.report({ ...where, kind: 'ALTERED', message: altered.join('; ') });
    }

    const known = this.keys.get(key);
    if (known === undefined) {
      this.keys.set(key, {
        id: key,
        key,
        grantId: event.grant_id,
        eventId: event.event_id,
        hashes: [event.event_hash],
        prev: event.previous_event_hash,
        occurredAt: event.occurred_at,
        stage: event.stage,
        annotation: ANNOTATION_ACTIONS.has(event.action),
        partition,
        offset,
      });
    } else if (!known.hashes.includes(event.event_hash)) {
      this.report({
        ...where,
        kind: 'DUPLICATE_CONFLICT',
        message: `key ${key} first seen with event_hash ${known.hashes[0] ?? ''} at ${known.partition}/${known.offset}, now with ${event.event_hash}`,
      });
      known.hashes.push(event.event_hash);
    }
  }

  /** Runs the chain checks and returns every finding, ordered per grant by chain position. */
  finish(): VerificationReport {
    const byGrant = new Map<string, KeyState[]>();
    for (const state of this.keys.values()) {
      const group = byGrant.get(state.grantId);
      if (group === undefined) byGrant.set(state.grantId, [state]);
      else group.push(state);
    }
    const findingsByGrant = new Map<string, Finding[]>();
    for (const finding of this.recordFindings) {
      const group = findingsByGrant.get(finding.grantId);
      if (group === undefined) findingsByGrant.set(finding.grantId, [finding]);
      else group.push(finding);
    }

    const findings: Finding[] = [];
    for (const grantId of [...this.grants].sort()) {
      const states = byGrant.get(grantId) ?? [];
      const layout = layoutChain(states);
      const grantFindings = [
        ...(findingsByGrant.get(grantId) ?? []),
        ...chainFindings(grantId, states.length, layout),
      ];
      const positionOfKey = new Map<string, number>();
      for (const [state, index] of layout.position) positionOfKey.set(state.key, index);
      const rank = (f: Finding): number => {
        if (f.kind === 'NO_GENESIS') return GRANT_LEVEL;
        return f.key === undefined ? UNPLACED : (positionOfKey.get(f.key) ?? UNPLACED);
      };
      grantFindings.sort(
        (a, b) => rank(a) - rank(b) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind),
      );
      findings.push(...grantFindings);
    }
    const grantsWithFindings = [...new Set(findings.map((f) => f.grantId))].sort();
    return {
      grants: this.grants.size,
      events: this.keys.size,
      findings,
      grantsWithFindings,
      ok: findings.length === 0,
    };
  }

  private report(finding: Finding): void {
    // An altered event redelivered verbatim is one problem, not two.
    const signature = `${finding.kind}|${finding.key ?? ''}|${finding.message}`;
    if (this.seenFindings.has(signature)) return;
    this.seenFindings.add(signature);
    this.recordFindings.push(finding);
  }
}

function chainFindings(grantId: string, events: number, layout: ChainLayout<KeyState>): Finding[] {
  if (events === 0) return [];
  const at = (s: KeyState) => ({
    grantId,
    eventId: s.eventId,
    key: s.key,
    partition: s.partition,
    offset: s.offset,
  });
  const findings: Finding[] = [];
  if (layout.genesisRoots.length === 0) {
    findings.push({
      grantId,
      kind: 'NO_GENESIS',
      message: `grant ${grantId} has ${events} event(s) but none is chained to genesis: its first event is missing`,
    });
  }
  for (const root of layout.genesisRoots) {
    if (root.stage !== 'ingest') {
      findings.push({
        ...at(root),
        kind: 'NOT_INGESTED',
        message: `trail starts at stage '${root.stage}', not 'ingest': the grant has no ingest event`,
      });
    }
  }
  for (const fork of layout.forks) {
    for (const other of fork.others) {
      findings.push({
        ...at(other),
        kind: 'FORK',
        message: `event ${other.eventId} claims the same predecessor (${fork.prev}) as ${fork.main.eventId}, which continues the trail`,
      });
    }
  }
  for (const orphan of layout.orphans) {
    findings.push({
      ...at(orphan),
      kind: 'GAP',
      message: `previous_event_hash ${orphan.prev} is no event of grant ${grantId}: the event before it was deleted or this one is forged`,
    });
  }
  return findings;
}

/** Grant id of an audit key `${grant_id}:${event_id}`; event ids never contain ':'. */
function grantIdOfKey(key: string): string {
  const colon = key.lastIndexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}

function eventIdOfKey(key: string): string | undefined {
  const colon = key.lastIndexOf(':');
  return colon < 0 ? undefined : key.slice(colon + 1);
}

/**
 * The first thing wrong with a grant's trail, in chain order: the finding that
 * names the event closest to genesis (findings of a report are already sorted
 * that way, so this is the grant's first finding naming an event). Undefined
 * when the grant has no finding naming an event.
 *
 * A deleted event cannot be named (it is gone); the GAP finding then names the
 * event right after the hole.
 */
export function firstBadEvent(report: VerificationReport, grantId: string): Finding | undefined {
  return report.findings.find((f) => f.grantId === grantId && f.eventId !== undefined);
}
