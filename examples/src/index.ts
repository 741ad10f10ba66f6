/**
 * The example batch: a generator of realistic grant applications (most
 * compliant, the rest each with one deliberate defect), their expected
 * outcomes and attachment files, and the writer and checker of the committed
 * copy. No CLI here: the main job and tests import this.
 */
export * from './lib/model';
export {
  DEFAULT_COUNT,
  DEFAULT_SEED,
  DEFECT_COUNT,
  DEFECT_PLAN,
  LONG_FILENAME_LENGTH,
  OVERSIZED_METADATA_KEYS,
  OVERSIZE_BYTES,
  expectedOutcome,
  funderPrefixOf,
  generateExamples,
} from './lib/generate';
export {
  OUTPUT_FILES,
  applicationsJsonl,
  checkExamples,
  expectedJson,
  writeExamples,
  type CheckResult,
  type WrittenExamples,
} from './lib/output';
export { FUNDERS, MEDIA, type FunderFacts, type FunderId } from './lib/funders';

/** The `now` the committed examples/applications.jsonl and expected-outcomes.json are generated for. */
export const COMMITTED_NOW = '2026-12-01T15:00:00Z';
