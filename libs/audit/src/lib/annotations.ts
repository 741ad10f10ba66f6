import type { AuditEventV1 } from '@grantstream/contracts';

/**
 * Actions recorded as annotations of the event they point to rather than as
 * steps of the trail: a notification is delivered while the grant moves on
 * (a deadline-risk alert while its retry waits), so its event cannot be the
 * trail's next link without forking it. It must still point to an event of
 * the grant and is hashed like every event; see `ChainLink.annotation`.
 */
export const ANNOTATION_ACTIONS: ReadonlySet<AuditEventV1['action']> = new Set(['NOTIFIED']);
