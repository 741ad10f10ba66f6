import { join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SERVICE_DECLARATIONS } from '@grantstream/contracts';
import { principalOf } from '@grantstream/kafka';
import { kustomizeBuild, type K8sObject } from './k8s-render';

// Every pod that connects to Kafka does so as its own principal, with the
// credentials mounted from its own KafkaUser's Secret and the cluster CA,
// over the listener the configuration names; KEDA's lag scaler and the
// NetworkPolicies follow the same listener. Checked on every overlay as
// rendered, for every service of schemas/pipeline.yaml that touches a topic.

const K8S = resolve(__dirname, '../../../k8s');
const OVERLAYS = ['overlays/dev', 'overlays/prod'] as const;
/** The Secret the Strimzi Cluster Operator makes for the cluster CA of the Kafka named grantstream. */
const CLUSTER_CA_SECRET = 'grantstream-cluster-ca-cert';

type Obj = Record<string, unknown>;
const map = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(map) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Services of the manifest that read or write a topic: each needs a principal. */
const KAFKA_SERVICES = SERVICE_DECLARATIONS.filter(
  (s) => s.kind === 'stage' || s.inputs.length + s.outputs.length > 0,
);

interface ClusterKafka {
  brokers: string[];
  caFile: string | null;
}

function clusterKafka(objects: readonly K8sObject[]): ClusterKafka {
  const cm = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === 'grantstream-cluster',
  );
  const cluster = map(parse(str(map(cm?.['data'])['cluster.yaml'])));
  const kafka = map(cluster['kafka']);
  return {
    brokers: (kafka['brokers'] as string[] | undefined) ?? [],
    caFile: (map(kafka['tls'])['caFile'] as string | undefined) ?? null,
  };
}

const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));

/**
 * What is wrong with `service`'s Kafka access in the rendered `objects`:
 * an empty list when its Deployment mounts its own KafkaUser's Secret and no
 * other's, the cluster CA, and names its user and the mounted files in its
 * configuration; its NetworkPolicy lets it reach the configured listener; and
 * its KEDA triggers authenticate as it, from the same Secrets.
 */
export function kafkaAccessProblems(objects: readonly K8sObject[], service: string): string[] {
  const problems: string[] = [];
  const own = principalOf(service);
  const users = new Set(objects.filter((o) => o.kind === 'KafkaUser').map((o) => o.metadata.name));
  if (!users.has(own)) problems.push(`no KafkaUser ${own}`);
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service);
  if (!deployment) return [...problems, `no Deployment ${service}`];
  const pod = map(map(map(deployment['spec'])['template'])['spec']);
  const volumes = list(pod['volumes']);
  const secretOf = (v: Obj) => map(v['secret'])['secretName'] as string | undefined;
  const userVolumes = volumes.filter((v) => users.has(secretOf(v) ?? ''));
  for (const v of userVolumes)
    if (secretOf(v) !== own)
      problems.push(`mounts ${String(secretOf(v))}, another principal's Secret`);
  const userVolume = userVolumes.find((v) => secretOf(v) === own);
  const caVolume = volumes.find((v) => secretOf(v) === CLUSTER_CA_SECRET);
  if (!userVolume) problems.push(`mounts no Secret of KafkaUser ${own}`);
  if (!caVolume) problems.push(`mounts no ${CLUSTER_CA_SECRET}`);
  const container = list(pod['containers']).find((c) => c['name'] === service);
  if (!container) return [...problems, `no container ${service}`];
  const mountOf = (volume: Obj | undefined) =>
    list(container['volumeMounts']).find((m) => m['name'] === volume?.['name']);
  const inside = (file: string, volume: Obj | undefined): boolean => {
    const m = mountOf(volume);
    return (
      m !== undefined && m['readOnly'] === true && file.startsWith(`${String(m['mountPath'])}/`)
    );
  };
  const env = new Map(list(container['env']).map((e) => [String(e['name']), e['value']]));
  const saslText = env.get('GRANTSTREAM__KAFKA__SASL');
  const sasl = map(typeof saslText === 'string' ? JSON.parse(saslText) : null);
  const passwordFile = str(map(sasl['password'])['file']);
  if (sasl['username'] !== own)
    problems.push(`connects as ${String(sasl['username'])}, not ${own}`);
  if (sasl['mechanism'] !== 'scram-sha-512')
    problems.push(`SASL mechanism ${String(sasl['mechanism'])}`);
  if (!inside(passwordFile, userVolume))
    problems.push(`password file ${passwordFile} is not in its user Secret's read-only mount`);
  const kafka = clusterKafka(objects);
  if (!kafka.caFile || !inside(kafka.caFile, caVolume))
    problems.push(
      `kafka.tls.caFile ${String(kafka.caFile)} is not in the CA Secret's read-only mount`,
    );
  if (caVolume && posix.basename(kafka.caFile ?? '') !== 'ca.crt')
    problems.push('the CA file is not the Secret key ca.crt');

  const ports = new Set(kafka.brokers.map(portOf));
  const labels = map(map(map(deployment['spec'])['template'])['metadata'])['labels'] as Record<
    string,
    string
  >;
  const kafkaEgressPorts = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .filter((p) => {
      const selector = map(map(p['spec'])['podSelector'])['matchLabels'] as Record<string, string>;
      return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
    })
    .flatMap((p) => list(map(p['spec'])['egress']))
    .filter((rule) =>
      list(rule['to']).some(
        (peer) => map(map(peer['podSelector'])['matchLabels'])['strimzi.io/kind'] === 'Kafka',
      ),
    )
    .flatMap((rule) => list(rule['ports']).map((p) => Number(p['port'])));
  for (const port of ports)
    if (!kafkaEgressPorts.includes(port)) problems.push(`no egress to the brokers' port ${port}`);
  for (const port of kafkaEgressPorts)
    if (!ports.has(port)) problems.push(`egress to Kafka port ${port}, which it does not use`);

  const scaled = objects.find((o) => o.kind === 'ScaledObject' && o.metadata.name === service);
  for (const trigger of list(map(scaled?.['spec'])['triggers'])) {
    if (trigger['type'] !== 'kafka') continue;
    const meta = map(trigger['metadata']);
    if (!kafka.brokers.includes(String(meta['bootstrapServers'])))
      problems.push(`KEDA trigger on ${String(meta['bootstrapServers'])}`);
    if (meta['sasl'] !== 'scram_sha512' || meta['tls'] !== 'enable')
      problems.push('KEDA trigger without SCRAM-SHA-512 over TLS');
    const authName = map(trigger['authenticationRef'])['name'];
    const auth = objects.find(
      (o) => o.kind === 'TriggerAuthentication' && o.metadata.name === authName,
    );
    const refs = list(map(auth?.['spec'])['secretTargetRef']);
    const ref = (parameter: string) => refs.find((r) => r['parameter'] === parameter);
    if (ref('password')?.['name'] !== own || ref('password')?.['key'] !== 'password')
      problems.push(`KEDA's password is not key password of Secret ${own}`);
    if (ref('ca')?.['name'] !== CLUSTER_CA_SECRET)
      problems.push(`KEDA's CA is not ${CLUSTER_CA_SECRET}`);
    const username = list(map(auth?.['spec'])['env']).find((e) => e['parameter'] === 'username');
    if (username?.['containerName'] !== service || env.get(String(username?.['name'])) !== own)
      problems.push(`KEDA's user name is not ${own}`);
  }
  if (
    problems.length === 0 &&
    SERVICE_DECLARATIONS.some((s) => s.name === service && s.kind === 'stage') &&
    !scaled
  )
    problems.push(`no ScaledObject ${service}`);
  return problems;
}

describe.each(OVERLAYS)('Kafka access in k8s/%s', (dir) => {
  const objects = kustomizeBuild(join(K8S, dir));
  const deployed = KAFKA_SERVICES.filter(
    (s) =>
      s.kind === 'stage' ||
      objects.some((o) => o.kind === 'Deployment' && o.metadata.name === s.name),
  );

  it('deploys every stage of the manifest', () => {
    for (const s of SERVICE_DECLARATIONS.filter((d) => d.kind === 'stage'))
      expect(deployed.map((d) => d.name)).toContain(s.name);
  });

  it.each(deployed.map((s) => s.name))(
    '%s connects as its own principal with its own Secret and the cluster CA',
    (name) => expect(kafkaAccessProblems(objects, name)).toEqual([]),
  );

  it("uses the cluster's TLS listener with SCRAM (dev: the Kafka it deploys says so)", () => {
    const { brokers } = clusterKafka(objects);
    expect(brokers.length).toBeGreaterThan(0);
    const kafka = objects.find((o) => o.kind === 'Kafka');
    if (dir === 'overlays/dev') {
      const listeners = list(map(map(kafka?.['spec'])['kafka'])['listeners']);
      for (const b of brokers) {
        const listener = listeners.find((l) => Number(l['port']) === portOf(b));
        expect(listener?.['tls']).toBe(true);
        expect(map(listener?.['authentication'])['type']).toBe('scram-sha-512');
      }
      expect(map(map(map(kafka?.['spec'])['kafka'])['authorization'])['type']).toBe('simple');
      expect(map(map(kafka?.['spec'])['entityOperator'])['userOperator']).toBeDefined();
    } else {
      // Production's Kafka is the operator's: the base names the Strimzi `tls` listener.
      expect(kafka).toBeUndefined();
      for (const b of brokers) expect(portOf(b)).toBe(9093);
    }
  });

  it('carries no Secret with a Kafka credential: the User Operator makes them', () => {
    const users = new Set(
      objects.filter((o) => o.kind === 'KafkaUser').map((o) => o.metadata.name),
    );
    const baked = objects.filter((o) => o.kind === 'Secret' && users.has(o.metadata.name));
    expect(baked.map((o) => o.metadata.name)).toEqual([]);
  });

  it("fails a stage that lacks its Secret mount or reads another stage's Secret", () => {
    const [first, second] = deployed.filter((s) => s.kind === 'stage');
    const edit = (mutate: (pod: Obj) => void): K8sObject[] =>
      objects.map((o) => {
        if (o.kind !== 'Deployment' || o.metadata.name !== first?.name) return o;
        const copy = structuredClone(o);
        mutate(map(map(map(copy['spec'])['template'])['spec']));
        return copy;
      });
    const withoutMount = edit((pod) => {
      pod['volumes'] = list(pod['volumes']).filter((v) => v['name'] !== 'kafka-user');
    });
    expect(kafkaAccessProblems(withoutMount, first?.name ?? '').join('\n')).toMatch(
      /mounts no Secret of KafkaUser/,
    );
    const foreign = edit((pod) => {
      for (const v of list(pod['volumes']))
        if (v['name'] === 'kafka-user')
          map(v['secret'])['secretName'] = principalOf(second?.name ?? '');
    });
    expect(kafkaAccessProblems(foreign, first?.name ?? '').join('\n')).toMatch(
      /another principal's Secret/,
    );
  });
});
