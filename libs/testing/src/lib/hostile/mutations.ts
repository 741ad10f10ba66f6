import { avroLong } from './avro-bytes';
import type { SeededRandom } from './prng';

/** The kinds of damage a property run applies to valid records. */
export const MUTATION_KINDS = [
  'bit-flip',
  'byte-insert',
  'byte-delete',
  'truncate',
  'splice',
  'varint-rewrite',
] as const;

/** One of {@link MUTATION_KINDS}. */
export type MutationKind = (typeof MUTATION_KINDS)[number];

/** A mutated record and how it was made, for the failure message of a property run. */
export interface Mutation {
  kind: MutationKind;
  bytes: Buffer;
  /** What was done where, e.g. `bit 3 of byte 41`. */
  detail: string;
}

/** Values a rewritten varint takes: the edges where decoders go wrong. */
const VARINT_EDGES: readonly bigint[] = [
  0n,
  -1n,
  1n,
  127n,
  128n,
  2n ** 31n - 1n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
];

/** Offsets where a varint starts in `bytes` (a byte whose predecessor has no continuation bit). */
function varintStarts(bytes: Buffer, from: number): number[] {
  const starts: number[] = [];
  for (let i = from; i < bytes.length; i += 1) {
    if (i === from || ((bytes[i - 1] as number) & 0x80) === 0) starts.push(i);
  }
  return starts;
}

function varintEnd(bytes: Buffer, start: number): number {
  let i = start;
  while (i < bytes.length && ((bytes[i] as number) & 0x80) !== 0) i += 1;
  return Math.min(i + 1, bytes.length);
}

/**
 * Damages a framed record in one of six ways. `protect` bytes at the start
 * (the wire header) are left alone by all but truncation and splicing, so
 * most mutations reach the Avro body rather than dying at the magic byte.
 * `other` is a second valid record, the source of a splice.
 */
export function mutate(
  rng: SeededRandom,
  valid: Buffer,
  other: Buffer,
  protect: number,
  kind: MutationKind = rng.pick(MUTATION_KINDS),
): Mutation {
  const span = Math.max(1, valid.length - protect);
  const at = protect + rng.below(span);
  switch (kind) {
    case 'bit-flip': {
      const out = Buffer.from(valid);
      const flips = rng.between(1, 4);
      const where: string[] = [];
      for (let i = 0; i < flips; i += 1) {
        const pos = protect + rng.below(span);
        const bit = rng.below(8);
        out[pos] = (out[pos] as number) ^ (1 << bit);
        where.push(`bit ${bit} of byte ${pos}`);
      }
      return { kind, bytes: out, detail: where.join(', ') };
    }
    case 'byte-insert': {
      const inserted = rng.bytes(rng.between(1, 8));
      return {
        kind,
        bytes: Buffer.concat([valid.subarray(0, at), inserted, valid.subarray(at)]),
        detail: `${inserted.length} byte(s) ${inserted.toString('hex')} at ${at}`,
      };
    }
    case 'byte-delete': {
      const n = Math.min(rng.between(1, 8), valid.length - at);
      return {
        kind,
        bytes: Buffer.concat([valid.subarray(0, at), valid.subarray(at + n)]),
        detail: `${n} byte(s) at ${at}`,
      };
    }
    case 'truncate': {
      const keep = rng.below(valid.length);
      return { kind, bytes: Buffer.from(valid.subarray(0, keep)), detail: `kept ${keep} byte(s)` };
    }
    case 'splice': {
      const cut = rng.below(valid.length + 1);
      const from = rng.below(other.length + 1);
      return {
        kind,
        bytes: Buffer.concat([valid.subarray(0, cut), other.subarray(from)]),
        detail: `first ${cut} byte(s) of one record, then another's from ${from}`,
      };
    }
    case 'varint-rewrite': {
      const starts = varintStarts(valid, protect);
      const start = starts.length > 0 ? rng.pick(starts) : protect;
      const end = varintEnd(valid, start);
      const value = rng.pick(VARINT_EDGES);
      return {
        kind,
        bytes: Buffer.concat([valid.subarray(0, start), avroLong(value), valid.subarray(end)]),
        detail: `varint at ${start} rewritten to ${value}`,
      };
    }
  }
}
