import type { FieldRule, FlagCode, RulePack, Severity } from './rule-pack';
import { DEFAULT_SEVERITIES } from './rule-pack';

/**
 * Severity of a finding for one funder: the field's own override wins over the
 * pack-wide override, which wins over {@link DEFAULT_SEVERITIES}; a funder can
 * so soften one field's rule without softening the code everywhere.
 */
export function severityOf(pack: RulePack, code: FlagCode, field?: FieldRule): Severity {
  return field?.severity?.[code] ?? pack.severities[code] ?? DEFAULT_SEVERITIES[code];
}

/**
 * The error category a routing decision is recorded under: null when no flag
 * is CRITICAL (FORWARD), UNKNOWN_FUNDER when the funder had no rule pack,
 * COMPLIANCE_BLOCK for any other block. The routing stage writes it on the
 * audit event; reports derive it from the blocked record's flags the same way.
 */
export function decisionCategoryOf(
  flags: readonly { code: string; severity: Severity }[],
): 'UNKNOWN_FUNDER' | 'COMPLIANCE_BLOCK' | null {
  const critical = flags.filter((f) => f.severity === 'CRITICAL');
  if (critical.length === 0) return null;
  return critical.some((f) => f.code === 'UNKNOWN_FUNDER') ? 'UNKNOWN_FUNDER' : 'COMPLIANCE_BLOCK';
}
