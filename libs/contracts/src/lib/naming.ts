/**
 * The funder id of a grant: the part of its id before the first '-'
 * (`NSF-2026-00042` -> `NSF`). Per-funder rate limits and rule packs key on it.
 * Throws for an id without a funder prefix, because routing such a grant to a
 * guessed funder would be worse than dead-lettering it.
 */
export function funderIdOf(grantId: string): string {
  const dash = grantId.indexOf('-');
  if (dash <= 0) {
    throw new Error(`grant id '${grantId}' has no funder prefix (expected <FUNDER>-...)`);
  }
  return grantId.slice(0, dash);
}

/** The schema-registry subject of a topic's values (Confluent TopicNameStrategy). */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}
