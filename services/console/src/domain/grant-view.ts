import {
  ChainVerifier,
  buildEvidenceBundle,
  firstBadEvent,
  type EvidenceTimelineEntry,
  type Finding,
  type TrailSummary,
} from '@grantstream/audit';
import type {
  GrantRecords,
  GrantSummary,
  StoredDeadLetter,
  StoredStatus,
} from '@grantstream/read-model';

/** The verdict the grant page's badge shows. */
export type ChainVerdict = 'VERIFIED' | 'BROKEN' | 'NO_EVENTS';

/** Where the trail first went wrong, as the page names it. */
export interface BrokenAt {
  kind: string;
  message: string;
  /** The event named, when the finding names one (a deleted event cannot be named). */
  eventId: string | null;
  /** Its 1-based place in the timeline, when it is there. */
  position: number | null;
  stage: string | null;
  action: string | null;
  /** partition:offset in the audit topic, when known. */
  at: string | null;
}

/** Everything the grant page shows, built from the read model alone. */
export interface GrantView {
  grantId: string;
  summary: GrantSummary | null;
  verdict: ChainVerdict;
  /** One sentence for the badge's neighbour. */
  verdictText: string;
  brokenAt: BrokenAt | null;
  findings: Finding[];
  trails: TrailSummary[];
  /** Trail by trail, each in chain order (genesis first). */
  timeline: EvidenceTimelineEntry[];
  /** The notification events (NOTIFIED) of the timeline. */
  notifications: EvidenceTimelineEntry[];
  statuses: StoredStatus[];
  deadLetters: StoredDeadLetter[];
  /** Audit records whose value did not decode: themselves evidence of tampering. */
  undecodable: { at: string; key: string; reason: string }[];
  /** The evidence bundle's printable page (auditors download it). */
  evidenceHtml: string;
}

/**
 * The grant page's content: the grant's audit records checked with the
 * audit library's chain verifier (the same checks as `grantctl audit
 * verify`, over this grant's records), its timeline in chain order from the
 * evidence bundle, and where the trail first broke. `now` stamps the
 * evidence bundle.
 */
export function grantView(grantId: string, records: GrantRecords, now: number): GrantView {
  const verifier = new ChainVerifier();
  const undecodable: GrantView['undecodable'] = [];
  for (const r of records.audit) {
    if (r.undecodable !== null) {
      undecodable.push({ at: `${r.partition}:${r.offset}`, key: r.key, reason: r.undecodable });
      continue;
    }
    verifier.add({ key: r.key, event: r.event, partition: r.partition, offset: r.offset });
  }
  const report = verifier.finish();
  const events = records.audit.flatMap((r) => (r.event ? [r.event] : []));
  const { json, html } = buildEvidenceBundle(grantId, events, report, now);
  const findings = json.verification.findings;
  const first = firstBadEvent(report, grantId) ?? findings[0];
  const entry = first?.eventId ? json.timeline.find((t) => t.eventId === first.eventId) : undefined;
  const brokenAt: BrokenAt | null = first
    ? {
        kind: first.kind,
        message: first.message,
        eventId: first.eventId ?? null,
        position: entry?.position ?? null,
        stage: entry?.stage ?? null,
        action: entry?.action ?? null,
        at: first.partition !== undefined ? `${first.partition}:${first.offset ?? '?'}` : null,
      }
    : undecodable[0]
      ? {
          kind: 'UNDECODABLE',
          message: `an audit record does not decode: ${undecodable[0].reason}`,
          eventId: null,
          position: null,
          stage: null,
          action: null,
          at: undecodable[0].at,
        }
      : null;
  const verdict: ChainVerdict =
    brokenAt !== null ? 'BROKEN' : json.timeline.length === 0 ? 'NO_EVENTS' : 'VERIFIED';
  const verdictText =
    verdict === 'VERIFIED'
      ? `Hash chain verified: ${json.timeline.length} event(s) from genesis, nothing altered or removed.`
      : verdict === 'NO_EVENTS'
        ? 'No audit events for this grant yet.'
        : `Hash chain broken: ${findings.length + undecodable.length} finding(s); first at ${
            brokenAt?.position !== null && brokenAt?.position !== undefined
              ? `event ${brokenAt.position} (${brokenAt.stage} ${brokenAt.action})`
              : (brokenAt?.at ?? 'an unnamed event')
          }.`;
  return {
    grantId,
    summary: records.summary,
    verdict,
    verdictText,
    brokenAt,
    findings,
    trails: json.trails,
    timeline: json.timeline,
    notifications: json.timeline.filter((t) => t.action === 'NOTIFIED'),
    statuses: records.statuses,
    deadLetters: records.deadLetters,
    undecodable,
    evidenceHtml: html,
  };
}
