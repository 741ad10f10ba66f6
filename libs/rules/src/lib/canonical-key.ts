/**
 * Canonical form of a metadata key, so parsers that write "Project Title",
 * "project-title" or "projectTitle" all reach the same rule-pack field:
 * NFC, trimmed, camelCase split into words, lower-cased, and every run of
 * characters that are not letters or digits turned into one "_" (none at the ends).
 */
export function canonicalKey(key: string): string {
  let canonical = memo.get(key);
  if (canonical === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    canonical = compute(key);
    memo.set(key, canonical);
  }
  return canonical;
}

/**
 * Parsers reuse a small vocabulary of keys, and every grant's keys are
 * matched against every field source: remember the answers, within a bound
 * so hostile metadata cannot grow the table without limit.
 */
const MEMO_LIMIT = 10_000;
const memo = new Map<string, string>();

function compute(key: string): string {
  return key
    .normalize('NFC')
    .trim()
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1_$2')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
}
