import type { AuditEventV1 } from '@grantstream/contracts';

/**
 * Which audit events a replay or export keeps; every given field must match.
 * `from` is inclusive and `to` exclusive (epoch ms on occurred_at), so
 * consecutive windows such as whole days never count an event twice.
 */
export interface AuditFilter {
  grantId?: string;
  /** Matches audit_trail_id: one submission (or re-read) of a grant. */
  trailId?: string;
  funderId?: string;
  stage?: string;
  /** Matches error_category. */
  category?: string;
  /**
   * An AuditActionV1 symbol. Typed as string because it usually comes straight
   * from a command line; a value that is no action simply matches nothing.
   */
  action?: string;
  from?: number;
  to?: number;
}

/** True when `event` satisfies every field set in `filter` (an empty filter keeps everything). */
export function matchesFilter(event: AuditEventV1, filter: AuditFilter): boolean {
  if (filter.grantId !== undefined && event.grant_id !== filter.grantId) return false;
  if (filter.trailId !== undefined && event.audit_trail_id !== filter.trailId) return false;
  if (filter.funderId !== undefined && event.funder_id !== filter.funderId) return false;
  if (filter.stage !== undefined && event.stage !== filter.stage) return false;
  if (filter.category !== undefined && event.error_category !== filter.category) return false;
  if (filter.action !== undefined && event.action !== filter.action) return false;
  if (filter.from !== undefined && event.occurred_at < filter.from) return false;
  if (filter.to !== undefined && event.occurred_at >= filter.to) return false;
  return true;
}
