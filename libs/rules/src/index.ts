/**
 * Funder rule packs: the versioned YAML contract every stage reads (attachment
 * rules at ingest, field sources at normalization, constraints at routing),
 * plus the pure checks the stages share. Only {@link loadRulePacks} does I/O.
 */
export * from './lib/rule-pack';
export { RulePackSet } from './lib/rule-pack-set';
export { loadRulePacks, rulePackProblems } from './lib/load-rule-packs';
export {
  attachmentFindings,
  type AttachmentFacts,
  type AttachmentFinding,
} from './lib/attachments';
export { decisionCategoryOf, severityOf } from './lib/severity';
export { canonicalKey } from './lib/canonical-key';
export {
  businessDaysBetween,
  configureZonedDateCache,
  isCalendarDate,
  localDateOf,
  localDateTimeOf,
  zonedParts,
  type ZonedDateCacheLimits,
  type ZonedParts,
} from './lib/business-days';
