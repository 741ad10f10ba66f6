/** One content of a grant that submission accepted for filing (an item of the content-state changelog). */
export interface AcceptedContent {
  /** Ingest's content hash (the body hash for a record written before there was one). */
  contentHash: string;
  /** The portal body's hash without the trail id (see PortalRequest.bodyHash). */
  bodyHash: string;
  /** The trail that carried it: what a later duplicate or resubmission links to. */
  auditTrailId: string;
  idempotencyKey: string;
  acceptedAt: number;
}

/**
 * What submission does with a routed grant, given the contents already
 * accepted for its grant id:
 * - `first`: nothing accepted yet: file it;
 * - `resubmission`: new content for a grant accepted before: file it, linked
 *   to the trail of the grant's latest accepted content;
 * - `duplicate`: this content was accepted before on another trail: record
 *   it, file nothing;
 * - `redelivery`: this very trail was accepted (a retried handling, a
 *   redriven dead letter, another copy of the trail's routed record): go on
 *   filing exactly as the first time (the key it was accepted with, the same
 *   link), without a new state entry.
 */
export type ContentDecision =
  | { kind: 'first' }
  | { kind: 'resubmission'; previous: AcceptedContent }
  | { kind: 'duplicate'; of: AcceptedContent }
  | { kind: 'redelivery'; own: AcceptedContent; previous: AcceptedContent | null };

/** What identifies a routed grant's content: ingest's content hash and the body it would file. */
export interface ContentIdentity {
  contentHash: string;
  bodyHash: string;
}

/**
 * Decides on a routed grant's content against its accepted history (oldest
 * first). Every accepted content counts, not only the latest: a new consumer
 * group re-reading an ingest topic meets a grant's first content after its
 * resubmission was accepted, and must not take the older one for a change.
 * Content matches on either hash: the same application (content hash), or
 * the same document to file (body hash), which also recognises a record
 * written before content hashes existed. A redelivery is judged against the
 * history before its own entry, so it repeats its first decision (and
 * rebuilds the same audit events).
 */
export function decideContent(
  history: readonly AcceptedContent[],
  content: ContentIdentity,
  auditTrailId: string,
): ContentDecision {
  const index = history.findIndex((c) => c.auditTrailId === auditTrailId);
  const own = history[index];
  if (own) return { kind: 'redelivery', own, previous: history[index - 1] ?? null };
  const same = history.find(
    (c) => c.contentHash === content.contentHash || c.bodyHash === content.bodyHash,
  );
  if (same) return { kind: 'duplicate', of: same };
  const previous = history[history.length - 1];
  return previous ? { kind: 'resubmission', previous } : { kind: 'first' };
}

/**
 * The history after accepting `content`: appended, the oldest dropped beyond
 * `maxContents` (a bound on state per grant; a content dropped from it would
 * be taken for new again if it ever came back).
 */
export function withAccepted(
  history: readonly AcceptedContent[],
  content: AcceptedContent,
  maxContents: number,
): AcceptedContent[] {
  const next = [...history, content];
  return next.slice(Math.max(0, next.length - maxContents));
}
