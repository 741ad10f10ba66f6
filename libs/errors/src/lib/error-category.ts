/**
 * The error categories an audit event or dead letter can carry. The first five
 * are the commissioning guide's; the rest are what real funder portals need.
 * Values are part of the audit and dead-letter contracts: never rename one.
 */
export const ERROR_CATEGORIES = [
  'SCHEMA_VIOLATION',
  'MEMORY_EXHAUSTION',
  'API_RATE_LIMIT',
  'NETWORK_TIMEOUT',
  'COMPLIANCE_BLOCK',
  'FUNDER_REJECTION',
  'DEADLINE_AT_RISK',
  'ATTACHMENT_INVALID',
  'UNKNOWN_FUNDER',
  'CIRCUIT_OPEN',
  'STATUS_UNRESOLVED',
  'CONFIGURATION',
  'INFRASTRUCTURE',
  'INTERNAL',
] as const;

/** One of {@link ERROR_CATEGORIES}. */
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** How much an error matters to a grant team: HIGH for schema and compliance failures. */
export type Impact = 'HIGH' | 'MEDIUM';

const HIGH_IMPACT: ReadonlySet<ErrorCategory> = new Set<ErrorCategory>([
  'SCHEMA_VIOLATION',
  'COMPLIANCE_BLOCK',
]);

/** The impact of a category, as the product defines it (HIGH for schema and compliance). */
export function impactOf(category: ErrorCategory): Impact {
  return HIGH_IMPACT.has(category) ? 'HIGH' : 'MEDIUM';
}
