import { createHash } from 'node:crypto';
import type { RedriveReport } from '@grantstream/dead-letters';
import type { DeadLetterQuery, StoredDeadLetter } from '@grantstream/read-model';

/** The dead letters a filter selects for a redrive, or why the set is refused. */
export type RedriveSelection =
  | { kind: 'set'; letters: StoredDeadLetter[] }
  | { kind: 'too-large'; maxSetSize: number };

/**
 * The set a filter selects, in dead-letter order (partition, offset: the
 * order they failed in on each partition), read with one row more than
 * `maxSetSize` so a larger set is known without reading it all.
 */
export function selectForRedrive(
  search: (q: DeadLetterQuery) => StoredDeadLetter[],
  filter: Omit<DeadLetterQuery, 'limit'>,
  maxSetSize: number,
): RedriveSelection {
  const rows = search({ ...filter, limit: maxSetSize + 1 });
  if (rows.length > maxSetSize) return { kind: 'too-large', maxSetSize };
  const order = (d: StoredDeadLetter) => [d.partition, BigInt(d.offset)] as const;
  return {
    kind: 'set',
    letters: [...rows].sort((a, b) => {
      const [pa, oa] = order(a);
      const [pb, ob] = order(b);
      return pa - pb || (oa < ob ? -1 : oa > ob ? 1 : 0);
    }),
  };
}

/**
 * The fingerprint of a dry run: the filter and force it was taken with,
 * which dead letters would go and which are refused and why. A confirmation
 * carries the fingerprint of the preview the operator saw; the console
 * redrives only when a fresh dry run has the same one, so the set sent is
 * the set previewed (a dead letter arrived, redriven elsewhere or a refusal
 * changed meanwhile makes them differ). Not a secret: it only names a set.
 */
export function previewFingerprint(
  filter: Omit<DeadLetterQuery, 'limit'>,
  force: boolean,
  preview: RedriveReport,
): string {
  const canonical = JSON.stringify({
    filter: Object.entries(filter)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
    force,
    send: preview.redriven.map((r) => [r.entry.position, r.toTopic]),
    refused: preview.skipped.map((s) => [s.entry.position, s.reason]),
  });
  return createHash('sha256').update(canonical).digest('hex');
}
