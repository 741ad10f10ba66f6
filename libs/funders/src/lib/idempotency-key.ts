import { createHash } from 'node:crypto';

/** Marks the derivation, so a future change of scheme cannot collide with keys already at a portal. */
const KEY_PREFIX = 'gs1-';

/**
 * The Idempotency-Key of a submission: deterministic in the grant id and the
 * hash of the payload sent, so every attempt and every redelivery of the same
 * filing carries the same key (a portal files it once), while a corrected
 * payload gets a new key and is filed anew. URL-safe and 47 characters long,
 * within the 64 portals commonly accept.
 */
export function idempotencyKeyOf(grantId: string, payloadHash: string): string {
  const digest = createHash('sha256').update(`${grantId}\n${payloadHash}`, 'utf8').digest();
  return `${KEY_PREFIX}${digest.toString('base64url')}`;
}
