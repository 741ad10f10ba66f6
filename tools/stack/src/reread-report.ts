import type { AuditEventV1 } from '@grantstream/contracts';
import { DUPLICATE_OF_TRAIL_DETAIL, isDuplicateEvent } from '@grantstream/audit';
import type { Destination } from '@grantstream/harness';

/** What the re-read drill found, and whether it proves the guarantee. */
export interface RereadReport {
  ok: boolean;
  /** Records the drill's fresh ingest group read from the topic's beginning. */
  reRead: number;
  /** Where routing sent each re-read grant this time. */
  outcomes: Record<Destination, number>;
  /** Re-read grants with no routing outcome within the timeout. */
  missing: string[];
  /** Forwarded grants that submission recorded as duplicates of an earlier trail. */
  duplicates: number;
  /** Forwarded grants that submission decided on otherwise (filed, retried, dead-lettered). */
  notDuplicate: { grantId: string; action: string }[];
  /** Forwarded grants with no submission decision within the timeout. */
  undecided: string[];
  /** Submissions the funder portals received during the drill (POSTs). */
  portalFilings: number;
}

/**
 * The drill's verdict, from what it read: routing's outcome of every re-read
 * grant, the audit events submission wrote for the forwarded ones since the
 * drill began, and the portals' count of filings. The guarantee holds when
 * every re-read grant reached an outcome, every forwarded one was recorded as
 * a duplicate linking an earlier trail, and no portal was sent anything.
 */
export function rereadReport(input: {
  reRead: number;
  outcomes: ReadonlyMap<string, { destination: Destination }>;
  missing: readonly string[];
  submissionEvents: ReadonlyMap<string, readonly AuditEventV1[]>;
  portalFilings: number;
}): RereadReport {
  const outcomes: Record<Destination, number> = { routed: 0, blocked: 0, dlq: 0 };
  let duplicates = 0;
  const notDuplicate: RereadReport['notDuplicate'] = [];
  const undecided: string[] = [];
  for (const [grantId, { destination }] of input.outcomes) {
    outcomes[destination] += 1;
    if (destination !== 'routed') continue;
    const events = input.submissionEvents.get(grantId) ?? [];
    if (events.length === 0) {
      undecided.push(grantId);
      continue;
    }
    const other = events.find((e) => !isLinkedDuplicate(e));
    if (other) notDuplicate.push({ grantId, action: other.action });
    else duplicates += 1;
  }
  return {
    ok:
      input.missing.length === 0 &&
      undecided.length === 0 &&
      notDuplicate.length === 0 &&
      input.portalFilings === 0,
    reRead: input.reRead,
    outcomes,
    missing: [...input.missing],
    duplicates,
    notDuplicate,
    undecided,
    portalFilings: input.portalFilings,
  };
}

/** A duplicate decision that names the trail it duplicates. */
function isLinkedDuplicate(event: AuditEventV1): boolean {
  return isDuplicateEvent(event) && (event.details[DUPLICATE_OF_TRAIL_DETAIL] ?? '') !== '';
}
