import type { AuditEventV1 } from '@grantstream/contracts';
import { ANNOTATION_ACTIONS } from './annotations';
import { auditKeyOf, computeEventHash, eventIdOf } from './audit-event';
import { layoutChain, trailStart, type ChainLayout, type ChainLink } from './chain';
import { DUPLICATE_OF_TRAIL_DETAIL, RESUBMISSION_OF_TRAIL_DETAIL } from './content-identity';
import { AUDIT_GENESIS_HASH } from './hashing';
import { stableContentHashOf } from './transparency/leaf';

export { ANNOTATION_ACTIONS } from './annotations';

export * from './verification-report';
import type {
  AuditRecord,
  Finding,
  FindingKind,
  GrantTrails,
  TrailLink,
  TrailSummary,
  VerificationReport,
} from './verification-report';

/** One version of a key: what its successors may point to and what it points to. */
interface Version {
  readonly hash: string;
  readonly prev: string;
  readonly partition: number;
  readonly offset: string;
  /** True when the version differs from the first only in hash, predecessor and time. */
  readonly sameDecision: boolean;
}

/** Per key, only what verification needs: ids, hashes and positions, never the event. */
interface KeyState extends ChainLink {
  readonly key: string;
  readonly grantId: string;
  readonly trailId: string;
  readonly eventId: string;
  readonly hashes: string[];
  readonly stage: string;
  readonly partition: number;
  readonly offset: string;
  /** Digest of every field but the hash, the predecessor and the time: equal for a re-made decision. */
  readonly decision: string;
  readonly versions: Version[];
  /** Links this event records; read from the first version (a differing copy is a conflict anyway). */
  readonly links: readonly { kind: 'RESUBMISSION' | 'DUPLICATE'; ofTrail: string }[];
  /** Source position of an event starting its trail, to tell a re-read from a redelivered copy. */
  readonly startSource: string | null;
}

/** Findings about the start of a trail sort before any event; unplaced ones after all. */
const TRAIL_LEVEL = -1;
const UNPLACED = Number.MAX_SAFE_INTEGER;
const KIND_ORDER: readonly FindingKind[] = [
  'NO_GENESIS',
  'NOT_INGESTED',
  'ALTERED',
  'DUPLICATE_CONFLICT',
  'TOMBSTONE',
  'FORK',
  'GAP',
  'LINK_UNRESOLVED',
];

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Verifies the audit topic record by record, in whatever order the records
 * arrive (several partitions interleave, so log order is not chain order):
 * record-level checks happen in {@link add}, chain-level ones in {@link finish}
 * once every event of every grant is known.
 *
 * A grant may have several trails (audit_trail_id): each submission of it, and
 * each read of its ingest record by another consumer group, starts one at the
 * genesis hash. Each trail is verified as its own hash chain; trails linked
 * by their events (resubmission, duplicate, re-read) are listed in
 * {@link VerificationReport.linkedTrails}, never reported as forks.
 *
 * Identical redeliveries (same key, same event_hash) are not findings: a stage
 * that crashes after producing and reprocesses its input writes the same event
 * again, and compaction removes the copy only later. Nor is a decision re-made
 * when its input was read again (same key, same predecessor, every field equal
 * but occurred_at): its successors continue from the version they saw, one
 * line per version, which is a replay of the trail, not a branch of it. Any
 * other difference under one key is a DUPLICATE_CONFLICT.
 *
 * Memory is a few short strings per key, so a full replay of the topic fits.
 * When one key carries several versions, the first one read is used for chain
 * layout (a key lives in one partition, so that is the one written first) and
 * every version's hash counts as a link target, so a conflict is reported
 * once as DUPLICATE_CONFLICT instead of again as a GAP after it.
 */
export class ChainVerifier {
  private readonly keys = new Map<string, KeyState>();
  private readonly grants = new Set<string>();
  private readonly recordFindings: Finding[] = [];
  private readonly seenFindings = new Set<string>();
  private identical = 0;

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
    const where = {
      grantId: event.grant_id,
      trailId: event.audit_trail_id,
      eventId: event.event_id,
      key,
      partition,
      offset,
    };

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
    // Two versions of one key with the same stable hash are the same decision made twice.
    const decision = stableContentHashOf(event);
    const version: Version = {
      hash: event.event_hash,
      prev: event.previous_event_hash,
      partition,
      offset,
      sameDecision: known === undefined || known.decision === decision,
    };
    if (known === undefined) {
      this.keys.set(key, {
        id: key,
        key,
        grantId: event.grant_id,
        trailId: event.audit_trail_id,
        eventId: event.event_id,
        hashes: [event.event_hash],
        prev: event.previous_event_hash,
        occurredAt: event.occurred_at,
        stage: event.stage,
        annotation: ANNOTATION_ACTIONS.has(event.action),
        partition,
        offset,
        decision,
        versions: [version],
        links: linksOf(event),
        startSource:
          event.previous_event_hash === AUDIT_GENESIS_HASH &&
          event.stage === 'ingest' &&
          event.source !== null
            ? `${event.source.topic}/${event.source.partition}/${event.source.offset}`
            : null,
      });
      return;
    }
    if (known.hashes.includes(event.event_hash)) {
      this.identical += 1;
      return;
    }
    known.hashes.push(event.event_hash);
    known.versions.push(version);
    if (!version.sameDecision) {
      this.report({
        ...where,
        kind: 'DUPLICATE_CONFLICT',
        message: `key ${key} first seen with event_hash ${known.hashes[0] ?? ''} at ${known.partition}/${known.offset}, now with ${event.event_hash} whose content differs in more than occurred_at`,
      });
    }
  }

  /** Runs the chain checks and returns every finding, ordered per grant, trail and chain position. */
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
    const linkedTrails: GrantTrails[] = [];
    let trails = 0;
    let remade = 0;
    for (const grantId of [...this.grants].sort()) {
      const grant = verifyGrant(grantId, byGrant.get(grantId) ?? []);
      trails += grant.trails.length;
      remade += grant.remade;
      if (grant.trails.length > 1 || grant.trails.some((t) => t.reads > 1)) {
        linkedTrails.push({ grantId, trails: grant.trails });
      }

      const grantFindings = [...(findingsByGrant.get(grantId) ?? []), ...grant.findings];
      const trailRank = new Map(grant.trails.map((t, i) => [t.trailId, i]));
      // A tombstone names no trail; the event it deleted may still be known by its key.
      const trailOf = (f: Finding): string | undefined =>
        f.trailId ?? (f.key === undefined ? undefined : this.keys.get(f.key)?.trailId);
      const rank = (f: Finding): [number, number] => {
        const trail = trailOf(f);
        return [
          trail === undefined ? UNPLACED : (trailRank.get(trail) ?? UNPLACED),
          f.kind === 'NO_GENESIS'
            ? TRAIL_LEVEL
            : f.key === undefined
              ? UNPLACED
              : (grant.positionOfKey.get(f.key) ?? UNPLACED),
        ];
      };
      grantFindings.sort((a, b) => {
        const [ta, pa] = rank(a);
        const [tb, pb] = rank(b);
        return ta - tb || pa - pb || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);
      });
      findings.push(...grantFindings);
    }
    const grantsWithFindings = [...new Set(findings.map((f) => f.grantId))].sort();
    return {
      grants: this.grants.size,
      trails,
      events: this.keys.size,
      findings,
      grantsWithFindings,
      linkedTrails,
      redeliveries: { identical: this.identical, remade },
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

/** Chain-level findings of one grant, its trails in the order they started, and event positions. */
function verifyGrant(
  grantId: string,
  states: readonly KeyState[],
): {
  findings: Finding[];
  trails: TrailSummary[];
  positionOfKey: Map<string, number>;
  remade: number;
} {
  const findings: Finding[] = [];
  const keyOfHash = new Map<string, KeyState>();
  for (const s of states) for (const h of s.hashes) if (!keyOfHash.has(h)) keyOfHash.set(h, s);

  // Versions of a key beyond the first: re-made decisions, unless they name another predecessor.
  let remade = 0;
  for (const s of states) {
    if (s.versions.length < 2) continue;
    const predecessor = (prev: string): string =>
      prev === AUDIT_GENESIS_HASH ? prev : (keyOfHash.get(prev)?.key ?? `?${prev}`);
    const first = predecessor(s.prev);
    for (const v of s.versions.slice(1)) {
      // A version with another content is a DUPLICATE_CONFLICT already.
      if (!v.sameDecision) continue;
      if (predecessor(v.prev) === first) {
        remade += 1;
        continue;
      }
      findings.push({
        ...at(s),
        partition: v.partition,
        offset: v.offset,
        kind: 'DUPLICATE_CONFLICT',
        message: `key ${s.key} was written again naming predecessor ${v.prev} instead of ${s.prev}: one decision has one place in its trail`,
      });
    }
  }

  // An annotation (a notification) is about the event it points to, so it is
  // checked in that event's trail: its own audit_trail_id is bookkeeping of
  // the notifier, which may only know the position a dead letter came from.
  const trailOf = (s: KeyState): string => {
    if (s.annotation !== true) return s.trailId;
    const anchor = keyOfHash.get(s.prev);
    return anchor !== undefined && anchor.annotation !== true ? anchor.trailId : s.trailId;
  };
  const byTrail = new Map<string, KeyState[]>();
  for (const s of states) {
    const trailId = trailOf(s);
    const group = byTrail.get(trailId);
    if (group === undefined) byTrail.set(trailId, [s]);
    else group.push(s);
  }
  const laidOut = [...byTrail].map(([trailId, trailStates]) => {
    const layout = layoutChain(trailStates);
    return { trailId, states: trailStates, layout, startedAt: trailStart(trailStates) };
  });
  laidOut.sort((a, b) => a.startedAt - b.startedAt || compareIds(a.trailId, b.trailId));

  const startSources = new Map<string, Set<string>>();
  for (const t of laidOut) {
    const sources = new Set<string>();
    for (const root of t.layout.genesisRoots) if (root.startSource) sources.add(root.startSource);
    startSources.set(t.trailId, sources);
  }

  const positionOfKey = new Map<string, number>();
  const trails: TrailSummary[] = [];
  for (const t of laidOut) {
    for (const [state, index] of t.layout.position) positionOfKey.set(state.key, index);
    findings.push(...trailFindings(grantId, t.trailId, t.states.length, t.layout, keyOfHash));
    let link: TrailLink | null = null;
    for (const state of t.layout.ordered) {
      for (const claimed of state.links) {
        const target = startSources.get(claimed.ofTrail);
        if (target === undefined || claimed.ofTrail === t.trailId) {
          findings.push({
            ...at(state),
            kind: 'LINK_UNRESOLVED',
            message: `links trail ${claimed.ofTrail} as ${claimed.kind.toLowerCase()}, but grant ${grantId} has no ${claimed.ofTrail === t.trailId ? 'other ' : ''}trail with that id`,
          });
          continue;
        }
        const own = startSources.get(t.trailId) ?? new Set<string>();
        const reread = claimed.kind === 'DUPLICATE' && [...own].some((s) => target.has(s));
        link ??= {
          kind: reread ? 'RE_READ' : claimed.kind,
          ofTrail: claimed.ofTrail,
          eventId: state.eventId,
        };
      }
    }
    // A re-read that never reached submission (blocked, dead-lettered) has no
    // duplicate decision naming the earlier trail; both start from the same
    // ingest record, which is the link.
    const firstRead = t.layout.genesisRoots[0];
    if (link === null && firstRead !== undefined) {
      const own = startSources.get(t.trailId) ?? new Set<string>();
      const earlier = laidOut.find(
        (o) =>
          o.trailId !== t.trailId &&
          o.startedAt <= t.startedAt &&
          [...own].some((s) => startSources.get(o.trailId)?.has(s)),
      );
      if (earlier !== undefined)
        link = { kind: 'RE_READ', ofTrail: earlier.trailId, eventId: firstRead.eventId };
    }
    trails.push({
      trailId: t.trailId,
      events: t.states.length,
      startedAt: t.startedAt,
      reads: t.layout.genesisRoots.length,
      link,
    });
  }
  return { findings, trails, positionOfKey, remade };
}

function at(s: KeyState) {
  return {
    grantId: s.grantId,
    trailId: s.trailId,
    eventId: s.eventId,
    key: s.key,
    partition: s.partition,
    offset: s.offset,
  };
}

function trailFindings(
  grantId: string,
  trailId: string,
  events: number,
  layout: ChainLayout<KeyState>,
  keyOfHash: ReadonlyMap<string, KeyState>,
): Finding[] {
  if (events === 0) return [];
  const findings: Finding[] = [];
  if (layout.genesisRoots.length === 0) {
    findings.push({
      grantId,
      trailId,
      kind: 'NO_GENESIS',
      message: `trail ${trailId} of grant ${grantId} has ${events} event(s) but none is chained to genesis: its first event is missing`,
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
    // Ingest decisions on the same input position started the trail together:
    // the record was read again by another consumer group, written before
    // trail ids named the group. Two reads, not a fork; listed as reads.
    const sameRead = (other: KeyState): boolean =>
      fork.prev === AUDIT_GENESIS_HASH &&
      other.startSource !== null &&
      other.startSource === fork.main.startSource;
    for (const other of fork.others) {
      if (sameRead(other)) continue;
      findings.push({
        ...at(other),
        kind: 'FORK',
        message: `event ${other.eventId} claims the same predecessor (${fork.prev}) as ${fork.main.eventId}, which continues the trail`,
      });
    }
  }
  for (const orphan of layout.orphans) {
    const elsewhere = keyOfHash.get(orphan.prev);
    findings.push({
      ...at(orphan),
      kind: 'GAP',
      message:
        elsewhere !== undefined && elsewhere !== orphan
          ? `previous_event_hash ${orphan.prev} is event ${elsewhere.eventId} of trail ${elsewhere.trailId}, not of trail ${trailId}: a trail never continues another`
          : `previous_event_hash ${orphan.prev} is no event of grant ${grantId}: the event before it was deleted or this one is forged`,
    });
  }
  return findings;
}

function linksOf(event: AuditEventV1): KeyState['links'] {
  const links: { kind: 'RESUBMISSION' | 'DUPLICATE'; ofTrail: string }[] = [];
  const duplicateOf = event.details[DUPLICATE_OF_TRAIL_DETAIL];
  if (duplicateOf !== undefined) links.push({ kind: 'DUPLICATE', ofTrail: duplicateOf });
  const resubmissionOf = event.details[RESUBMISSION_OF_TRAIL_DETAIL];
  if (resubmissionOf !== undefined) links.push({ kind: 'RESUBMISSION', ofTrail: resubmissionOf });
  return links;
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
 * The first thing wrong with a grant's trails, in chain order: the finding
 * that names the event closest to genesis of the earliest trail with a
 * finding (findings of a report are already sorted that way, so this is the
 * grant's first finding naming an event). Undefined when the grant has no
 * finding naming an event.
 *
 * A deleted event cannot be named (it is gone); the GAP finding then names the
 * event right after the hole.
 */
export function firstBadEvent(report: VerificationReport, grantId: string): Finding | undefined {
  return report.findings.find((f) => f.grantId === grantId && f.eventId !== undefined);
}
