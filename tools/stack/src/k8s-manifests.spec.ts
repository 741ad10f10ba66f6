import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG_FILE,
  grantstreamConfigSchema,
  loadConfig,
  loadGrantstreamConfig,
} from '@grantstream/config';
import {
  PIPELINE_STAGES,
  SERVICE_NAMES,
  declaredInputTopicsOf,
  serviceDeclaration,
  type PipelineStageName,
} from '@grantstream/contracts';
import { effectiveConfig, effectiveReplication, type TopicSpec } from '@grantstream/kafka';
import { generatedK8sFiles, RULE_PACKS_SUBDIR, STRIMZI_CLUSTER } from './k8s-generated';
import {
  applyJsonPatch,
  containersOf,
  kustomizeBuild,
  parseManifests,
  splitImage,
  strategicMerge,
  type K8sObject,
} from './k8s-render';
import { REDIS_NO_PERSISTENCE } from './redis-files';

const ROOT = resolve(__dirname, '../../..');
const K8S = join(ROOT, 'k8s');
const NAMESPACE = 'grantstream';
// The stages of schemas/pipeline.yaml, each deployed on its own.
const STAGES = PIPELINE_STAGES;

/** A stage's declared metrics port (GET /metrics, /health/live, /health/ready). */
const metricsPortOf = (stage: PipelineStageName): number => serviceDeclaration(stage).port;
const RULE_PACK_STAGES = new Set<PipelineStageName>(['ingest', 'normalization', 'routing']);
const PORTAL_STAGES = new Set<PipelineStageName>(['submission', 'status-polling']);
const INGEST_MEMORY_LIMIT = 384 * 2 ** 20;
// Leaving the group and exiting after the runner's grace period also takes time.
const SHUTDOWN_MARGIN_MS = 5000;
// The memory guard must pause well before the kernel kills the container.
const GUARD_SHARE_OF_LIMIT = 0.8;

/**
 * Services the manifests address without creating them outside dev (k8s/README.md
 * lists them), by the labels of their pods: the schema registry.
 */
const PREREQUISITE_SERVICES: Record<string, Record<string, string>> = {
  registry: { 'app.kubernetes.io/name': 'apicurio-registry' },
};
// Created by ops outside dev (k8s/README.md); dev renders its own.
const ATTACHMENTS_CLAIM = 'grantstream-attachments';
const FUNDER_TOKENS_SECRET = 'grantstream-funder-tokens';
// Where dead letters too large for the broker keep their values (runner.deadLetterStore).
const DEAD_LETTERS_CLAIM = 'grantstream-dead-letters';
// The node user of the node:24 images the stages run from.
const NODE_UID = 1000;

const topicsYaml = parse(readFileSync(join(ROOT, 'schemas/topics.yaml'), 'utf8')) as {
  ingestPattern: string;
  topics: {
    name: string;
    partitions: number;
    replicationFactor: number;
    retryDelayMs?: number;
    config: Record<string, string>;
  }[];
};
const DECLARED = new Map(topicsYaml.topics.map((t) => [t.name, t]));
// Topics whose lag is waiting, not work: retry tiers and the poll schedule.
const DELAY_TOPICS = new Set([
  ...topicsYaml.topics.filter((t) => t.retryDelayMs !== undefined).map((t) => t.name),
  'grants.status.poll.v1',
]);

/** Every declared topic a stage reads (schemas/pipeline.yaml over schemas/topics.yaml). */
function inputsOf(stage: PipelineStageName): string[] {
  return declaredInputTopicsOf(serviceDeclaration(stage));
}

type Obj = Record<string, unknown>;
const map = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(map) : []);

function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

function millicores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q);
  if (!m) throw new Error(`not a CPU quantity: ${q}`);
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  const s = map(selector);
  const exact = Object.entries(map(s['matchLabels'])).every(([k, v]) => labels[k] === v);
  return (
    exact &&
    list(s['matchExpressions']).every((e) => {
      const key = String(e['key']);
      const values = (e['values'] as string[] | undefined) ?? [];
      switch (e['operator']) {
        case 'In':
          return values.includes(labels[key] ?? '\u0000');
        case 'NotIn':
          return !values.includes(labels[key] ?? '\u0000');
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
        default:
          throw new Error(`unknown selector operator ${String(e['operator'])}`);
      }
    })
  );
}

/** One rendered overlay, with lookups the checks share. */
class Rendered {
  readonly objects: K8sObject[];
  constructor(readonly dir: string) {
    this.objects = kustomizeBuild(join(K8S, dir));
  }
  all(kind: string): K8sObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }
  find(kind: string, name: string): K8sObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }
  get(kind: string, name: string): K8sObject {
    const o = this.find(kind, name);
    if (!o) throw new Error(`${this.dir}: no ${kind} ${name}`);
    return o;
  }
  podTemplate(deployment: K8sObject): { labels: Record<string, string>; spec: Obj } {
    const template = map(map(deployment['spec'])['template']);
    return {
      labels: map(map(template['metadata'])['labels']) as Record<string, string>,
      spec: map(template['spec']),
    };
  }
  container(deployment: K8sObject): Obj {
    const c = containersOf(deployment).find((x) => x['name'] === deployment.metadata.name);
    if (!c) throw new Error(`${deployment.metadata.name}: no container of that name`);
    return c;
  }
  policiesFor(labels: Record<string, string>): Obj[] {
    return this.all('NetworkPolicy')
      .map((p) => map(p['spec']))
      .filter((s) => selects(s['podSelector'], labels));
  }
  /** The ConfigMap data behind a file a container sees, through its volume mounts. */
  fileSeenBy(deployment: K8sObject, path: string): { configMap: string; key: string } | undefined {
    return this.filesSeenBy(deployment).get(path);
  }
  filesSeenBy(deployment: K8sObject): Map<string, { configMap: string; key: string }> {
    const { spec } = this.podTemplate(deployment);
    const volumes = new Map(list(spec['volumes']).map((v) => [String(v['name']), v]));
    const files = new Map<string, { configMap: string; key: string }>();
    for (const mount of list(this.container(deployment)['volumeMounts'])) {
      const volume = volumes.get(String(mount['name']));
      if (!volume) throw new Error(`${deployment.metadata.name}: mount of a missing volume`);
      const sources = volume['projected']
        ? list(map(volume['projected'])['sources']).map((s) => map(s['configMap']))
        : volume['configMap']
          ? [map(volume['configMap'])]
          : [];
      for (const source of sources) {
        const name = String(source['name']);
        const data = map(this.find('ConfigMap', name)?.['data']);
        const items = source['items']
          ? list(source['items'])
          : Object.keys(data).map((key) => ({ key, path: key }));
        for (const item of items) {
          files.set(posix.join(String(mount['mountPath']), String(item['path'])), {
            configMap: name,
            key: String(item['key']),
          });
        }
      }
    }
    return files;
  }
}

const OVERLAYS = ['base', 'overlays/dev', 'overlays/prod'] as const;
const rendered = new Map(OVERLAYS.map((dir) => [dir, new Rendered(dir)]));
const render = (dir: (typeof OVERLAYS)[number]): Rendered => rendered.get(dir) as Rendered;

const scratch = mkdtempSync(join(tmpdir(), 'grantstream-k8s-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The configuration a stage's process loads in the cluster: the image's
 * default file, then the GRANTSTREAM_CONFIG files resolved through the pod's
 * mounts to ConfigMap data, then the container's GRANTSTREAM__* variables.
 */
function effectiveStageConfig(r: Rendered, deployment: K8sObject): Obj {
  const env = list(r.container(deployment)['env']);
  const plain = Object.fromEntries(
    env.filter((e) => typeof e['value'] === 'string').map((e) => [e['name'], e['value']]),
  ) as Record<string, string>;
  const configFiles = (plain['GRANTSTREAM_CONFIG'] ?? '').split(',').filter(Boolean);
  expect(configFiles.length, 'GRANTSTREAM_CONFIG names the mounted files').toBeGreaterThan(0);
  const local = configFiles.map((path, i) => {
    const source = r.fileSeenBy(deployment, path);
    if (!source) throw new Error(`${deployment.metadata.name}: ${path} is not mounted`);
    const text = map(r.get('ConfigMap', source.configMap)['data'])[source.key];
    expect(typeof text, `${source.configMap}/${source.key}`).toBe('string');
    const file = join(
      scratch,
      `${r.dir.replace(/\//g, '_')}-${deployment.metadata.name}-${i}.yaml`,
    );
    writeFileSync(file, String(text));
    return file;
  });
  const { GRANTSTREAM_CONFIG: _files, ...overrides } = plain;
  const options = { files: [DEFAULT_CONFIG_FILE, ...local], env: overrides };
  // The platform sections must pass the real schema; the stage sections are read loosely.
  loadConfig({ ...options, schema: grantstreamConfigSchema });
  return loadConfig({ ...options, schema: z.looseObject({}) });
}

const sectionKey = (stage: PipelineStageName): string => serviceDeclaration(stage).configSection;

function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host: url.hostname, port };
}

interface Destination {
  /** Labels of the pods behind the address, or null for an address outside the cluster. */
  labels: Record<string, string> | null;
  port: number;
  /** Whether those pods are grantstream's, so their own ingress policy must admit the caller. */
  ours: boolean;
  /** Labels of the pods' namespace when it is not grantstream's. */
  namespace?: Record<string, string>;
}

function destinationOf(r: Rendered, address: string): Destination {
  const { host, port } = hostPort(address);
  if (host === `${STRIMZI_CLUSTER}-kafka-bootstrap`) {
    return {
      labels: { 'strimzi.io/cluster': STRIMZI_CLUSTER, 'strimzi.io/kind': 'Kafka' },
      port,
      ours: false,
    };
  }
  const service = r.find('Service', host);
  if (service) {
    const spec = map(service['spec']);
    const entry = list(spec['ports']).find((p) => p['port'] === port);
    if (!entry) throw new Error(`Service ${host} has no port ${port}`);
    const selector = map(spec['selector']) as Record<string, string>;
    const backend = r
      .all('Deployment')
      .find((d) => selects({ matchLabels: selector }, r.podTemplate(d).labels));
    if (!backend) throw new Error(`Service ${host} selects no Deployment`);
    const target = entry['targetPort'] ?? port;
    const named = list(containersOf(backend)[0]?.['ports']).find((p) => p['name'] === target);
    return {
      labels: r.podTemplate(backend).labels,
      port: typeof target === 'number' ? target : Number(named?.['containerPort']),
      ours: true,
    };
  }
  const prerequisite = PREREQUISITE_SERVICES[host];
  if (prerequisite) return { labels: prerequisite, port, ours: false };
  if (!host.includes('.')) throw new Error(`${address}: an in-cluster name with nothing behind it`);
  return { labels: null, port, ours: false };
}

// An absent or empty ports/peers list in a NetworkPolicy rule matches everything.
const portsAllow = (rule: Obj, port: number, protocol = 'TCP'): boolean =>
  list(rule['ports']).length === 0 ||
  list(rule['ports']).some((p) => p['port'] === port && (p['protocol'] ?? 'TCP') === protocol);

const peersAllow = (peers: unknown, allows: (peer: Obj) => boolean): boolean =>
  list(peers).length === 0 || list(peers).some(allows);

const policyTypes = (p: Obj): string[] => (p['policyTypes'] as string[] | undefined) ?? [];

function egressAllowed(r: Rendered, from: Record<string, string>, to: Destination): boolean {
  return r
    .policiesFor(from)
    .filter((p) => policyTypes(p).includes('Egress'))
    .flatMap((p) => list(p['egress']))
    .some(
      (rule) =>
        portsAllow(rule, to.port) &&
        peersAllow(rule['to'], (peer) =>
          to.labels === null
            ? peer['ipBlock'] !== undefined
            : peer['podSelector'] !== undefined &&
              selects(peer['podSelector'], to.labels) &&
              (to.namespace === undefined
                ? peer['namespaceSelector'] === undefined
                : peer['namespaceSelector'] !== undefined &&
                  selects(peer['namespaceSelector'], to.namespace)),
        ),
    );
}

function ingressAllowed(
  r: Rendered,
  to: Record<string, string>,
  port: number,
  from: (peer: Obj) => boolean,
): boolean {
  return r
    .policiesFor(to)
    .filter((p) => policyTypes(p).includes('Ingress'))
    .flatMap((p) => list(p['ingress']))
    .some((rule) => portsAllow(rule, port) && peersAllow(rule['from'], from));
}

describe('the kustomize subset renderer', () => {
  it('merges containers and env by name, replaces other lists and deletes on null', () => {
    const target = {
      spec: {
        containers: [
          { name: 'a', image: 'x:1', env: [{ name: 'A', value: '1' }], args: ['--old'] },
          { name: 'b', image: 'y:1' },
        ],
      },
      keep: 1,
      drop: 2,
    };
    const patch = {
      spec: {
        containers: [{ name: 'a', env: [{ name: 'B', value: '2' }], args: ['--new'] }],
      },
      drop: null,
    };
    expect(strategicMerge(target, patch, 'Deployment')).toEqual({
      spec: {
        containers: [
          {
            name: 'a',
            image: 'x:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            args: ['--new'],
          },
          { name: 'b', image: 'y:1' },
        ],
      },
      keep: 1,
    });
  });

  it('refuses what it does not implement instead of ignoring it', () => {
    expect(() =>
      strategicMerge({}, { spec: { triggers: [{ type: 'kafka' }] } }, 'ScaledObject'),
    ).toThrow(/custom resource/);
    expect(() => strategicMerge({}, { $patch: 'replace' }, 'Deployment')).toThrow(/directive/);
    const dir = mkdtempSync(join(scratch, 'kustomization-'));
    writeFileSync(join(dir, 'kustomization.yaml'), 'commonLabels: { a: b }\nresources: []\n');
    expect(() => kustomizeBuild(dir)).toThrow(/unsupported field commonLabels/);
  });

  it('applies JSON 6902 add, replace and remove, and fails on a missing path', () => {
    const doc = { spec: { replicas: 3, config: { 'a.b': '2' }, list: [1, 3] } };
    expect(
      applyJsonPatch(doc, [
        { op: 'replace', path: '/spec/config/a.b', value: '1' },
        { op: 'add', path: '/spec/list/1', value: 2 },
        { op: 'remove', path: '/spec/replicas' },
      ]),
    ).toEqual({ spec: { config: { 'a.b': '1' }, list: [1, 2, 3] } });
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/nope', value: 1 }])).toThrow(
      /does not exist/,
    );
  });

  it('rejects documents without apiVersion, kind or name, and skips empty ones', () => {
    expect(() => parseManifests('kind: ConfigMap\nmetadata: { name: x }\n', 'inline')).toThrow(
      /lacks apiVersion/,
    );
    expect(
      parseManifests(
        '# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n',
        'inline',
      ),
    ).toHaveLength(1);
  });

  it('splits image references into name, tag and digest', () => {
    expect(splitImage('registry:5000/grantstream/ingest:1.2.3')).toEqual({
      name: 'registry:5000/grantstream/ingest',
      tag: '1.2.3',
    });
    expect(splitImage('redis@sha256:abc')).toEqual({ name: 'redis', digest: 'sha256:abc' });
  });
});

describe('k8s/ sources', () => {
  it('keeps the generated files in step with schemas/topics.yaml, the config and the rule packs', async () => {
    for (const [path, text] of await generatedK8sFiles(ROOT)) {
      expect(
        readFileSync(join(ROOT, path), 'utf8'),
        `${path} is stale: run npm run k8s:topics`,
      ).toBe(text);
    }
  });

  it('parses every YAML file', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(f) ? [p] : [];
      });
    const files = walk(K8S);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        expect(
          doc.errors.map((e) => e.message),
          file,
        ).toEqual([]);
      }
    }
  });

  it('documents how to apply, the operators needed and what to create first', () => {
    const readme = readFileSync(join(K8S, 'README.md'), 'utf8');
    const config = effectiveStageConfig(
      render('overlays/prod'),
      render('overlays/prod').get('Deployment', 'submission'),
    );
    const tokens = Object.values(map(config['funders'])).map((f) => String(map(f)['tokenSecret']));
    for (const needed of [
      'kubectl apply -k k8s/overlays/prod',
      'KEDA',
      'Strimzi',
      'Prometheus',
      FUNDER_TOKENS_SECRET,
      ATTACHMENTS_CLAIM,
      'npm run k8s:topics',
      ...tokens,
    ]) {
      expect(readme, needed).toContain(needed);
    }
  });
});

describe.each(OVERLAYS)('k8s/%s', (dir) => {
  const r = render(dir);
  const isDev = dir === 'overlays/dev';
  const isProd = dir === 'overlays/prod';

  it('renders objects with unique ids, all in the grantstream namespace', () => {
    const ids = r.objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of r.objects) {
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe(NAMESPACE);
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
    }
  });

  it('runs every container non-root on a read-only root filesystem, with requests and limits', () => {
    const deployments = r.all('Deployment');
    expect(deployments.length).toBeGreaterThanOrEqual(STAGES.length + 1);
    for (const d of deployments) {
      const { spec } = r.podTemplate(d);
      expect(map(spec['securityContext'])['runAsNonRoot'], d.metadata.name).toBe(true);
      expect(spec['automountServiceAccountToken'], d.metadata.name).toBe(false);
      for (const c of containersOf(d)) {
        const sc = map(c['securityContext']);
        expect(sc, d.metadata.name).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const { requests, limits } = map(c['resources']) as Record<string, Record<string, string>>;
        for (const resource of ['cpu', 'memory'] as const) {
          const request = requests?.[resource];
          const limit = limits?.[resource];
          expect(request && limit, `${d.metadata.name} ${resource}`).toBeTruthy();
          const parse = resource === 'cpu' ? millicores : bytes;
          expect(parse(String(request))).toBeLessThanOrEqual(parse(String(limit)));
        }
        const tmp = list(c['volumeMounts']).find((m) => m['mountPath'] === '/tmp');
        const volume = list(spec['volumes']).find((v) => v['name'] === tmp?.['name']);
        expect(volume?.['emptyDir'], `${d.metadata.name}: writable /tmp`).toBeDefined();
      }
    }
  });

  it("mounts every Secret with a mode its pod's user can read and others cannot", () => {
    // A Secret volume's files belong to root with the pod's fsGroup as their
    // group: a non-root user reads them through the group bits, never as owner.
    let secrets = 0;
    for (const d of r.all('Deployment')) {
      const { spec } = r.podTemplate(d);
      const security = map(spec['securityContext']);
      for (const v of list(spec['volumes'])) {
        const sources = [
          map(v['secret']),
          ...list(map(v['projected'])['sources']).map((s) => map(s['secret'])),
        ].filter((s) => typeof s['secretName'] === 'string' || typeof s['name'] === 'string');
        const projectedMode = map(v['projected'])['defaultMode'];
        for (const s of sources) {
          secrets += 1;
          const where = `${d.metadata.name}: volume ${String(v['name'])}`;
          const modes = [
            s['defaultMode'] ?? projectedMode,
            ...list(s['items']).map((i) => i['mode']),
          ].filter((m) => m !== undefined);
          expect(modes.length, `${where}: an explicit defaultMode`).toBeGreaterThan(0);
          for (const mode of modes) {
            expect(
              Number.isInteger(mode) && Number(mode) <= 0o777,
              `${where}: mode ${JSON.stringify(mode)}`,
            ).toBe(true);
            const m = Number(mode);
            expect(m & 0o040, `${where}: mode 0${m.toString(8)} lets the group read`).toBe(0o040);
            expect(m & 0o007, `${where}: mode 0${m.toString(8)} shows others nothing`).toBe(0);
          }
          expect(security['fsGroup'], `${where}: fsGroup`).toBe(security['runAsGroup']);
          expect(security['runAsUser'], `${where}: runAsUser`).toBe(NODE_UID);
        }
      }
    }
    expect(secrets).toBeGreaterThan(0);
  });

  it("mounts the console's users Secret read-only at the users file its configuration names", () => {
    const d = r.get('Deployment', 'console');
    const { spec } = r.podTemplate(d);
    const c = r.container(d);
    const file = String(
      list(c['env']).find((e) => e['name'] === 'GRANTSTREAM__CONSOLE__USERS_FILE')?.['value'],
    );
    const mount = list(c['volumeMounts']).find((m) => m['mountPath'] === posix.dirname(file));
    expect(mount?.['readOnly'], `a read-only volume at ${posix.dirname(file)}`).toBe(true);
    const volume = map(list(spec['volumes']).find((v) => v['name'] === mount?.['name']));
    expect(map(volume['secret'])['secretName']).toBe('grantstream-console-users');
    // 0440: root's file, read by the node user through fsGroup (see the test above).
    expect(map(volume['secret'])['defaultMode']).toBe(0o440);
  });

  it('deploys no grantstream image that schemas/pipeline.yaml does not declare', () => {
    for (const d of r.all('Deployment')) {
      for (const c of containersOf(d)) {
        const image = c['image'];
        const { name } = splitImage(typeof image === 'string' ? image : '');
        if (!name.startsWith('grantstream/')) continue;
        expect(SERVICE_NAMES, `${d.metadata.name}: ${name}`).toContain(
          name.slice('grantstream/'.length),
        );
      }
    }
  });

  it.each(STAGES)('deploys stage %s with probes on its metrics port and its image', (stage) => {
    const d = r.get('Deployment', stage);
    const { labels, spec } = r.podTemplate(d);
    expect(selects(map(d['spec'])['selector'], labels)).toBe(true);
    expect(map(d['spec'])['replicas'], 'the ScaledObject owns the replica count').toBeUndefined();
    const c = r.container(d);
    const port = list(c['ports']).find((p) => p['name'] === 'metrics');
    expect(port?.['containerPort']).toBe(metricsPortOf(stage));
    const probe = (name: string): { path?: unknown; port?: unknown } =>
      map(map(c[name])['httpGet']);
    for (const [name, path] of [
      ['livenessProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
      ['startupProbe', '/health/live'],
    ] as const) {
      expect(probe(name).path, name).toBe(path);
      expect([metricsPortOf(stage), 'metrics'], name).toContain(probe(name).port);
    }
    const image = splitImage(String(c['image']));
    expect(image.name).toBe(`grantstream/${stage}`);
    if (isDev) expect(image.tag).toBe('dev');
    if (isProd) expect(image.tag).toMatch(/^\d+\.\d+\.\d+$/);
    expect(spec['terminationGracePeriodSeconds']).toBeTypeOf('number');
    if (stage === 'ingest') {
      expect(bytes(String(map(map(c['resources'])['limits'])['memory']))).toBe(INGEST_MEMORY_LIMIT);
    }
  });

  it.each(STAGES)('gives stage %s a configuration that matches its pod', (stage) => {
    const d = r.get('Deployment', stage);
    const c = r.container(d);
    const config = effectiveStageConfig(r, d);
    const section = map(config[sectionKey(stage)]);
    const runner = { ...map(config['runner']), ...map(section['runner']) };

    expect(section['metrics']).toEqual({ host: '0.0.0.0', port: metricsPortOf(stage) });
    expect(runner['groupId']).toBe(`grantstream.${stage}`);
    const graceMs = Number(r.podTemplate(d).spec['terminationGracePeriodSeconds']) * 1000;
    expect(graceMs).toBeGreaterThanOrEqual(Number(runner['shutdownGraceMs']) + SHUTDOWN_MARGIN_MS);

    const memory = map(runner['memory']);
    const limit = bytes(String(map(map(c['resources'])['limits'])['memory']));
    expect(Number(memory['pauseAboveRssMb']) * 2 ** 20).toBeLessThanOrEqual(
      limit * GUARD_SHARE_OF_LIMIT,
    );
    expect(Number(memory['resumeBelowRssMb'])).toBeLessThan(Number(memory['pauseAboveRssMb']));

    const files = r.filesSeenBy(d);
    if (RULE_PACK_STAGES.has(stage)) {
      const packDir = String(map(config['rules'])['packDir']);
      const packs = Object.keys(map(r.get('ConfigMap', 'grantstream-rule-packs')['data']));
      expect(packs.length).toBeGreaterThan(0);
      expect(packDir).toBe(posix.join('/etc/grantstream', RULE_PACKS_SUBDIR));
      const seen = [...files]
        .filter(([path]) => posix.dirname(path) === packDir)
        .map(([path, source]) => {
          expect(source).toEqual({
            configMap: 'grantstream-rule-packs',
            key: posix.basename(path),
          });
          return posix.basename(path);
        });
      expect(seen.sort()).toEqual(packs.sort());
    }
    if (stage === 'ingest') {
      const volumes = list(r.podTemplate(d).spec['volumes']);
      for (const root of map(map(section['storage']))['fileRoots'] as string[]) {
        const mount = list(c['volumeMounts']).find((m) => m['mountPath'] === root);
        const volume = volumes.find((v) => v['name'] === mount?.['name']);
        expect(map(volume?.['persistentVolumeClaim'])['claimName'], root).toBe(ATTACHMENTS_CLAIM);
      }
    }

    const secretEnv = new Map(
      list(c['env'])
        .filter((e) => e['valueFrom'] !== undefined)
        .map((e) => [String(e['name']), map(map(e['valueFrom'])['secretKeyRef'])]),
    );
    const needed = PORTAL_STAGES.has(stage)
      ? Object.values(map(config['funders'])).map((f) => String(map(f)['tokenSecret']))
      : [];
    const webhookToken = map(map(config['notification'])['webhook'])['tokenSecret'];
    if (stage === 'notification' && typeof webhookToken === 'string') needed.push(webhookToken);
    for (const name of needed) {
      const ref = secretEnv.get(name);
      expect(ref?.['name'], `${stage}: ${name} from a Secret`).toBe(FUNDER_TOKENS_SECRET);
      expect(ref?.['key']).toBe(name);
      const secret = r.find('Secret', FUNDER_TOKENS_SECRET);
      if (isDev) {
        expect(map(secret?.['stringData'])[name], `${name} in the dev Secret`).toBeTypeOf('string');
      } else {
        expect(secret, 'funder tokens are never committed outside dev').toBeUndefined();
      }
    }
  });

  it.each(STAGES)("sets stage %s's memory.budgetMb to its container's memory limit", (stage) => {
    const d = r.get('Deployment', stage);
    const config = effectiveStageConfig(r, d);
    const runner = map(map(config[sectionKey(stage)])['runner']);
    const memory = { ...map(map(config['runner'])['memory']), ...map(runner['memory']) };
    const limit = bytes(String(map(map(r.container(d)['resources'])['limits'])['memory']));
    expect(Number(memory['budgetMb']) * 2 ** 20, `${stage}: budgetMb vs limits.memory`).toBe(limit);
  });

  it.each(STAGES)(
    "mounts the shared dead-letter claim, writable, at stage %s's configured store dir",
    (stage) => {
      const d = r.get('Deployment', stage);
      const { spec } = r.podTemplate(d);
      const config = effectiveStageConfig(r, d);
      const runner = map(map(config[sectionKey(stage)])['runner']);
      const store = {
        ...map(map(config['runner'])['deadLetterStore']),
        ...map(runner['deadLetterStore']),
      };
      const dir = String(store['dir']);
      expect(posix.isAbsolute(dir), `${stage}: runner.deadLetterStore.dir ${dir}`).toBe(true);
      const mount = list(r.container(d)['volumeMounts']).find((m) => m['mountPath'] === dir);
      expect(mount, `${stage}: a volume mounted at ${dir}`).toBeDefined();
      expect(mount?.['readOnly'] ?? false).toBe(false);
      const volume = list(spec['volumes']).find((v) => v['name'] === mount?.['name']);
      const claim = map(volume?.['persistentVolumeClaim']);
      expect(claim['claimName'], `${stage}: the volume at ${dir}`).toBe(DEAD_LETTERS_CLAIM);
      expect(claim['readOnly'] ?? false).toBe(false);
      // The claim's files belong to the pod's fsGroup: the image's node user (the
      // pod's runAsUser and runAsGroup) may write there on a read-only root.
      const security = map(spec['securityContext']);
      expect(security['fsGroup'], `${stage}: fsGroup`).toBe(security['runAsGroup']);
      expect(security['runAsUser']).toBe(NODE_UID);
    },
  );

  it('declares the dead-letter claim every stage replica shares', () => {
    const claim = r.get('PersistentVolumeClaim', DEAD_LETTERS_CLAIM);
    const modes = map(claim['spec'])['accessModes'] as string[];
    // Replicas of every stage on any node write there; a one-node dev cluster may
    // offer ReadWriteOnce only, which still serves every pod on its node.
    if (isDev) expect(['ReadWriteMany', 'ReadWriteOnce']).toContain(modes[0]);
    else expect(modes).toEqual(['ReadWriteMany']);
    expect(map(map(map(claim['spec'])['resources'])['requests'])['storage']).toBeTypeOf('string');
  });

  it('references only ConfigMaps and Secrets that exist (or that the README tells ops to create)', () => {
    for (const d of r.all('Deployment')) {
      for (const [path, source] of r.filesSeenBy(d)) {
        const data = map(r.find('ConfigMap', source.configMap)?.['data']);
        expect(data[source.key], `${d.metadata.name}: ${path}`).toBeTypeOf('string');
      }
      for (const e of containersOf(d).flatMap((c) => list(c['env']))) {
        const ref = map(map(e['valueFrom'])['secretKeyRef']);
        if (typeof ref['name'] !== 'string') continue;
        const secret = r.find('Secret', ref['name']);
        if (secret) {
          expect({ ...map(secret['data']), ...map(secret['stringData']) }).toHaveProperty([
            String(ref['key']),
          ]);
        } else {
          expect(ref['name'], `${d.metadata.name}: ${String(e['name'])}`).toBe(
            FUNDER_TOKENS_SECRET,
          );
        }
      }
    }
  });

  it.each(STAGES)(
    'guards stage %s with a PodDisruptionBudget that still lets a node drain',
    (stage) => {
      const pdb = r.get('PodDisruptionBudget', stage);
      const spec = map(pdb['spec']);
      expect(selects(spec['selector'], r.podTemplate(r.get('Deployment', stage)).labels)).toBe(
        true,
      );
      expect(spec['maxUnavailable']).toBeGreaterThanOrEqual(1);
    },
  );

  it.each(STAGES)('scales stage %s on its group lag, never past its inputs partitions', (stage) => {
    const scaled = r.get('ScaledObject', stage);
    const spec = map(scaled['spec']);
    const config = effectiveStageConfig(r, r.get('Deployment', stage));
    const group = String(
      map({ ...map(config['runner']), ...map(map(config[sectionKey(stage)])['runner']) })[
        'groupId'
      ],
    );
    const brokers = (map(config['kafka'])['brokers'] as string[]).join(',');
    const inputs = inputsOf(stage);

    expect(map(spec['scaleTargetRef'])['name']).toBe(stage);
    const min = Number(spec['minReplicaCount']);
    const max = Number(spec['maxReplicaCount']);
    expect(min).toBeGreaterThanOrEqual(1);
    expect(max).toBeGreaterThanOrEqual(min);
    for (const topic of inputs) {
      expect(max, `${stage} ceiling vs ${topic}`).toBeLessThanOrEqual(
        DECLARED.get(topic)?.partitions ?? 0,
      );
    }
    const triggers = list(spec['triggers']);
    for (const t of triggers) {
      expect(t['type']).toBe('kafka');
      const m = map(t['metadata']);
      expect(m['consumerGroup']).toBe(group);
      expect(m['bootstrapServers']).toBe(brokers);
      expect(Number(m['lagThreshold'])).toBeGreaterThan(0);
      expect(m['allowIdleConsumers'] ?? 'false').toBe('false');
    }
    const scaledOn = triggers.map((t) => map(t['metadata'])['topic']).sort();
    expect(scaledOn).toEqual(inputs.filter((t) => !DELAY_TOPICS.has(t)).sort());
    if (isDev) expect(min).toBe(1);
    if (isProd) expect(min).toBeGreaterThanOrEqual(stage === 'notification' ? 2 : 3);
  });

  it('declares exactly the topics of schemas/topics.yaml as Strimzi KafkaTopics', () => {
    const topics = r.all('KafkaTopic');
    expect(topics.map((t) => t.metadata.name).sort()).toEqual([...DECLARED.keys()].sort());
    const maxReplication = isDev ? 1 : Number.MAX_SAFE_INTEGER;
    for (const t of topics) {
      const declared = DECLARED.get(t.metadata.name);
      if (!declared) throw new Error(`undeclared topic ${t.metadata.name}`);
      const spec: TopicSpec = { ...declared, valueSchema: null };
      expect(t.metadata.labels?.['strimzi.io/cluster']).toBe(STRIMZI_CLUSTER);
      expect(t['spec']).toEqual({
        partitions: declared.partitions,
        replicas: effectiveReplication(spec, maxReplication),
        config: effectiveConfig(spec, maxReplication),
      });
    }
    if (!isDev) {
      for (const t of topics) {
        const declared = DECLARED.get(t.metadata.name);
        expect(map(t['spec'])['replicas']).toBe(declared?.replicationFactor);
        expect(map(t['spec'])['config']).toEqual(declared?.config);
      }
    }
  });

  it('denies all traffic to and from grantstream pods by default, DNS aside', () => {
    const deny = map(r.get('NetworkPolicy', 'default-deny')['spec']);
    expect(deny['podSelector']).toEqual({
      matchLabels: { 'app.kubernetes.io/part-of': 'grantstream' },
    });
    expect(deny['policyTypes']).toEqual(['Ingress', 'Egress']);
    expect(deny['ingress']).toBeUndefined();
    expect(deny['egress']).toBeUndefined();
    for (const d of r.all('Deployment')) {
      const { labels } = r.podTemplate(d);
      expect(labels['app.kubernetes.io/part-of'], d.metadata.name).toBe('grantstream');
      const dns = {
        labels: { 'k8s-app': 'kube-dns' },
        namespace: { 'kubernetes.io/metadata.name': 'kube-system' },
        port: 53,
        ours: false,
      };
      expect(egressAllowed(r, labels, dns), `${d.metadata.name}: DNS`).toBe(true);
      const own = r
        .all('NetworkPolicy')
        .filter(
          (p) =>
            p.metadata.name === d.metadata.name && selects(map(p['spec'])['podSelector'], labels),
        );
      expect(own, `${d.metadata.name} has a policy of its own`).toHaveLength(1);
    }
  });

  it.each(STAGES)(
    'lets stage %s reach what its configuration names, and Prometheus reach it',
    (stage) => {
      const d = r.get('Deployment', stage);
      const { labels } = r.podTemplate(d);
      const config = effectiveStageConfig(r, d);
      const addresses = [
        ...(map(config['kafka'])['brokers'] as string[]),
        String(map(config['registry'])['url']),
      ];
      // The base leaves funder portals and the webhook to the overlays (its values
      // are the local stack's loopback addresses); each overlay must reach its own.
      const overlay = dir !== 'base';
      if (PORTAL_STAGES.has(stage)) {
        const redis = map(config['redis']);
        addresses.push(`${String(redis['host'])}:${String(redis['port'])}`);
        for (const f of Object.values(map(config['funders']))) {
          if (overlay) addresses.push(String(map(f)['baseUrl']));
        }
      }
      if (stage === 'notification' && overlay) {
        addresses.push(String(map(map(config['notification'])['webhook'])['url']));
      }
      for (const address of addresses) expect(hostPort(address).host).not.toBe('127.0.0.1');
      for (const address of addresses) {
        const to = destinationOf(r, address);
        expect(egressAllowed(r, labels, to), `${stage} -> ${address}`).toBe(true);
        if (to.ours && to.labels) {
          const admitted = ingressAllowed(
            r,
            to.labels,
            to.port,
            (peer) =>
              peer['namespaceSelector'] === undefined &&
              peer['podSelector'] !== undefined &&
              selects(peer['podSelector'], labels),
          );
          expect(admitted, `${address} admits ${stage}`).toBe(true);
        }
      }
      const scraped = ingressAllowed(
        r,
        labels,
        metricsPortOf(stage),
        (peer) =>
          peer['namespaceSelector'] !== undefined &&
          selects(peer['namespaceSelector'], { 'kubernetes.io/metadata.name': 'monitoring' }),
      );
      expect(scraped, `${stage} metrics from the monitoring namespace`).toBe(true);
    },
  );

  it('runs Redis as the local stack does, where the stages look for it', () => {
    const redis = r.get('Deployment', 'redis');
    const c = containersOf(redis)[0] ?? {};
    const stackConfig = loadGrantstreamConfig({});
    const [major, minor] = stackConfig.stack.redis.version.split('.');
    expect(c['image']).toBe(`redis:${major}.${minor}`);
    expect(c['args']).toEqual(['redis-server', ...REDIS_NO_PERSISTENCE]);
    const config = effectiveStageConfig(r, r.get('Deployment', 'submission'));
    const address = map(config['redis']);
    expect(destinationOf(r, `${String(address['host'])}:${String(address['port'])}`)).toEqual({
      labels: r.podTemplate(redis).labels,
      port: 6379,
      ours: true,
    });
  });
});

describe('k8s/overlays/dev stand-ins', () => {
  const r = render('overlays/dev');

  it('runs the funder simulator as every portal, with its tokens and a one-broker Kafka', () => {
    const config = effectiveStageConfig(r, r.get('Deployment', 'submission'));
    const simulator = r.get('Deployment', 'funder-simulator');
    expect(splitImage(String(r.container(simulator)['image']))).toEqual({
      name: 'grantstream/funder-simulator',
      tag: 'dev',
    });
    const simConfig = effectiveStageConfig(r, simulator);
    expect(map(simConfig['simulator'])['host']).toBe('0.0.0.0');
    const simFunders = map(map(simConfig['simulator'])['funders']);
    const secret = map(r.get('Secret', FUNDER_TOKENS_SECRET)['stringData']);
    for (const [id, funder] of Object.entries(map(config['funders']))) {
      const url = String(map(funder)['baseUrl']);
      expect(destinationOf(r, url).labels).toEqual(r.podTemplate(simulator).labels);
      expect(new URL(url).pathname).toBe(`/funders/${id}`);
      expect(secret[String(map(funder)['tokenSecret'])]).toBe(map(simFunders[id])['token']);
    }
    expect(map(config['topics'])['maxReplicationFactor']).toBe(1);
    const kafka = map(r.get('Kafka', STRIMZI_CLUSTER)['spec']);
    expect(map(map(kafka['kafka'])['config'])['min.insync.replicas']).toBe(1);
    const pool = r
      .all('KafkaNodePool')
      .find((p) => p.metadata.labels?.['strimzi.io/cluster'] === STRIMZI_CLUSTER);
    expect(map(pool?.['spec'])['replicas']).toBe(1);
    expect(r.find('PersistentVolumeClaim', ATTACHMENTS_CLAIM)).toBeDefined();
  });
});

describe('k8s/overlays/prod release settings', () => {
  const r = render('overlays/prod');

  it('pins one release tag, replicates topics three times and is scraped by a PodMonitor', () => {
    const tags = new Set(
      STAGES.map((s) => splitImage(String(r.container(r.get('Deployment', s))['image'])).tag),
    );
    expect(tags.size).toBe(1);
    const config = effectiveStageConfig(r, r.get('Deployment', 'submission'));
    expect(map(config['topics'])['maxReplicationFactor']).toBe(3);
    for (const f of Object.values(map(config['funders']))) {
      expect(new URL(String(map(f)['baseUrl'])).protocol).toBe('https:');
    }
    const monitor = map(r.get('PodMonitor', 'grantstream-stages')['spec']);
    for (const stage of STAGES) {
      expect(selects(monitor['selector'], r.podTemplate(r.get('Deployment', stage)).labels)).toBe(
        true,
      );
    }
    expect(list(monitor['podMetricsEndpoints'])[0]).toMatchObject({
      port: 'metrics',
      path: '/metrics',
    });
    expect(r.find('Deployment', 'funder-simulator')).toBeUndefined();
  });
});
