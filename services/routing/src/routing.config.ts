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

/** The compliance routing stage's configuration: platform, runner defaults, rule packs and its own section. */
export const routingConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  rules: rulesSectionSchema,
  routing: z.strictObject({
    runner: stageRunnerOverridesSchema,
    metrics: metricsEndpointSchema,
  }),
});

/** Parsed {@link routingConfigSchema}. */
export type RoutingConfig = z.infer<typeof routingConfigSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadRoutingConfig(
  env: Readonly<Record<string, string | undefined>>,
): RoutingConfig {
  return loadConfigOrExit({ schema: routingConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}
