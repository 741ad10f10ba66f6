import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@grantstream/errors';
import {
  runnerDefaultsSchema,
  stageMemorySchema,
  type RunnerDefaults,
  type StageRunnerConfig,
} from './fragments';
import { memoryBudgetProblems } from './memory-budget';

/**
 * A stage's own runner settings: its consumer group and transactional id
 * prefix, plus any runner default it needs different (e.g. smaller batches
 * for a stage that streams large attachments).
 */
export const stageRunnerOverridesSchema = runnerDefaultsSchema.partial().extend({
  /** Only the memory settings the stage needs different; the rest are the defaults'. */
  memory: stageMemorySchema.partial().optional(),
  groupId: z.string().min(1),
  transactionalIdPrefix: z.string().min(1),
});

/** Parsed {@link stageRunnerOverridesSchema}. */
export type StageRunnerOverrides = z.infer<typeof stageRunnerOverridesSchema>;

/**
 * The runner configuration of one stage: the shared defaults with the stage's
 * overrides on top. Throws a ConfigError when the result cannot keep the
 * stage within its memory budget (see {@link memoryBudgetProblems}): a stage
 * that could outgrow its container refuses to start.
 */
export function stageRunnerConfig(
  defaults: RunnerDefaults,
  overrides: StageRunnerOverrides,
): StageRunnerConfig {
  const config: StageRunnerConfig = {
    ...defaults,
    ...overrides,
    memory: { ...defaults.memory, ...overrides.memory },
  };
  const problems = memoryBudgetProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Where the funders' rule packs live: ingest, normalization and routing read the same packs. */
export const rulesSectionSchema = z.strictObject({
  /** Directory of one YAML rule pack per funder; relative to the working directory. */
  packDir: z.string().min(1),
  /**
   * The local-date cache of the funders' time zones (libs/rules): tables for at
   * most `maxZones` zones of `bucketsPerZone` hour buckets each; absent or 0,
   * every local date is computed by Intl.
   */
  zonedDates: z
    .strictObject({
      maxZones: z.int().min(0),
      bucketsPerZone: z.int().min(0),
    })
    .optional(),
});

/** Parsed {@link rulesSectionSchema}. */
export type RulesSection = z.infer<typeof rulesSectionSchema>;

/**
 * Version of the workspace (package.json), recorded as service_version on
 * every audit event so an auditor can tell which code made a decision.
 */
export const GRANTSTREAM_VERSION: string = (
  JSON.parse(readFileSync(resolve(__dirname, '../../../../package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** Where a stage serves Prometheus metrics; port 0 picks a free one (logged). */
export const metricsEndpointSchema = z.strictObject({
  host: z.string().min(1),
  port: z.int().min(0).max(65535),
});
