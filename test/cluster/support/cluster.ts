import {
  CLUSTER_CONFIG_FILE,
  kafkaNodes,
  loadGrantstreamConfig,
  type GrantstreamConfig,
} from '@grantstream/config';
import { TopicScanner, type PlatformClients } from '@grantstream/kafka';
import { KafkaFaultProxies } from '@grantstream/testing';
import { createHopTopics, type FanoutRecord, type HopTopics } from '../../support/fanout';

/**
 * The environment that points any command or stage at the cluster mode:
 * config/cluster.yaml, then the files GRANTSTREAM_CONFIG already names (a
 * cluster on other ports and another state dir, beside the default one).
 */
export const CLUSTER_ENV: NodeJS.ProcessEnv = {
  GRANTSTREAM_CONFIG: [
    CLUSTER_CONFIG_FILE,
    ...(process.env['GRANTSTREAM_CONFIG'] ?? '')
      .split(',')
      .filter((f) => f !== '' && f !== CLUSTER_CONFIG_FILE),
  ].join(','),
};

/** The cluster mode's configuration (config/cluster.yaml over the defaults). */
export function clusterConfig(): GrantstreamConfig {
  return loadGrantstreamConfig({ ...process.env, ...CLUSTER_ENV });
}

/**
 * Fresh hop topics replicated as production's are (replication 3,
 * min.insync.replicas 2), so losing one node stops no write.
 */
export function createClusterHopTopics(
  clients: PlatformClients,
  config: GrantstreamConfig,
  name: string,
  partitions: number,
): Promise<HopTopics> {
  const { factor, minInsync } = config.stack.kafka.replication;
  return createHopTopics(clients, name, partitions, undefined, {
    factor,
    config: { 'min.insync.replicas': String(minInsync) },
  });
}

/** A fault proxy in front of each node, on the ports the nodes advertise on their fault listener. */
export function clusterProxies(config: GrantstreamConfig): KafkaFaultProxies {
  return new KafkaFaultProxies(
    config.stack.host,
    kafkaNodes(config.stack),
    config.stack.faults.maxFrameBytes,
  );
}

/** What a read_committed reader of the whole output topic saw, against what the inputs call for. */
export interface ExactlyOnceReport {
  inputs: number;
  expectedOutputs: number;
  outputs: number;
  distinct: number;
  /** Output identities (input partition/offset, index) seen more than once, counted once each. */
  duplicated: number;
  /** Copies beyond the first, in all. */
  extraCopies: number;
  /** Expected identities never seen. */
  missing: number;
  /** Inputs none of whose outputs were seen. */
  inputsSkipped: number;
  /** Records that came before one from an earlier input of the same input partition, in one output partition. */
  orderViolations: number;
}

/**
 * Scans the output topic to its end, read_committed and without a consumer
 * group, and compares it with `inputEnds` (the end offset of each input
 * partition; every input produced once, fanned out `fanout` times).
 */
export async function exactlyOnceReport(
  clients: PlatformClients,
  config: GrantstreamConfig,
  outputTopic: string,
  inputEnds: ReadonlyMap<number, string>,
  fanout: number,
): Promise<ExactlyOnceReport> {
  const scanner = new TopicScanner(clients.kafka);
  const seen = new Map<string, number>();
  const lastByStream = new Map<string, number>();
  let outputs = 0;
  let orderViolations = 0;
  try {
    for await (const m of scanner.scan(outputTopic, {
      maxBytesPerFetch: config.audit.maxBytesPerFetch,
      maxWaitMs: config.audit.maxWaitMs,
      maxEmptyFetches: config.audit.maxEmptyFetches,
    })) {
      const r = (await clients.serde.decode<FanoutRecord>(m.value)).value;
      outputs += 1;
      const id = `${r.input_partition}/${r.input_offset}/${r.index}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      // Within one output partition, one input partition's records keep their input order.
      const stream = `${m.partition}<${r.input_partition}`;
      const position = r.input_offset * (fanout + 1) + r.index;
      const last = lastByStream.get(stream);
      if (last !== undefined && position < last) orderViolations += 1;
      lastByStream.set(stream, Math.max(position, last ?? position));
    }
  } finally {
    await scanner.close();
  }
  let missing = 0;
  let inputsSkipped = 0;
  let inputs = 0;
  for (const [partition, end] of inputEnds) {
    for (let offset = 0; offset < Number(end); offset += 1) {
      inputs += 1;
      let absent = 0;
      for (let index = 0; index < fanout; index += 1)
        if (!seen.has(`${partition}/${offset}/${index}`)) absent += 1;
      missing += absent;
      if (absent === fanout) inputsSkipped += 1;
    }
  }
  const copies = [...seen.values()];
  return {
    inputs,
    expectedOutputs: inputs * fanout,
    outputs,
    distinct: seen.size,
    duplicated: copies.filter((n) => n > 1).length,
    extraCopies: copies.reduce((n, c) => n + c - 1, 0),
    missing,
    inputsSkipped,
    orderViolations,
  };
}

/** The end offset of every partition of `topic`, as numbers of inputs produced. */
export async function inputEnds(
  clients: PlatformClients,
  topic: string,
): Promise<Map<number, string>> {
  return (await clients.io.endOffsets([topic])).get(topic) ?? new Map();
}

/**
 * Resolves once the group has committed every input partition up to `ends`
 * (committed offsets read through the admin API), or throws after `timeoutMs`.
 */
export async function waitAllCommitted(
  clients: PlatformClients,
  groupId: string,
  topic: string,
  ends: ReadonlyMap<number, string>,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const admin = clients.kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  let behind = '';
  try {
    for (;;) {
      try {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const committed = new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
        const lagging = [...ends].filter(
          ([p, end]) => BigInt(committed.get(p) ?? '-1') < BigInt(end),
        );
        if (lagging.length === 0) return;
        behind = lagging.map(([p, end]) => `${p}: ${committed.get(p) ?? '-1'}/${end}`).join(', ');
      } catch (err) {
        behind = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`group ${groupId} still behind: ${behind}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await admin.disconnect();
  }
}
