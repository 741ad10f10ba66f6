/**
 * Reasons normalization records on a FieldChange. Stable strings: reviewers,
 * auditors and dashboards filter on them.
 */
export const CHANGE_REASONS = [
  'MAPPED_FROM_SOURCE',
  'UNICODE_NFC',
  'TRIMMED_WHITESPACE',
  'COLLAPSED_WHITESPACE',
  'CURRENCY_TO_CENTS',
  'NUMBER_TO_TEXT',
  'DATE_TO_ISO8601',
  'EIN_FORMATTED',
  'UEI_UPPERCASED',
  'EMAIL_DOMAIN_LOWERCASED',
  'CODE_UPPERCASED',
  'LIST_JOINED',
  'NOT_PARSEABLE',
  'DROPPED_NULL',
] as const;

/** One of {@link CHANGE_REASONS}. */
export type ChangeReason = (typeof CHANGE_REASONS)[number];
