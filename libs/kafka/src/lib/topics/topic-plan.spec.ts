import { describe, expect, it } from 'vitest';
import { planTopics, type ObservedTopic, type TopicSpec } from './topic-plan';

const audit: TopicSpec = {
  name: 'grants.audit.v1',
  partitions: 6,
  replicationFactor: 3,
  config: { 'cleanup.policy': 'compact', 'retention.ms': '-1' },
  valueSchema: null,
};
const observed = (o: Partial<ObservedTopic>): Map<string, ObservedTopic> =>
  new Map([
    [
      audit.name,
      {
        name: audit.name,
        partitions: 6,
        replicationFactor: 1,
        config: { 'cleanup.policy': 'compact', 'retention.ms': '-1' },
        ...o,
      },
    ],
  ]);

describe('planTopics', () => {
  it('creates a missing topic', () => {
    expect(planTopics([audit], new Map(), 1)).toEqual({ create: [audit], drift: [], inSync: [] });
  });

  it('is in sync when the cluster matches, with replication capped by the cluster size', () => {
    expect(planTopics([audit], observed({}), 1)).toEqual({
      create: [],
      drift: [],
      inSync: [audit.name],
    });
  });

  it('reports a config changed by hand as fixable drift', () => {
    const plan = planTopics(
      [audit],
      observed({ config: { 'cleanup.policy': 'delete', 'retention.ms': '-1' } }),
      1,
    );
    expect(plan.drift).toEqual([
      {
        topic: audit.name,
        field: 'cleanup.policy',
        declared: 'compact',
        actual: 'delete',
        fixable: true,
      },
    ]);
    expect(plan.inSync).toEqual([]);
  });

  it('can add partitions but never remove them', () => {
    expect(planTopics([audit], observed({ partitions: 3 }), 1).drift[0]).toMatchObject({
      fixable: true,
    });
    expect(planTopics([audit], observed({ partitions: 9 }), 1).drift[0]).toMatchObject({
      fixable: false,
    });
  });

  it('caps min.insync.replicas by the effective replication factor', () => {
    const spec = { ...audit, config: { ...audit.config, 'min.insync.replicas': '2' } };
    const o = observed({ config: { ...audit.config, 'min.insync.replicas': '1' } });
    expect(planTopics([spec], o, 1).inSync).toEqual([audit.name]);
    expect(planTopics([spec], o, 3).drift).toContainEqual(
      expect.objectContaining({ field: 'min.insync.replicas', declared: '2' }),
    );
  });

  it('reports a replication factor that differs from the capped declaration', () => {
    expect(planTopics([audit], observed({ replicationFactor: 1 }), 3).drift[0]).toMatchObject({
      field: 'replicationFactor',
      declared: '3',
      actual: '1',
      fixable: false,
    });
  });
});
