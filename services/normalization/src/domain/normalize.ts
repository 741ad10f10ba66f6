import type {
  FieldChangeV1,
  MetadataValue,
  NormalizedGrantV2,
  ValidatedGrantV3,
} from '@grantstream/contracts';
import { type RulePack, canonicalKey } from '@grantstream/rules';
import { type PresentValue, parseFieldValue } from './field-parsers';

/** What normalization needs besides the grant and its funder's pack. */
export interface NormalizeContext {
  /** Version of this normalizer; the pack's version is appended to it. */
  normalizerVersion: string;
  /** When normalization runs, epoch milliseconds UTC. */
  now: number;
}

/** One submitted value, under its original key and its canonical key. */
interface Source {
  key: string;
  canonical: string;
  value: MetadataValue;
  consumed: boolean;
}

/**
 * The v2 top-level fields act as metadata keys and come first, so they win
 * over a metadata entry of the same name; the loser is still carried.
 */
function sourcesOf(input: ValidatedGrantV3): Source[] {
  const { submission } = input;
  const sources: Source[] = [];
  const topLevel: Array<[string, string | null]> = [
    ['program_code', submission.program_code],
    ['applicant_ein', submission.applicant_ein],
  ];
  for (const [key, value] of topLevel) {
    if (value !== null) sources.push({ key, canonical: key, value, consumed: false });
  }
  for (const [key, value] of Object.entries(submission.metadata)) {
    sources.push({ key, canonical: canonicalKey(key), value, consumed: false });
  }
  return sources;
}

const isBlank = (v: PresentValue) =>
  (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);

/**
 * The first non-null source in `from` order. A blank value gives way to a
 * later non-blank source (a parser emitting `title: ""` next to a real
 * `project_title` should not empty the field), but is used when nothing better exists.
 */
function pickSource(sources: readonly Source[], from: readonly string[]): Source | undefined {
  let blank: Source | undefined;
  for (const key of from.map(canonicalKey)) {
    for (const s of sources) {
      if (s.consumed || s.canonical !== key || s.value === null) continue;
      if (!isBlank(s.value)) return s;
      blank ??= s;
    }
  }
  return blank;
}

function carriedText(value: PresentValue): string {
  return Array.isArray(value) ? value.join('; ') : String(value);
}

/**
 * Normalizes a validated grant for its funder: each pack field is read from
 * its first present source and parsed to its type's canonical text; every
 * other metadata entry is carried through under its canonical key, so nothing
 * the applicant sent is lost; null entries are omitted. Every change is
 * recorded as a FieldChange, in the order applied, so a reviewer can see why
 * a value differs from the submission. A grant of an unknown funder (no pack)
 * is carried through as text, for routing to reject with the reason.
 *
 * FieldChange conventions: MAPPED_FROM_SOURCE and DROPPED_NULL carry the
 * source key in `before`; value steps carry the value before and after.
 */
export function normalizeGrant(
  input: ValidatedGrantV3,
  pack: RulePack | undefined,
  ctx: NormalizeContext,
): NormalizedGrantV2 {
  const sources = sourcesOf(input);
  const fields: Record<string, string> = {};
  const changes: FieldChangeV1[] = [];

  for (const [name, rule] of Object.entries(pack?.fields ?? {})) {
    const source = pickSource(sources, rule.from);
    if (source === undefined || source.value === null) continue;
    source.consumed = true;
    if (source.key !== name) {
      changes.push({ field: name, before: source.key, after: name, reason: 'MAPPED_FROM_SOURCE' });
    }
    const parsed = parseFieldValue(rule.type, source.value, pack?.time_zone ?? 'UTC');
    for (const step of parsed.steps) changes.push({ field: name, ...step });
    fields[name] = parsed.value;
  }

  const taken = new Set(Object.keys(pack?.fields ?? {}));
  for (const source of sources) {
    if (source.consumed) continue;
    const base = source.canonical || 'unnamed';
    if (source.value === null) {
      changes.push({ field: base, before: source.key, after: null, reason: 'DROPPED_NULL' });
      continue;
    }
    const name = freeName(base, taken);
    taken.add(name);
    if (source.key !== name) {
      changes.push({ field: name, before: source.key, after: name, reason: 'MAPPED_FROM_SOURCE' });
    }
    fields[name] = carriedText(source.value);
  }

  return {
    grant_id: input.grant_id,
    funder_id: input.funder_id,
    funder_portal: input.submission.funder_portal.normalize('NFC').trim(),
    submission_deadline: input.submission.submission_deadline,
    audit_trail_id: input.audit_trail_id,
    // The application's identity travels unchanged to submission, which files each content once.
    content_hash: input.content_hash,
    normalized_fields: fields,
    field_changes: changes,
    attachments: input.verified_attachments,
    normalizer_version: `${ctx.normalizerVersion}+${pack?.version ?? 'none'}`,
    normalized_at: ctx.now,
  };
}

/** A carried key never overwrites a pack field or an earlier carried key. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  const extra = `extra_${base}`;
  if (!taken.has(extra)) return extra;
  let n = 2;
  while (taken.has(`${extra}_${n}`)) n++;
  return `${extra}_${n}`;
}
