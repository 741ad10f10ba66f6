import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inspectAttachment } from '../inspect-attachment';
import { goodDocx, goodPdf, goodXlsx, javascriptPdf } from './attachment-bytes.fixture';
import type { StructureLimits } from './structure';

const LIMITS: StructureLimits = {
  timeoutMs: 10_000,
  pdf: {
    tailBytes: 4096,
    xrefProbeBytes: 256,
    maxObjectStreams: 4,
    maxObjectStreamBytes: 65_536,
    maxInflatedBytes: 262_144,
  },
  zip: {
    tailBytes: 65_557,
    maxEntries: 100,
    maxCentralDirectoryBytes: 65_536,
    maxUncompressedBytes: 10_000_000,
    maxCompressionRatio: 200,
    compressionRatioMinBytes: 1_048_576,
  },
};

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function mutate(bytes: Buffer, next: () => number): Buffer {
  const out = Buffer.from(bytes);
  const edits = 1 + Math.floor(next() * 8);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * out.length);
    out[at] = Math.floor(next() * 256);
  }
  // Sometimes cut the file short or at a random point at both ends.
  const cut = next();
  if (cut < 0.2) return out.subarray(0, Math.floor(next() * out.length));
  if (cut < 0.3) return out.subarray(Math.floor(next() * 16));
  return out;
}

describe('random damage to real attachments', () => {
  it('never throws, hangs or reads out of bounds: every run ends with facts', async () => {
    const originals = [
      await goodPdf(),
      await goodPdf({ objectStreams: true }),
      await javascriptPdf({ objectStreams: true }),
      goodXlsx(),
      goodDocx(),
    ];
    const range = (bytes: Buffer) => (start: number, length: number) =>
      Promise.resolve(bytes.subarray(start, start + length));
    let findings = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const next = random(seed);
      const original = originals[seed % originals.length] ?? Buffer.alloc(0);
      const bytes = mutate(original, next);
      const chunk = 1 + Math.floor(next() * 300);
      const pieces: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += chunk) pieces.push(bytes.subarray(at, at + chunk));
      const result = await inspectAttachment(Readable.from(pieces), {
        maxBytes: 10_000_000,
        sniffBytes: 1024,
        structure: { limits: LIMITS, readRange: range(bytes) },
      });
      expect(result.size_bytes, `seed ${seed}`).toBe(bytes.length);
      findings += result.findings.length;
    }
    // Damage is found often enough that the checks are not asleep.
    expect(findings).toBeGreaterThan(50);
  });
});
