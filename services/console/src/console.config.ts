import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  orExitOnConfigError,
  platformConfigSchema,
  rulesSectionSchema,
} from '@grantstream/config';
import { SERVICE_DECLARATIONS } from '@grantstream/contracts';
import { readModelSectionSchema } from '@grantstream/read-model';

const homePath = z
  .string()
  .min(1)
  .transform((p) => (p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : p));

/** The console's own section: where it listens, who may sign in, sessions, pages, redrive rules, its read model. */
export const consoleSectionSchema = z.strictObject({
  /** Loopback by default: the console shows every grant; expose it only behind a proxy with TLS. */
  host: z.string().min(1),
  port: z.int().min(0).max(65535),
  /**
   * The local users file: JSON `[{ "username", "role", "passwordHash" }]`,
   * hashes from `tsx services/console/src/hash-password.ts`. A path, never
   * the users themselves: no password hash sits in a config file.
   */
  usersFile: homePath,
  /** scrypt cost of new hashes (hash-password); a stored hash carries its own parameters. */
  scrypt: z.strictObject({
    cost: z.int().min(1024),
    blockSize: z.int().min(1),
    parallelization: z.int().min(1),
    keyBytes: z.int().min(16),
    saltBytes: z.int().min(16),
    /** Largest memory one hash may take (Node refuses costlier ones). */
    maxMemoryBytes: z.int().positive(),
  }),
  session: z.strictObject({
    cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/),
    /** A session ends this long after sign-in, whatever its use. */
    ttlMs: z.int().positive(),
    /** Sessions held at once at most; the oldest ends first. */
    maxSessions: z.int().min(1),
    /** Set the cookie's Secure flag: on wherever the console is reached over HTTPS. */
    secureCookie: z.boolean(),
    tokenBytes: z.int().min(16),
  }),
  /** Largest request body read (a form or JSON); a larger one is refused with 413. */
  maxBodyBytes: z.int().min(1024),
  /** Rows a search or list page shows at most. */
  pageSize: z.int().min(1),
  /** Bytes of an undecodable value shown as hex at most. */
  maxHexBytes: z.int().min(16),
  /** Operator redrive of dead letters (grantctl's rules, shared through libs/dead-letters). */
  redrive: z.strictObject({
    /** The console's own transactional id: grantctl's would fence it, and it grantctl. */
    transactionalId: z.string().min(1),
    /**
     * Dead letters one filtered redrive may select at most: a larger set is
     * refused before its preview, and the filter must be narrowed.
     */
    maxSetSize: z.int().min(1),
  }),
  readModel: readModelSectionSchema,
  /** The pipeline page: how often the stages are asked, and how long an answer may take. */
  pipeline: z.strictObject({
    refreshMs: z.int().positive(),
    probeTimeoutMs: z.int().positive(),
    /** Per stage, its replicas' base URLs; a stage not named is asked at its own metrics endpoint. */
    replicas: z.record(z.string(), z.array(z.url()).min(1)),
  }),
  /** The funders page: which grants it lists as at risk of missing their deadline. */
  funders: z.strictObject({
    /**
     * Business days a funder without a rule pack is taken to need: an unfiled
     * grant with no more left is at risk (a pack says its own, deadline.buffer_business_days).
     */
    defaultBufferBusinessDays: z.int().nonnegative(),
    /** An unfiled grant whose deadline passed at most this long ago stays listed, as passed. */
    passedDeadlineWindowMs: z.int().positive(),
    /** Grants at risk listed per funder at most. */
    maxAtRisk: z.int().min(1),
  }),
  /**
   * The charts' samples, kept by the console from the scrapes the pipeline
   * page makes: one point per sampleIntervalMs at most, the last maxSamples
   * per series (sampleIntervalMs x maxSamples is the span a chart shows).
   */
  charts: z.strictObject({
    sampleIntervalMs: z.int().positive(),
    maxSamples: z.int().min(2),
  }),
});

/** Parsed {@link consoleSectionSchema}. */
export type ConsoleSection = z.infer<typeof consoleSectionSchema>;

/** The console's configuration: platform (broker, registry, logging), the dead-letter rules, its own section. */
export const consoleConfigSchema = platformConfigSchema.extend({
  dlq: z.object({
    /** Refused unless forced: the payload itself failed (shared with grantctl dlq redrive). */
    refuseCategories: z.array(z.string().min(1)),
    /** Dead letters per redrive transaction (shared with grantctl dlq redrive). */
    redriveBatchSize: z.int().min(1),
  }),
  console: consoleSectionSchema,
  /** The funders' rule packs: each funder's time zone, holidays and deadline buffer. */
  rules: rulesSectionSchema,
  /** The retry tier topics (their lag is each tier's backlog on the funders page). */
  submission: z.object({ retryTopicPattern: z.string().min(1) }),
  /** Where each stage serves /metrics and its probes (its section of the configuration). */
  stageEndpoints: z.record(z.string(), z.object({ host: z.string(), port: z.int() })),
});

/** Parsed {@link consoleConfigSchema}. */
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

/** Loads and checks the console's configuration from the default file, GRANTSTREAM_CONFIG overlays and env overrides. */
export function loadConsoleSettings(
  env: Readonly<Record<string, string | undefined>>,
  files: readonly string[] = [DEFAULT_CONFIG_FILE],
): ConsoleConfig {
  const stages = SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage');
  // The stages' sections are theirs: only their metrics endpoint is read, and
  // gathered under stageEndpoints by stage name.
  const schema = z
    .object({
      ...Object.fromEntries(
        stages.map((s) => [
          s.configSection,
          z.object({ metrics: z.object({ host: z.string(), port: z.int() }) }),
        ]),
      ),
    })
    .transform((sections) => ({
      stageEndpoints: Object.fromEntries(
        stages.map((s) => [
          s.name,
          (sections as Record<string, { metrics: { host: string; port: number } }>)[s.configSection]
            ?.metrics,
        ]),
      ),
    }));
  const { stageEndpoints } = loadConfig({ schema, files, env });
  return consoleConfigSchema.parse({
    ...loadConfig({ schema: consoleConfigSchema.omit({ stageEndpoints: true }), files, env }),
    stageEndpoints,
  });
}

/** Entry-point form of {@link loadConsoleSettings}: every problem is printed and the process exits 2. */
export function loadConsoleConfig(
  env: Readonly<Record<string, string | undefined>>,
): ConsoleConfig {
  return orExitOnConfigError(() => loadConsoleSettings(env));
}

/**
 * The stage replicas the pipeline page asks: those console.pipeline.replicas
 * names, and for every other stage its own metrics endpoint (0.0.0.0 asked
 * on loopback). Stages in flow order.
 */
export function stageReplicasOf(config: ConsoleConfig): { stage: string; url: string }[] {
  return SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage').flatMap((s) => {
    const configured = config.console.pipeline.replicas[s.name];
    if (configured)
      return configured.map((url) => ({ stage: s.name, url: url.replace(/\/$/, '') }));
    const endpoint = config.stageEndpoints[s.name];
    if (!endpoint) return [];
    const host = endpoint.host === '0.0.0.0' ? '127.0.0.1' : endpoint.host;
    return [
      { stage: s.name, url: `http://${host.includes(':') ? `[${host}]` : host}:${endpoint.port}` },
    ];
  });
}
