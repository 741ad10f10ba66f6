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

/** The normalization stage's configuration: platform, runner defaults, rule packs and its own section. */
export const normalizationConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  rules: rulesSectionSchema,
  normalization: z.strictObject({
    runner: stageRunnerOverridesSchema,
    metrics: metricsEndpointSchema,
    /** Version of the normalization code's rules, recorded on every NormalizedGrant and audit event. */
    normalizerVersion: z.string().min(1),
  }),
});

/** Parsed {@link normalizationConfigSchema}. */
export type NormalizationConfig = z.infer<typeof normalizationConfigSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadNormalizationConfig(
  env: Readonly<Record<string, string | undefined>>,
): NormalizationConfig {
  return loadConfigOrExit({ schema: normalizationConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}
