/**
 * The funder id of a grant: the part of its id before the first '-'
 * (`NSF-2026-00042` -> `NSF`). Per-funder rate limits and rule packs key on it.
 * Throws for an id without a funder prefix, because routing such a grant to a
 * guessed funder would be worse than dead-lettering it.
 */
export function funderIdOf(grantId: string): string {
  const funder = funderIdOrNull(grantId);
  if (funder === null) {
    throw new Error(`grant id '${grantId}' has no funder prefix (expected <FUNDER>-...)`);
  }
  return funder;
}

/** {@link funderIdOf} for code that judges the id itself: null when there is no `<FUNDER>-` prefix. */
export function funderIdOrNull(grantId: string): string | null {
  const dash = grantId.indexOf('-');
  return dash > 0 ? grantId.slice(0, dash) : null;
}

/**
 * The funder a grant is counted under in reports and summaries: the letters
 * and digits before the first other character, so a malformed id such as
 * `NSF_2026_1` still counts under NSF; `(none)` when there are none.
 */
export function funderPrefixOf(grantId: string): string {
  return /^[A-Za-z0-9]+/.exec(grantId)?.[0] ?? '(none)';
}

/** The schema-registry subject of a topic's values (Confluent TopicNameStrategy). */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}
