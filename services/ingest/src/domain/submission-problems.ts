import { funderIdOrNull, type GrantSubmissionV2 } from '@grantstream/contracts';
import type { InputProblem } from '@grantstream/errors';
import type { IngestLimits } from './ingest-limits';

/** Why a submission is refused before its attachments are looked at, and every problem found. */
export interface SubmissionVerdict {
  /**
   * UNKNOWN_FUNDER only when that is the sole problem: a well-formed grant for
   * a funder we have no rule pack for is a configuration question, while any
   * other problem means the producer sent a broken record.
   */
  category: 'SCHEMA_VIOLATION' | 'UNKNOWN_FUNDER';
  problems: InputProblem[];
}

/** What {@link submissionProblems} judges against. */
export interface SubmissionContext {
  limits: IngestLimits;
  /** Funder ids with a rule pack. */
  knownFunders: ReadonlySet<string>;
  /** Current time, epoch ms. */
  now: number;
}

const DAY_MS = 86_400_000;
const MAX_EXAMPLES = 3;
const count = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`): string =>
  `${count(n)} ${n === 1 ? one : many}`;

/** A bounded, quoted excerpt of input text for messages: inputs can be huge or hostile. */
function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

function isoOf(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

const compiledPatterns = new Map<string, RegExp>();

/** The configured grant-id pattern, anchored and compiled once rather than per submission. */
function grantIdRegExp(source: string): RegExp {
  let pattern = compiledPatterns.get(source);
  if (!pattern) {
    // No 'u' flag: the configuration validates the pattern without it.
    pattern = new RegExp(`^(?:${source})$`);
    compiledPatterns.set(source, pattern);
  }
  return pattern;
}

function grantIdProblems(
  grantId: string,
  ctx: SubmissionContext,
): { format?: InputProblem; unknownFunder?: InputProblem } {
  const pattern = grantIdRegExp(ctx.limits.grantIdPattern);
  const funder = funderIdOrNull(grantId);
  if (!pattern.test(grantId) || funder === null) {
    return {
      format: {
        code: 'GRANT_ID_FORMAT',
        message: `grant id ${quote(grantId)} does not match the required format ${ctx.limits.grantIdPattern}`,
        field: 'grant_id',
      },
    };
  }
  // Only a well-formed id names a funder worth looking up.
  if (ctx.knownFunders.has(funder)) return {};
  return {
    unknownFunder: {
      code: 'UNKNOWN_FUNDER',
      message: `grant id ${quote(grantId)} names funder ${quote(funder)}, which has no rule pack`,
      field: 'grant_id',
    },
  };
}

function deadlineProblem(deadline: number, ctx: SubmissionContext): InputProblem | null {
  const { earliestDeadline, maxDeadlineAheadDays } = ctx.limits;
  const latest = ctx.now + maxDeadlineAheadDays * DAY_MS;
  let reason: string | null = null;
  if (!Number.isSafeInteger(deadline)) {
    reason = `${deadline} is not a whole number of epoch milliseconds`;
  } else if (deadline < earliestDeadline) {
    reason = `${deadline} (${isoOf(deadline)}) is before ${isoOf(earliestDeadline)}, the earliest deadline accepted; it is unset or not in milliseconds`;
  } else if (deadline > latest) {
    reason = `${deadline} (${isoOf(deadline)}) is more than ${maxDeadlineAheadDays} days ahead; it is not in milliseconds or not a real deadline`;
  }
  // A deadline that has passed is not ingest's business: compliance routing flags it.
  return reason === null
    ? null
    : {
        code: 'DEADLINE_UNPARSEABLE',
        message: `submission_deadline ${reason}`,
        field: 'submission_deadline',
      };
}

/** Occurrences of one kind of metadata problem, reported once with a count and a few keys. */
class Tally {
  count = 0;
  worst = 0;
  readonly keys: string[] = [];

  add(key: string, measure: number): void {
    this.count += 1;
    this.worst = Math.max(this.worst, measure);
    if (this.keys.length < MAX_EXAMPLES && !this.keys.includes(key)) this.keys.push(key);
  }

  /** `"a", "b" and 3 more` */
  examples(): string {
    const shown = this.keys.map((k) => quote(k)).join(', ');
    const rest = this.count - this.keys.length;
    return rest > 0 ? `${shown} and ${count(rest)} more` : shown;
  }
}

interface MetadataScan {
  totalChars: number;
  longKeys: Tally;
  longValues: Tally;
  longArrays: Tally;
  tooDeep: Tally;
}

/**
 * Measures one value under `key`. Recursion is generic (arrays and objects
 * alike), so a nested value the contract does not allow is still measured, and
 * it stops one level past the limit so hostile nesting cannot exhaust the stack.
 */
function scanValue(
  key: string,
  value: unknown,
  level: number,
  limits: IngestLimits,
  scan: MetadataScan,
): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string') {
    scan.totalChars += value.length;
    if (value.length > limits.maxMetadataValueChars) scan.longValues.add(key, value.length);
    return;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    scan.totalChars += String(value).length;
    return;
  }
  if (typeof value !== 'object') return;
  const childLevel = level + 1;
  if (childLevel > limits.maxMetadataDepth) {
    scan.tooDeep.add(key, childLevel);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > limits.maxArrayItems) scan.longArrays.add(key, value.length);
    for (const item of value as unknown[]) scanValue(key, item, childLevel, limits, scan);
    return;
  }
  for (const [innerKey, inner] of Object.entries(value)) {
    scan.totalChars += innerKey.length;
    scanValue(key, inner, childLevel, limits, scan);
  }
}

function metadataProblems(metadata: Record<string, unknown>, limits: IngestLimits): InputProblem[] {
  const problems: InputProblem[] = [];
  const field = 'metadata';
  const keys = Object.keys(metadata);
  if (keys.length > limits.maxMetadataKeys) {
    problems.push({
      code: 'METADATA_TOO_MANY_KEYS',
      message: `metadata has ${plural(keys.length, 'key')}; at most ${count(limits.maxMetadataKeys)} are accepted`,
      field,
    });
  }
  const scan: MetadataScan = {
    totalChars: 0,
    longKeys: new Tally(),
    longValues: new Tally(),
    longArrays: new Tally(),
    tooDeep: new Tally(),
  };
  for (const key of keys) {
    scan.totalChars += key.length;
    if (key.length > limits.maxMetadataKeyLength) scan.longKeys.add(key, key.length);
    scanValue(key, metadata[key], 1, limits, scan);
  }
  const { longKeys, longValues, longArrays, tooDeep } = scan;
  if (longKeys.count > 0) {
    problems.push({
      code: 'METADATA_KEY_TOO_LONG',
      message: `${plural(longKeys.count, 'metadata key is', 'metadata keys are')} longer than ${count(limits.maxMetadataKeyLength)} characters (longest ${count(longKeys.worst)}): ${longKeys.examples()}`,
      field,
    });
  }
  if (longValues.count > 0) {
    problems.push({
      code: 'METADATA_VALUE_TOO_LONG',
      message: `${plural(longValues.count, 'metadata value is', 'metadata values are')} longer than ${count(limits.maxMetadataValueChars)} characters (longest ${count(longValues.worst)}), under ${longValues.examples()}`,
      field,
    });
  }
  if (longArrays.count > 0) {
    problems.push({
      code: 'METADATA_ARRAY_TOO_LONG',
      message: `${plural(longArrays.count, 'metadata array has', 'metadata arrays have')} more than ${count(limits.maxArrayItems)} items (largest ${count(longArrays.worst)}), under ${longArrays.examples()}`,
      field,
    });
  }
  if (tooDeep.count > 0) {
    problems.push({
      code: 'METADATA_TOO_DEEP',
      message: `metadata nests deeper than ${limits.maxMetadataDepth} levels (the map is level 1, each array or object one more), under ${tooDeep.examples()}`,
      field,
    });
  }
  if (scan.totalChars > limits.maxMetadataTotalChars) {
    problems.push({
      code: 'METADATA_TOO_LARGE',
      message: `metadata keys and values total ${count(scan.totalChars)} characters; at most ${count(limits.maxMetadataTotalChars)} are accepted`,
      field,
    });
  }
  return problems;
}

/**
 * Judges the parts of a submission that need no I/O: grant id format and
 * funder, deadline plausibility, funder portal, metadata size and shape.
 * Returns null when nothing is wrong, otherwise every problem found. Attachment
 * references are judged separately ({@link attachmentReferenceProblems}).
 */
export function submissionProblems(
  sub: GrantSubmissionV2,
  ctx: SubmissionContext,
): SubmissionVerdict | null {
  const problems: InputProblem[] = [];
  const { format, unknownFunder } = grantIdProblems(sub.grant_id, ctx);
  if (format) problems.push(format);
  const deadline = deadlineProblem(sub.submission_deadline, ctx);
  if (deadline) problems.push(deadline);
  if (sub.funder_portal.trim() === '') {
    problems.push({
      code: 'FUNDER_PORTAL_EMPTY',
      message: 'funder_portal is empty; it must name the portal the application goes to',
      field: 'funder_portal',
    });
  }
  problems.push(...metadataProblems(sub.metadata, ctx.limits));

  if (problems.length === 0) {
    return unknownFunder ? { category: 'UNKNOWN_FUNDER', problems: [unknownFunder] } : null;
  }
  // The error's code is the first problem's, so the schema problem leads.
  return {
    category: 'SCHEMA_VIOLATION',
    problems: unknownFunder ? [...problems, unknownFunder] : problems,
  };
}
