import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { StackStartError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import { KafkaAdmin, createKafka } from '@grantstream/kafka';
import { kafkaNodes, type KafkaNodeSpec } from '@grantstream/config';
import { ensureKafkaJars, ensureRedis, ensureRegistry } from './artifacts';
import { LOG4J2_YAML, serverProperties } from './kafka-files';
import { redisServerArgs } from './redis-files';
import { listenersInUse } from './ports';
import {
  applyStackAcls,
  ensureSecureFiles,
  isSecured,
  scramFormatArgs,
  secureClientSecurity,
  secureServerProperties,
  stackAccess,
} from './secure-files';
import {
  findJava,
  findProcesses,
  isAlive,
  marker,
  sleep,
  spawnDetached,
  stopProcess,
  tail,
} from './processes';
import type { GrantstreamConfig as StackConfig } from '@grantstream/config';

/** The components of the local stack, in start order. */
export const COMPONENTS = ['kafka', 'registry', 'redis'] as const;
/** One of {@link COMPONENTS}. */
export type Component = (typeof COMPONENTS)[number];

/** State of one component (of one Kafka node when the stack runs several). */
export interface ComponentStatus {
  component: Component;
  /** The Kafka node's id (kafka only). */
  node?: number;
  /** `ready`: its API answers; `starting`: running but not answering; `stopped`: no process. */
  state: 'ready' | 'starting' | 'stopped';
  pids: number[];
  endpoint: string;
  log: string;
}

/** What `up` did for one component. */
export type UpAction = 'already-running' | 'started' | 'restarted';

const POLL_MS = 500;

/** One Kafka node of a stack instance: its ports, files and process marker. */
export interface KafkaNodeLayout extends KafkaNodeSpec {
  dir: string;
  data: string;
  log: string;
  /** The node's own client address (its PLAINTEXT listener). */
  address: string;
}

/**
 * Every Kafka node of the stack, in the folder named after its component: a
 * single node keeps the folder and marker it always had (`kafka`), so an
 * existing stack's data and processes are found.
 */
export function kafkaNodeLayouts(config: StackConfig): KafkaNodeLayout[] {
  const nodes = kafkaNodes(config.stack);
  return nodes.map((n) => {
    const dir = join(config.stack.stateDir, n.component);
    return {
      ...n,
      dir,
      data: join(dir, 'data'),
      log: join(dir, 'kafka.log'),
      address: `${config.stack.host}:${n.port}`,
    };
  });
}

/** Paths of one stack instance. */
function paths(config: StackConfig) {
  const root = config.stack.stateDir;
  return {
    registryDir: join(root, 'registry'),
    registryLog: join(root, 'registry', 'registry.log'),
    registryDb: join(root, 'registry', 'db', 'registry'),
    redisDir: join(root, 'redis'),
    redisLog: join(root, 'redis', 'redis.log'),
  };
}

/** The Confluent-compatible API base of this stack's registry. */
export function registryUrl(config: StackConfig): string {
  return `http://${config.stack.host}:${config.stack.registry.port}/apis/ccompat/v7`;
}

/** The bootstrap address of this stack's (first) broker. */
export function brokerAddress(config: StackConfig): string {
  return `${config.stack.host}:${config.stack.kafka.port}`;
}

/** The plain client address of every broker of this stack. */
export function brokerAddresses(config: StackConfig): string[] {
  return kafkaNodeLayouts(config).map((n) => n.address);
}

/** The address of this stack's Redis. */
export function redisEndpoint(config: StackConfig): string {
  return `redis://${config.stack.host}:${config.stack.redis.port}`;
}

/**
 * The local stack: a real single-node KRaft Kafka, a real Apicurio registry
 * and a real Redis (the funder limiters' shared state), all on loopback.
 */
export class LocalStack {
  constructor(
    private readonly config: StackConfig,
    private readonly log: GrantLogger,
    /** The environment the configuration came from: the secured mode reads each stage's group and transactional ids from it. */
    private readonly env: Readonly<Record<string, string | undefined>> = {},
  ) {}

  /**
   * Brings every component up and waits until each answers its API. A second
   * call is a no-op; a component whose process died is started again.
   */
  async up(): Promise<Record<Component, UpAction>> {
    const kafka = await this.upKafka();
    if (isSecured(this.config))
      await applyStackAcls(this.config, stackAccess(this.config, this.env), this.log);
    const registry = await this.upRegistry();
    const redis = await this.upRedis();
    return { kafka, registry, redis };
  }

  /**
   * Stops every component in reverse start order (the registry before Kafka:
   * it is Kafka's client) and waits until no process is left.
   */
  async down(): Promise<Record<Component, number>> {
    const stopped = { kafka: 0, registry: 0, redis: 0 };
    for (const component of [...COMPONENTS].reverse()) {
      const markers =
        component === 'kafka' ? kafkaNodeLayouts(this.config).map((n) => n.component) : [component];
      const found = markers.flatMap((m) =>
        findProcesses(this.config.stack.stateDir, m).map((p) => ({ ...p, marker: m })),
      );
      // Every node of a cluster at once: stopped one by one, the last ones
      // would wait for a quorum that has already gone.
      await Promise.all(
        found.map(async (p) => {
          const how = await stopProcess(p.pid, this.config.stack.stopTimeoutMs);
          this.log.info({ component: p.marker, pid: p.pid, how }, `${p.marker} stopped`);
          stopped[component] += 1;
        }),
      );
    }
    return stopped;
  }

  /** The state of each component, from the process table and a call to its API. */
  async status(): Promise<ComponentStatus[]> {
    const p = paths(this.config);
    const registryPids = findProcesses(this.config.stack.stateDir, 'registry').map((x) => x.pid);
    const redisPids = findProcesses(this.config.stack.stateDir, 'redis').map((x) => x.pid);
    const state = async (pids: number[], probe: () => Promise<boolean>) =>
      pids.length === 0
        ? ('stopped' as const)
        : (await probe())
          ? ('ready' as const)
          : ('starting' as const);
    const kafka: ComponentStatus[] = [];
    for (const node of kafkaNodeLayouts(this.config)) {
      const pids = findProcesses(this.config.stack.stateDir, node.component).map((x) => x.pid);
      kafka.push({
        component: 'kafka',
        node: node.id,
        state: await state(pids, () => this.kafkaAnswers([node])),
        pids,
        endpoint: node.address,
        log: node.log,
      });
    }
    return [
      ...kafka,
      {
        component: 'registry',
        state: await state(registryPids, () => this.registryAnswers()),
        pids: registryPids,
        endpoint: registryUrl(this.config),
        log: p.registryLog,
      },
      {
        component: 'redis',
        state: await state(redisPids, () => this.redisAnswers(redisPids)),
        pids: redisPids,
        endpoint: redisEndpoint(this.config),
        log: p.redisLog,
      },
    ];
  }

  /**
   * Starts every Kafka node that is not running (all of them on a fresh
   * stack: a static quorum elects no controller until a majority runs) and
   * waits until each started node answers on its own port.
   */
  private async upKafka(): Promise<UpAction> {
    const { stateDir } = this.config.stack;
    const nodes = kafkaNodeLayouts(this.config).map((node) => ({
      node,
      pids: findProcesses(stateDir, node.component).map((r) => r.pid),
    }));
    const missing = nodes.filter((n) => n.pids.length === 0).map((n) => n.node);
    if (missing.length === 0) {
      await this.waitReady(
        'kafka',
        nodes.flatMap((n) => n.pids),
        () => this.kafkaAnswers(nodes.map((n) => n.node)),
        nodes.map((n) => n.node.log).join(', '),
      );
      return 'already-running';
    }
    await this.refuseHeldPorts(
      'kafka',
      missing.flatMap((n) => [
        n.port,
        n.controllerPort,
        ...(n.faultProxy ? [n.faultProxy.listenerPort] : []),
      ]),
    );
    const wasStarted = missing.some((n) => existsSync(join(n.data, 'meta.properties')));
    const jars = ensureKafkaJars(this.config, this.log);
    const started = missing.map((node) => ({ node, pid: this.startKafkaNode(node, jars) }));
    const log = started.map((s) => s.node.log).join(', ');
    await this.waitReady(
      'kafka',
      started.map((s) => s.pid),
      () => this.kafkaAnswers(missing),
      log,
      'every',
    );
    return wasStarted ? 'restarted' : 'started';
  }

  /** Writes one node's files, formats its storage once and starts its JVM; returns its pid. */
  private startKafkaNode(node: KafkaNodeLayout, jars: string): number {
    mkdirSync(node.data, { recursive: true });
    const props = join(node.dir, 'server.properties');
    const log4j = join(node.dir, 'log4j2.yaml');
    const secure = isSecured(this.config) ? stackAccess(this.config, this.env) : null;
    const layout = secure ? ensureSecureFiles(this.config, secure.users) : null;
    writeFileSync(
      props,
      serverProperties(this.config, node.data, node) +
        (layout ? secureServerProperties(this.config, node, layout) : ''),
      { mode: 0o600 },
    );
    writeFileSync(log4j, LOG4J2_YAML);
    const cp = `${jars}/*`;
    // KRaft storage is formatted once (--ignore-formatted would make a second
    // format harmless, but it costs a JVM start on every node restart).
    if (!existsSync(join(node.data, 'meta.properties'))) {
      execFileSync(
        'java',
        [
          '-cp',
          cp,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          this.config.stack.kafka.clusterId,
          '-c',
          props,
          '--ignore-formatted',
          ...(secure ? scramFormatArgs(this.config, secure.users) : []),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    }
    const heap = `${this.config.stack.kafka.heapMb}m`;
    const pid = spawnDetached(
      'java',
      [
        marker(this.config.stack.stateDir, node.component),
        `-Xms${heap}`,
        `-Xmx${heap}`,
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        cp,
        'kafka.Kafka',
        props,
      ],
      node.dir,
      node.log,
    );
    this.log.info({ pid, node: node.id, log: node.log, broker: node.address }, 'kafka starting');
    return pid;
  }

  private async upRegistry(): Promise<UpAction> {
    const p = paths(this.config);
    const r = this.config.stack.registry;
    const running = findProcesses(this.config.stack.stateDir, 'registry');
    if (running.length > 0) {
      await this.waitReady(
        'registry',
        running.map((x) => x.pid),
        () => this.registryAnswers(),
        p.registryLog,
      );
      return 'already-running';
    }
    await this.refuseHeldPorts('registry', [r.port, r.managementPort]);
    const wasStarted = existsSync(`${p.registryDb}.mv.db`);
    const jar = ensureRegistry(this.config, this.log);
    const java = findJava(r.minJavaVersion, r.javaSearchPaths, process.env);
    if (!java) {
      throw new StackStartError(
        `Apicurio Registry ${r.version} needs Java ${r.minJavaVersion}+; none found in JAVA_HOME, PATH or ${r.javaSearchPaths.join(', ')}`,
      );
    }
    mkdirSync(p.registryDir, { recursive: true });
    const heap = `${r.heapMb}m`;
    const { host } = this.config.stack;
    const pid = spawnDetached(
      java,
      [
        marker(this.config.stack.stateDir, 'registry'),
        `-Xms${heap}`,
        `-Xmx${heap}`,
        `-Dquarkus.http.host=${host}`,
        `-Dquarkus.http.port=${r.port}`,
        `-Dquarkus.management.host=${host}`,
        `-Dquarkus.management.port=${r.managementPort}`,
        `-Dapicurio.rules.global.compatibility=${r.compatibility}`,
        // Schemas survive a restart (an H2 file beside the broker's data), so
        // ids inside messages already on the topics stay resolvable.
        '-Dapicurio.storage.kind=sql',
        '-Dapicurio.storage.sql.kind=h2',
        `-Dapicurio.datasource.url=jdbc:h2:file:${p.registryDb}`,
        '-Dapicurio.datasource.username=sa',
        '-Dapicurio.datasource.password=sa',
        '-jar',
        jar,
      ],
      p.registryDir,
      p.registryLog,
    );
    this.log.info(
      { pid, java, log: p.registryLog, url: registryUrl(this.config) },
      'registry starting',
    );
    await this.waitReady('registry', [pid], () => this.registryAnswers(), p.registryLog);
    return wasStarted ? 'restarted' : 'started';
  }

  private async upRedis(): Promise<UpAction> {
    const p = paths(this.config);
    const { stateDir } = this.config.stack;
    const running = findProcesses(stateDir, 'redis').map((x) => x.pid);
    if (running.length > 0) {
      await this.waitReady('redis', running, () => this.redisAnswers(running), p.redisLog);
      return 'already-running';
    }
    await this.refuseHeldPorts('redis', [this.config.stack.redis.port]);
    const wasStarted = existsSync(p.redisDir);
    const server = ensureRedis(this.config, this.log);
    mkdirSync(p.redisDir, { recursive: true });
    const pid = spawnDetached(
      server.bin,
      redisServerArgs(this.config, p.redisDir, marker(stateDir, 'redis')),
      p.redisDir,
      p.redisLog,
      server.env,
    );
    this.log.info(
      {
        pid,
        bin: server.bin,
        version: server.version,
        source: server.source,
        log: p.redisLog,
        endpoint: redisEndpoint(this.config),
      },
      'redis starting',
    );
    await this.waitReady('redis', [pid], () => this.redisAnswers([pid]), p.redisLog);
    return wasStarted ? 'restarted' : 'started';
  }

  /**
   * Refuses to start `component` on a port another process holds: the new
   * process would exit on it, while the readiness probe, answered by the
   * holder (another stack's broker on the same port), reported it started.
   */
  private async refuseHeldPorts(component: Component, ports: readonly number[]): Promise<void> {
    const { host } = this.config.stack;
    const held = await listenersInUse(ports.map((port) => ({ name: component, host, port })));
    if (held.length > 0) {
      throw new StackStartError(
        `${component} cannot start: ${held.map((l) => `${l.host}:${l.port}`).join(', ')} held by another process (another stack on the same ports?)`,
      );
    }
  }

  /**
   * Polls `probe` until it answers; fails as soon as `some` (or, for `every`,
   * any one) of `pids` has exited.
   */
  private async waitReady(
    component: Component,
    pids: number[],
    probe: () => Promise<boolean>,
    log: string,
    alive: 'some' | 'every' = 'some',
  ): Promise<void> {
    const deadline = Date.now() + this.config.stack.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (await probe()) {
        this.log.info({ component }, `${component} ready`);
        return;
      }
      if (alive === 'every' ? !pids.every(isAlive) : !pids.some(isAlive)) {
        throw new StackStartError(
          `${component} exited during start-up; last lines of ${log}:\n${tail(log, 30)}`,
        );
      }
      await sleep(POLL_MS);
    }
    throw new StackStartError(
      `${component} did not answer within ${this.config.stack.readyTimeoutMs} ms; last lines of ${log}:\n${tail(log, 30)}`,
    );
  }

  /** Ready means each node answers an admin round trip on its own port, not merely an open port. */
  private async kafkaAnswers(nodes: readonly KafkaNodeLayout[]): Promise<boolean> {
    for (const node of nodes) if (!(await this.kafkaNodeAnswers(node))) return false;
    return true;
  }

  /**
   * A broker accepts client requests only once it is registered and unfenced;
   * the metadata it returns must list it (a node just restarted may still be
   * listed by the others, never by itself before it is back).
   */
  private async kafkaNodeAnswers(node: KafkaNodeLayout): Promise<boolean> {
    const kafka = createKafka(
      {
        ...this.config.kafka,
        ...(isSecured(this.config)
          ? secureClientSecurity(this.config, this.config.stack.kafka.security.adminUser)
          : {}),
        brokers: [node.address],
        connectionTimeoutMs: 1000,
        requestTimeoutMs: 2000,
        retry: { retries: 0, initialRetryTimeMs: 100, maxRetryTimeMs: 100 },
      },
      this.log.child({}, { level: 'silent' }),
    );
    const admin = new KafkaAdmin(kafka);
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.some((b) => b.nodeId === node.id) && cluster.controller !== null;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Ready means PING answers PONG, from one of `pids`: another Redis already
   * on the port must not pass for ours while ours fails to bind it.
   */
  private async redisAnswers(pids: readonly number[]): Promise<boolean> {
    const client = new Redis({
      host: this.config.stack.host,
      port: this.config.stack.redis.port,
      lazyConnect: true,
      connectTimeout: 1000,
      commandTimeout: 2000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) !== 'PONG') return false;
      const info = await client.info('server');
      const pid = /^process_id:(\d+)/m.exec(info)?.[1];
      return pid !== undefined && pids.includes(Number(pid));
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  /** Ready means the Confluent API answers and reports the configured global compatibility. */
  private async registryAnswers(): Promise<boolean> {
    try {
      const res = await fetch(`${registryUrl(this.config)}/config`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) return false;
      const body = (await res.json()) as { compatibilityLevel?: string };
      return body.compatibilityLevel === this.config.stack.registry.compatibility;
    } catch {
      return false;
    }
  }
}
