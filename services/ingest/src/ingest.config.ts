import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  loadConfigOrExit,
  metricsEndpointSchema,
  platformConfigSchema,
  rulesSectionSchema,
  runnerDefaultsSchema,
  stageRunnerOverridesSchema,
  regexSourceSchema,
} from '@grantstream/config';

const isoInstant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** The setting ingest's handler takes its subscription from (see configuredSubscription). */
export const INGEST_TOPIC_PATTERN_SETTING = 'ingest.topicPattern';

/** The ingest and validation stage's configuration. */
export const ingestConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  rules: rulesSectionSchema,
  ingest: z.strictObject({
    /**
     * Topics ingest reads: every topic whose name matches, including topics
     * created later. One deployment (or one test scenario) narrows it to its
     * own topics, so it never re-reads and re-decides another's records.
     */
    topicPattern: regexSourceSchema,
    runner: stageRunnerOverridesSchema,
    metrics: metricsEndpointSchema,
    storage: z.strictObject({
      /** file:// references must resolve inside one of these directories (symlinks included). */
      fileRoots: z.array(z.string().min(1)).min(1),
      /** Leading bytes of each attachment kept for type sniffing. */
      sniffBytes: z.int().min(512),
      /**
       * Attachments of at most this many bytes are read whole in one read
       * rather than streamed in chunks (0: always streamed).
       */
      wholeReadBytes: z.int().min(0).optional(),
      /** Bounds of the structural check by type (PDF, ZIP containers) made in the same pass. */
      inspect: z.strictObject({
        /** Longest one attachment's inspection may take, reading included. */
        timeoutMs: z.int().positive(),
        pdf: z.strictObject({
          /** Trailing bytes kept to find %%EOF and startxref. */
          tailBytes: z.int().min(1024),
          /** Bytes read where startxref points, to confirm a cross-reference section. */
          xrefProbeBytes: z.int().min(64),
          maxObjectStreams: z.int().positive(),
          maxObjectStreamBytes: z.int().positive(),
          maxInflatedBytes: z.int().positive(),
        }),
        zip: z.strictObject({
          /** Trailing bytes kept: the end record with the longest comment fits in 65,557. */
          tailBytes: z.int().min(65557),
          maxEntries: z.int().positive(),
          maxCentralDirectoryBytes: z.int().positive(),
          maxUncompressedBytes: z.int().positive(),
          maxCompressionRatio: z.number().positive(),
          compressionRatioMinBytes: z.int().nonnegative(),
        }),
      }),
    }),
    limits: z.strictObject({
      grantIdPattern: regexSourceSchema,
      maxMetadataKeys: z.int().positive(),
      maxMetadataKeyLength: z.int().positive(),
      maxMetadataValueChars: z.int().positive(),
      maxMetadataTotalChars: z.int().positive(),
      maxMetadataDepth: z.int().positive(),
      maxArrayItems: z.int().positive(),
      maxAttachments: z.int().positive(),
      /** Deadlines before this instant are unparseable garbage, not late applications. */
      earliestDeadline: isoInstant,
      maxDeadlineAheadDays: z.int().positive(),
    }),
  }),
});

/** Parsed {@link ingestConfigSchema}. */
export type IngestConfig = z.infer<typeof ingestConfigSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadIngestConfig(env: Readonly<Record<string, string | undefined>>): IngestConfig {
  return loadConfigOrExit({ schema: ingestConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}
