import { describe, expect, it } from 'vitest';
import { idempotencyKeyOf } from './idempotency-key';

describe('idempotencyKeyOf', () => {
  const hash = 'a'.repeat(64);

  it('gives every attempt of the same grant and payload the same key', () => {
    expect(idempotencyKeyOf('NSF-2026-00042', hash)).toBe(idempotencyKeyOf('NSF-2026-00042', hash));
  });

  it('is pinned: a change of derivation would refile every grant in flight', () => {
    expect(idempotencyKeyOf('NSF-2026-00042', hash)).toBe(
      `gs1-${Buffer.from(
        // sha256("NSF-2026-00042\n" + "a" * 64), from sha256sum, independent of the implementation.
        'ef603fa55f825523454e0a2a765706cc98b273e63c6b5aa93d91893f9451b13f',
        'hex',
      ).toString('base64url')}`,
    );
  });

  it.each([
    ['a changed payload', 'NSF-2026-00042', 'b'.repeat(64)],
    ['another grant', 'NSF-2026-00043', hash],
    ['a different split of the same characters', 'NSF-2026-00042\naaaa', 'a'.repeat(60)],
  ])('gives %s a different key', (_name, grantId, payloadHash) => {
    expect(idempotencyKeyOf(grantId, payloadHash)).not.toBe(
      idempotencyKeyOf('NSF-2026-00042', hash),
    );
  });

  it.each(['NSF-2026-00042', 'ÄÖ-Ü/?&=#', ''])(
    'is URL-safe and at most 64 characters for %j',
    (grantId) => {
      const key = idempotencyKeyOf(grantId, hash);
      expect(key).toMatch(/^gs1-[A-Za-z0-9_-]+$/);
      expect(key.length).toBeLessThanOrEqual(64);
      expect(encodeURIComponent(key)).toBe(key);
    },
  );
});
