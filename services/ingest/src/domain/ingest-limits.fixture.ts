import type { IngestLimits } from './ingest-limits';

/**
 * The limits of config/grantstream.yaml, fixed here for the ingest specs so a
 * configuration change cannot silently rewrite what the tests judge.
 */
export const FIXTURE_LIMITS: IngestLimits = {
  grantIdPattern: '^[A-Z][A-Z0-9]{1,15}-[0-9]{4}-[0-9]{5}(-[A-Z0-9]{1,16})?$',
  maxMetadataKeys: 500,
  maxMetadataKeyLength: 128,
  maxMetadataValueChars: 20_000,
  maxMetadataTotalChars: 200_000,
  maxMetadataDepth: 2,
  maxArrayItems: 200,
  maxAttachments: 50,
  earliestDeadline: Date.UTC(2000, 0, 1),
  maxDeadlineAheadDays: 1095,
};
