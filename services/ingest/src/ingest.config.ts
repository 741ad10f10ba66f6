import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  loadConfigOrExit,
  metricsEndpointSchema,
  platformConfigSchema,
  rulesSectionSchema,
  runnerDefaultsSchema,
  stageRunnerOverridesSchema,
} from '@grantstream/config';

const isoInstant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** The ingest and validation stage's configuration. */
export const ingestConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  rules: rulesSectionSchema,
  ingest: z.strictObject({
    runner: stageRunnerOverridesSchema,
    metrics: metricsEndpointSchema,
    storage: z.strictObject({
      /** file:// references must resolve inside one of these directories (symlinks included). */
      fileRoots: z.array(z.string().min(1)).min(1),
      /** Leading bytes of each attachment kept for type sniffing. */
      sniffBytes: z.int().min(512),
    }),
    limits: z.strictObject({
      grantIdPattern: z.string().refine(
        (s) => {
          try {
            new RegExp(s);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      ),
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
