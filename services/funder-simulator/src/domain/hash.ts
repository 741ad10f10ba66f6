/**
 * Maps a text to [0, 1), the same on every run and every machine. Per-grant
 * decisions (validation failure, slow status, agency rejection) use it so a
 * retried submission of the same grant meets the same fate, which random
 * draws could not promise. FNV-1a, then murmur3's finaliser: grant ids differ
 * only in their last digits, and FNV alone leaves those changes in the low bits.
 */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}

/** Purposes of per-grant fractions; each gets its own salt so the decisions are independent. */
export type GrantFractionPurpose =
  | 'validation'
  | 'validation-message'
  | 'slow-status'
  | 'status-reject'
  | 'status-reject-message'
  | 'status-flap';

/** {@link unitHash} of a grant id, salted by what the fraction decides. */
export function grantFraction(grantId: string, purpose: GrantFractionPurpose): number {
  return unitHash(`${purpose}:${grantId}`);
}

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

/**
 * A seeded generator (mulberry32): a run with the same seed and the same
 * requests draws the same server errors, timeouts and latencies.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}
