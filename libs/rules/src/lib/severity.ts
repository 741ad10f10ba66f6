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
