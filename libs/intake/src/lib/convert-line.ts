import {
  GrantSubmissionV2Avro,
  GrantSubmissionV2Schema,
  avroTypeFor,
  type GrantSubmissionV2,
} from '@grantstream/contracts';
import { resolveAttachmentUri } from './attachment-uri';
import { fieldPath } from './field-path';
import type { FieldProblem } from './line-problem';
import { loneSurrogateProblems } from './lone-surrogate';
import { parseTimestamp } from './timestamp';

/** Context of converting one JSON line. */
export interface ConvertContext {
  /** Directory relative attachment URIs are resolved against. */
  attachmentsBase: string;
  /** audit_timestamp of lines that carry none (epoch ms). */
  now: number;
}

/** Result of converting one JSON line: the record, or every problem found. */
export type ConvertResult =
  | { ok: true; grantId: string; record: GrantSubmissionV2 }
  | { ok: false; grantId: string | null; problems: FieldProblem[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const avroType = avroTypeFor(GrantSubmissionV2Avro);

/**
 * Converts one line of the JSON form into a GrantSubmission v2 record and
 * validates it with the zod contract and the Avro type: timestamps may be
 * ISO-8601 or epoch ms, audit_timestamp defaults to `now`, optional fields to
 * null, and relative attachment URIs are resolved (see {@link resolveAttachmentUri}).
 * A string with a lone UTF-16 surrogate is refused (see {@link loneSurrogateProblems}).
 */
export function convertLine(text: string, ctx: ConvertContext): ConvertResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      grantId: null,
      problems: [{ field: '(root)', message: `not valid JSON (${(err as Error).message})` }],
    };
  }
  if (!isObject(parsed)) {
    return {
      ok: false,
      grantId: null,
      problems: [{ field: '(root)', message: 'expected a JSON object' }],
    };
  }
  const grantId = typeof parsed['grant_id'] === 'string' ? parsed['grant_id'] : null;
  const problems: FieldProblem[] = loneSurrogateProblems(parsed);
  const reported = new Set(problems.map((p) => p.field));
  const candidate: Record<string, unknown> = { ...parsed };

  for (const field of ['submission_deadline', 'audit_timestamp'] as const) {
    const value = parsed[field];
    if (field === 'audit_timestamp' && (value === undefined || value === null)) {
      candidate[field] = ctx.now;
      continue;
    }
    if (reported.has(field)) {
      // Already refused for its surrogate; one problem per field is enough.
      candidate[field] = 0;
      continue;
    }
    const ms =
      value === undefined
        ? 'required: an ISO-8601 date-time with a UTC offset or epoch milliseconds'
        : parseTimestamp(value);
    if (typeof ms === 'string') {
      problems.push({ field, message: ms });
      // A placeholder, so the schema check does not report the same field twice.
      candidate[field] = 0;
    } else {
      candidate[field] = ms;
    }
  }

  if (Array.isArray(parsed['attachments'])) {
    candidate['attachments'] = parsed['attachments'].map((a: unknown) =>
      isObject(a) && typeof a['uri'] === 'string'
        ? { ...a, uri: resolveAttachmentUri(a['uri'], ctx.attachmentsBase) }
        : a,
    );
  }

  const result = GrantSubmissionV2Schema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push({ field: fieldPath(issue.path), message: issue.message });
    }
  }
  if (problems.length > 0 || !result.success) return { ok: false, grantId, problems };

  const record = result.data;
  avroType.isValid(record, {
    errorHook: (path, value) =>
      problems.push({
        field: fieldPath(path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))),
        message: `not a valid Avro value for GrantSubmission v2 (${JSON.stringify(value) ?? String(value)})`,
      }),
  });
  if (problems.length > 0) return { ok: false, grantId, problems };
  return { ok: true, grantId: record.grant_id, record };
}
