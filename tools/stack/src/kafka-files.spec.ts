import { describe, expect, it } from 'vitest';
import { CLUSTER_CONFIG_FILE, kafkaNodes, loadGrantstreamConfig } from '@grantstream/config';
import { serverProperties } from './kafka-files';
import { marker } from './processes';

const config = loadGrantstreamConfig({
  GRANTSTREAM__STACK__KAFKA__PORT: '19092',
  GRANTSTREAM__STACK__KAFKA__CONTROLLER_PORT: '19093',
});

function props(text: string): Map<string, string> {
  return new Map(
    text
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

describe('serverProperties', () => {
  const p = props(serverProperties(config, '/data'));

  it('runs one combined broker+controller on the configured loopback ports', () => {
    expect(p.get('process.roles')).toBe('broker,controller');
    expect(p.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(p.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(p.get('log.dirs')).toBe('/data');
  });

  it('sets the single-node settings transactions and fast group joins need', () => {
    expect(p.get('transaction.state.log.replication.factor')).toBe('1');
    expect(p.get('transaction.state.log.min.isr')).toBe('1');
    expect(p.get('offsets.topic.replication.factor')).toBe('1');
    expect(p.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(p.get('auto.create.topics.enable')).toBe('false');
  });
});

describe('process marker', () => {
  it('names the state folder and the component, so two stacks never match each other', () => {
    expect(marker('/s/a', 'kafka')).toBe('-Dgrantstream.stack=/s/a#kafka');
    expect(marker('/s/a', 'kafka')).not.toBe(marker('/s/ab', 'kafka'));
  });
});

describe('serverProperties of the cluster mode', () => {
  const cluster = loadGrantstreamConfig({}, [CLUSTER_CONFIG_FILE]);
  const nodes = kafkaNodes(cluster.stack);
  const all = nodes.map((n) => props(serverProperties(cluster, `/data/${n.id}`, n)));

  it('runs three nodes with their own ids, ports and log dirs, and one static quorum', () => {
    expect(nodes.map((n) => n.id)).toEqual([1, 2, 3]);
    expect(new Set(all.map((p) => p.get('listeners'))).size).toBe(3);
    expect(new Set(all.map((p) => p.get('log.dirs'))).size).toBe(3);
    expect(new Set(all.map((p) => p.get('controller.quorum.voters'))).size).toBe(1);
    expect(all[1]?.get('controller.quorum.voters')?.split(',')).toHaveLength(3);
  });

  it('replicates the internal topics as production does: 3 replicas, min ISR 2', () => {
    for (const p of all) {
      expect(p.get('offsets.topic.replication.factor')).toBe('3');
      expect(p.get('transaction.state.log.replication.factor')).toBe('3');
      expect(p.get('transaction.state.log.min.isr')).toBe('2');
      expect(p.get('min.insync.replicas')).toBe('2');
    }
    expect(cluster.topics.maxReplicationFactor).toBeGreaterThanOrEqual(3);
  });

  it('advertises each node fault listener at its proxy port, beside the plain listener', () => {
    const node = nodes[2];
    const p = all[2];
    expect(p?.get('advertised.listeners')).toBe(
      `PLAINTEXT://127.0.0.1:${node?.port},FAULTS://127.0.0.1:${node?.faultProxy?.port}`,
    );
    expect(p?.get('listeners')).toContain(`FAULTS://127.0.0.1:${node?.faultProxy?.listenerPort}`);
    expect(p?.get('inter.broker.listener.name')).toBe('PLAINTEXT');
  });

  it('fits three heaps on a small machine', () => {
    expect(cluster.stack.kafka.heapMb).toBeLessThanOrEqual(384);
  });

  it('refuses a replication factor above the node count', () => {
    expect(() =>
      loadGrantstreamConfig({ GRANTSTREAM__STACK__KAFKA__NODES: '2' }, [CLUSTER_CONFIG_FILE]),
    ).toThrow(/minInsync <= factor <= nodes/);
  });
});
