import { existsSync, readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig, loadGrantstreamConfig } from '@grantstream/config';
import {
  PIPELINE_STAGES,
  SERVICE_NAMES,
  serviceDeclaration,
  settingEnvName,
  type PipelineStageName,
  type ServiceName,
} from '@grantstream/contracts';
import { serverProperties } from './kafka-files';
import { REDIS_NO_PERSISTENCE, redisServerArgs } from './redis-files';

interface Service {
  image: string;
  build?: { context: string; dockerfile: string };
  environment: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
  profiles?: string[];
  network_mode?: string;
  mem_limit?: string;
  read_only?: boolean;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const ROOT = resolve(__dirname, '../../..');
const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), {
  // Compose resolves YAML merge keys (<<: *anchor); so must this reading of it.
  merge: true,
}) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const config = loadGrantstreamConfig({});
const kafka = compose.services['kafka'];
const registry = compose.services['registry'];
const redis = compose.services['redis'];
/**
 * The Node every image runs: an LTS line (Node 20 reached end of life in April
 * 2026). The bundles target Node 20 and also run there;
 * test/integration/bundles-node24.test.ts starts them on Node 24.
 */
const NODE_IMAGE = 'node:24-bookworm-slim';

// Settings that legitimately differ in containers: addresses and paths.
const PER_ENVIRONMENT = new Set([
  'listeners',
  'advertised.listeners',
  'listener.security.protocol.map',
  'inter.broker.listener.name',
  'controller.quorum.voters',
  'log.dirs',
]);

describe('docker-compose.yml stays consistent with the local stack', () => {
  it('runs the same Kafka and registry versions', () => {
    expect(kafka?.image).toBe(`apache/kafka:${config.stack.kafka.version}`);
    expect(registry?.image).toBe(`apicurio/apicurio-registry:${config.stack.registry.version}`);
  });

  it('gives the broker every setting the local stack gives it', () => {
    const props = serverProperties(config, '/unused')
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]);
    for (const [key, value] of props) {
      if (PER_ENVIRONMENT.has(key)) continue;
      const env = `KAFKA_${key.toUpperCase().replace(/\./g, '_')}`;
      expect(kafka?.environment[env], env).toBe(value);
    }
    expect(kafka?.environment['KAFKA_CLUSTER_ID']).toBe(config.stack.kafka.clusterId);
  });

  it('sets the registry default compatibility and durable storage as the local stack does', () => {
    expect(registry?.environment['APICURIO_RULES_GLOBAL_COMPATIBILITY']).toBe(
      config.stack.registry.compatibility,
    );
    expect(registry?.environment['APICURIO_STORAGE_KIND']).toBe('sql');
  });

  it('runs the Redis minor version the local stack fetches, on the port clients are configured with', () => {
    const [major, minor] = config.stack.redis.version.split('.');
    expect(redis?.image).toBe(`redis:${major}.${minor}`);
    expect(redis?.ports).toEqual([`127.0.0.1:${config.stack.redis.port}:6379`]);
    expect(config.redis).toEqual({ host: config.stack.host, port: config.stack.redis.port });
  });

  it('keeps nothing of Redis on disk, as the local stack does, and is healthy only when PING answers', () => {
    const local = redisServerArgs(config, '/unused', 'marker');
    const persistence = [...REDIS_NO_PERSISTENCE];
    expect(local.join('\u0000')).toContain(persistence.join('\u0000'));
    expect(redis?.command).toEqual(['redis-server', ...persistence]);
    expect(redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });
});

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The configuration file as written: stage sections are not part of the platform schema. */
const raw = parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as Tree;

/** The value at a GRANTSTREAM__A__B path, matched as the loader matches it (case and `_` ignored). */
function atEnvPath(name: string): { found: boolean; value?: unknown } {
  let node: unknown = raw;
  for (const segment of name.slice('GRANTSTREAM__'.length).split('__')) {
    const flat = (k: string) => k.replace(/_/g, '').toLowerCase();
    const key = isTree(node) ? Object.keys(node).find((k) => flat(k) === flat(segment)) : undefined;
    if (!isTree(node) || key === undefined) return { found: false };
    node = node[key];
  }
  return { found: true, value: node };
}

const SIMULATOR = 'funder-simulator';
// Every service and stage schemas/pipeline.yaml declares; compose must run each.
const stages: readonly PipelineStageName[] = PIPELINE_STAGES;
const services: readonly ServiceName[] = SERVICE_NAMES;

/** A service's configured HTTP port, the override of its listening host, and its ready probe. */
function endpointOf(name: ServiceName): { hostVar: string; port: number; probe: string } {
  const declared = serviceDeclaration(name);
  const value = atEnvPath(settingEnvName(declared.portSetting)).value;
  expect(value, `${declared.portSetting} in config/grantstream.yaml`).toBe(declared.port);
  const hostVar = settingEnvName(declared.portSetting.replace(/\.port$/, '.host'));
  return { hostVar, port: value as number, probe: declared.probe };
}

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** The service whose network namespace (and so published ports) `name` uses. */
function networkOwner(name: string): Service {
  const mode = service(name).network_mode;
  return mode?.startsWith('service:') ? service(mode.slice('service:'.length)) : service(name);
}

describe('docker-compose.yml runs every service of the local stack', () => {
  it('builds exactly the services schemas/pipeline.yaml declares', () => {
    const built = Object.entries(compose.services)
      .filter(([, s]) => s.build !== undefined)
      .map(([name]) => name);
    expect(built.sort()).toEqual([...services].sort());
  });

  it.each(services)('%s is built from its Dockerfile, with config/ mounted read-only', (name) => {
    const s = service(name);
    expect(s.build).toEqual({ context: '.', dockerfile: `services/${name}/Dockerfile` });
    expect(existsSync(resolve(ROOT, `services/${name}/Dockerfile`))).toBe(true);
    expect(s.volumes).toContain('./config:/app/config:ro');
    expect(s.read_only).toBe(true);
  });

  it.each(services)(
    '%s listens on 0.0.0.0 at its configured port, published on loopback, and is healthy only when it answers there',
    (name) => {
      const { hostVar, port, probe } = endpointOf(name);
      const s = service(name);
      expect(s.environment[hostVar], hostVar).toBe('0.0.0.0');
      expect(networkOwner(name).ports).toContain(`127.0.0.1:${port}:${port}`);
      const test = s.healthcheck?.test ?? [];
      expect(test[0]).toBe('CMD');
      expect(test.join(' ')).toContain(`http://127.0.0.1:${port}${probe}`);
    },
  );

  it.each(stages)(
    '%s starts after the broker and registry are healthy and the topics are applied',
    (name) => {
      const deps = service(name).depends_on ?? {};
      expect(deps['kafka']?.condition).toBe('service_healthy');
      expect(deps['registry']?.condition).toBe('service_healthy');
      expect(deps['topics']?.condition).toBe('service_completed_successfully');
      expect(service(name).environment['GRANTSTREAM__KAFKA__BROKERS']).toBe('[kafka:19092]');
      expect(service(name).environment['GRANTSTREAM__REGISTRY__URL']).toBe(
        'http://registry:8080/apis/ccompat/v7',
      );
    },
  );

  it("runs the topics job on every up (no profile), on the images' Node, reusing none of the checkout node_modules", () => {
    const topics = service('topics');
    expect(topics.profiles).toBeUndefined();
    expect(topics.command?.join(' ')).toContain('topics apply');
    expect(topics.volumes).toContain('topics-node-modules:/workspace/node_modules');
    expect(topics.image).toBe(NODE_IMAGE);
  });

  it('gives the portal callers Redis, the simulator as every funder portal, and its fake tokens', () => {
    const funders = raw['funders'] as Record<string, { tokenSecret: string }>;
    const sim = raw['simulator'] as { port: number; funders: Record<string, { token: string }> };
    for (const name of ['submission', 'status-polling']) {
      const s = service(name);
      expect(s.depends_on?.['redis']?.condition, name).toBe('service_healthy');
      expect(s.depends_on?.[SIMULATOR]?.condition, name).toBe('service_healthy');
      expect(s.environment['GRANTSTREAM__REDIS__HOST']).toBe('redis');
      expect(s.environment['GRANTSTREAM__REDIS__PORT']).toBe('6379');
      for (const [funder, { tokenSecret }] of Object.entries(funders)) {
        expect(s.environment[tokenSecret], `${name} ${tokenSecret}`).toBe(
          sim.funders[funder]?.token,
        );
        expect(s.environment[`GRANTSTREAM__FUNDERS__${funder}__BASE_URL`]).toBe(
          `http://${SIMULATOR}:${sim.port}/funders/${funder}`,
        );
      }
    }
  });

  it('reaches the webhook sink as a loopback client, since the simulator answers only those there', () => {
    const webhook = atEnvPath('GRANTSTREAM__NOTIFICATION__WEBHOOK__URL').value as string;
    const sim = raw['simulator'] as { port: number };
    expect(new URL(webhook).hostname).toBe('127.0.0.1');
    expect(new URL(webhook).port).toBe(String(sim.port));
    expect(service('notification').network_mode).toBe(`service:${SIMULATOR}`);
    expect(service('notification').depends_on?.[SIMULATOR]?.condition).toBe('service_healthy');
  });

  it('overrides only settings that exist in config/grantstream.yaml', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const variable of Object.keys(s.environment ?? {})) {
        if (!variable.startsWith('GRANTSTREAM__')) continue;
        expect(atEnvPath(variable).found, `${name}: ${variable}`).toBe(true);
      }
    }
  });

  it.each(stages)("caps %s's memory above the RSS at which its memory guard pauses", (name) => {
    const section = serviceDeclaration(name).envSection;
    const own = atEnvPath(`GRANTSTREAM__${section}__RUNNER__MEMORY__PAUSE_ABOVE_RSS_MB`);
    const pauseMb = (
      own.found ? own.value : atEnvPath('GRANTSTREAM__RUNNER__MEMORY__PAUSE_ABOVE_RSS_MB').value
    ) as number;
    const limit = /^(\d+)([mg])$/.exec(service(name).mem_limit ?? '');
    expect(limit, `${name} mem_limit`).not.toBeNull();
    const limitMb = Number(limit?.[1]) * (limit?.[2] === 'g' ? 1024 : 1);
    expect(limitMb).toBeGreaterThan(pauseMb);
  });
});

/** A service's memory limit in MiB (compose `m` and `g` are binary units). */
function memLimitMb(name: string): number | undefined {
  const limit = /^(\d+)([mg])$/.exec(service(name).mem_limit ?? '');
  return limit ? Number(limit[1]) * (limit[2] === 'g' ? 1024 : 1) : undefined;
}

/**
 * A stage's runner settings as its container loads them: the image's
 * config/grantstream.yaml (the mounted ./config), then the service's
 * GRANTSTREAM__* variables; the stage's own runner section over the defaults.
 */
function containerRunner(name: PipelineStageName): {
  memory: Tree;
  deadLetterStore: Tree;
} {
  const config: Tree = loadConfig({
    files: [DEFAULT_CONFIG_FILE],
    env: service(name).environment ?? {},
    schema: z.looseObject({}),
  });
  const section = serviceDeclaration(name).configSection;
  const defaults = config['runner'] as Tree;
  const own = ((config[section] as Tree | undefined)?.['runner'] ?? {}) as Tree;
  const pick = (key: string): Tree => ({
    ...((defaults[key] ?? {}) as Tree),
    ...((own[key] ?? {}) as Tree),
  });
  return { memory: pick('memory'), deadLetterStore: pick('deadLetterStore') };
}

/** A short-syntax volume entry: source, target and whether it is read-only. */
function mountsOf(name: string): { source: string; target: string; readOnly: boolean }[] {
  return (service(name).volumes ?? []).map((v) => {
    const [source = '', target = '', mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
}

describe('docker-compose.yml gives every stage its memory budget and the dead-letter store', () => {
  it.each(stages)("caps %s's memory at exactly its memory.budgetMb", (name) => {
    expect(memLimitMb(name), `${name} mem_limit`).toBe(containerRunner(name).memory['budgetMb']);
  });

  it.each(stages)(
    '%s mounts the shared dead-letter volume, writable, at its configured store dir',
    (name) => {
      const dir = String(containerRunner(name).deadLetterStore['dir']);
      // A home directory lies on the read-only root filesystem of the image.
      expect(posix.isAbsolute(dir), `${name}: runner.deadLetterStore.dir ${dir}`).toBe(true);
      const mount = mountsOf(name).find((m) => m.target === dir);
      expect(mount, `${name}: a volume mounted at ${dir}`).toBeDefined();
      expect(mount?.readOnly).toBe(false);
      expect(Object.keys(compose.volumes ?? {}), `${name}: a named volume`).toContain(
        mount?.source,
      );
    },
  );

  it('shares one dead-letter volume between every stage', () => {
    const sources = stages.map((name) => {
      const dir = String(containerRunner(name).deadLetterStore['dir']);
      return mountsOf(name).find((m) => m.target === dir)?.source;
    });
    expect(new Set(sources).size).toBe(1);
    expect(sources[0]).toBeTypeOf('string');
  });

  it.each(stages)(
    "%s's image creates the store dir for its node user, so the empty volume is writable",
    (name) => {
      const dir = String(containerRunner(name).deadLetterStore['dir']);
      const text = readFileSync(resolve(ROOT, `services/${name}/Dockerfile`), 'utf8');
      const user = text.search(/^USER node$/m);
      const quoted = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const made = text.search(
        new RegExp(`^RUN mkdir -p ${quoted} && chown node:node ${quoted}$`, 'm'),
      );
      expect(
        made,
        `services/${name}/Dockerfile: RUN mkdir -p ${dir} && chown node:node ${dir}`,
      ).toBeGreaterThan(-1);
      expect(made).toBeLessThan(user);
    },
  );
});

describe('service Dockerfiles', () => {
  const allowed = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));
  const scripts = (
    JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  it.each(services)(
    '%s: builds its bundle, runs it as a non-root user on Node 24, probes liveness',
    (name) => {
      const text = readFileSync(resolve(ROOT, `services/${name}/Dockerfile`), 'utf8');
      const froms = text.match(/^FROM \S+/gm) ?? [];
      expect(froms).toHaveLength(2);
      expect(froms).toEqual([`FROM ${NODE_IMAGE}`, `FROM ${NODE_IMAGE}`]);
      expect(text).toContain(`RUN npm run build:bundles -- ${name}\n`);
      expect(scripts['build:bundles']).toBe('tsx tools/stack/src/bundle.ts');
      expect(text).toMatch(/^USER node$/m);
      const { hostVar, port } = endpointOf(name);
      expect(text).toContain(`EXPOSE ${port}\n`);
      expect(text).toContain(`${hostVar}=0.0.0.0`);
      // The simulator and the console have one probe each (their declared one).
      const probe =
        name === SIMULATOR || serviceDeclaration(name).kind === 'console'
          ? serviceDeclaration(name).probe
          : '/health/live';
      expect(text).toMatch(
        new RegExp(`^HEALTHCHECK [^\\n]*\\\\\\n\\s+CMD .*127\\.0\\.0\\.1:${port}${probe}`, 'm'),
      );
      expect(text).toContain(
        `ENTRYPOINT ["node", "--enable-source-maps", "dist/bundles/${name}/main.js"]`,
      );
      // Everything copied from the build context must pass the shared .dockerignore.
      for (const [, args] of text.matchAll(/^COPY (?!--from)(.+)$/gm)) {
        const sources = (args ?? '').trim().split(/\s+/).slice(0, -1);
        for (const source of sources) {
          expect(allowed, `${name}: COPY ${source}`).toContain(source.replace(/\/$/, ''));
        }
      }
    },
  );
});
