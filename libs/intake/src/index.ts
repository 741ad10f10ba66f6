/**
 * Intake of the JSON form: one line of JSON (the GrantSubmission fields, with
 * timestamps as ISO-8601 or epoch milliseconds and attachment references
 * relative to a base) turned into a GrantSubmission v2 record checked against
 * the contract's zod schema and Avro type, or into every problem found, each
 * naming its field path and, once located, its file and line.
 *
 * Why a library of its own: these are the rules of what the pipeline accepts
 * at its door, not a CLI concern (`grantctl submit` only reads files and
 * produces), and any other feeder of the ingest topic must apply the same
 * ones. It cannot live in `libs/contracts`, which is generated from
 * `schemas/` and holds no policy, nor in `libs/storage` (runtime scope, file
 * I/O on attachment bytes): the conversion is pure (no I/O, no broker, no
 * logger), so it sits in the shared scope and depends on contracts only.
 */
export { resolveAttachmentUri } from './lib/attachment-uri';
export { convertLine, type ConvertContext, type ConvertResult } from './lib/convert-line';
export { fieldPath } from './lib/field-path';
export { formatLineProblem, type FieldProblem, type LineProblem } from './lib/line-problem';
export { loneSurrogateProblems } from './lib/lone-surrogate';
export { parseTimestamp } from './lib/timestamp';
