import type { StructureLimits } from '@grantstream/storage';

/**
 * The structural-check bounds of config/grantstream.yaml, fixed here for the
 * ingest specs so a configuration change cannot silently rewrite what the
 * tests judge.
 */
export const FIXTURE_STRUCTURE_LIMITS: StructureLimits = {
  timeoutMs: 120_000,
  pdf: {
    tailBytes: 65_536,
    xrefProbeBytes: 1024,
    maxObjectStreams: 2000,
    maxObjectStreamBytes: 4_194_304,
    maxInflatedBytes: 16_777_216,
  },
  zip: {
    tailBytes: 262_144,
    maxEntries: 10_000,
    maxCentralDirectoryBytes: 4_194_304,
    maxUncompressedBytes: 1_073_741_824,
    maxCompressionRatio: 200,
    compressionRatioMinBytes: 1_048_576,
  },
};
