import {
  AssignerProtocol,
  ConfigResourceTypes,
  type Admin,
  type Kafka,
} from '@grantstream/kafkajs-extended';
import { InfrastructureError } from '@grantstream/errors';
import { kafkaSecurityFailureOf } from './kafka-client';
import type { ObservedTopic, TopicSpec } from './topics/topic-plan';

/** What the cluster says about itself. */
export interface ClusterInfo {
  clusterId: string;
  controller: number | null;
  brokers: { nodeId: number; host: string; port: number }[];
}

/** A consumer group as its coordinator sees it: state and each member's assigned partitions. */
export interface GroupDescription {
  groupId: string;
  /** Empty, PreparingRebalance, CompletingRebalance, Stable or Dead. */
  state: string;
  members: { memberId: string; clientId: string; assignment: Record<string, number[]> }[];
}

/**
 * Cluster administration behind our own types, so nothing outside libs/kafka
 * sees kafkajs. Every failure surfaces as an {@link InfrastructureError}.
 */
export class KafkaAdmin {
  private readonly admin: Admin;
  private connected = false;

  constructor(private readonly kafka: Kafka) {
    this.admin = kafka.admin();
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.wrap('connect', () => this.admin.connect());
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.admin.disconnect();
  }

  /** An admin round trip: the readiness test of a broker (a listening port is not enough). */
  async describeCluster(): Promise<ClusterInfo> {
    const c = await this.wrap('describeCluster', () => this.admin.describeCluster());
    return { clusterId: c.clusterId, controller: c.controller, brokers: c.brokers };
  }

  async listTopics(): Promise<string[]> {
    return this.wrap('listTopics', () => this.admin.listTopics());
  }

  /** Partition count, replication factor and the values of `configKeys` for each existing topic. */
  async describeTopics(
    names: readonly string[],
    configKeys: readonly string[],
  ): Promise<Map<string, ObservedTopic>> {
    const existing = new Set(await this.listTopics());
    const present = names.filter((n) => existing.has(n));
    const out = new Map<string, ObservedTopic>();
    if (present.length === 0) return out;
    const meta = await this.wrap('fetchTopicMetadata', () =>
      this.admin.fetchTopicMetadata({ topics: present }),
    );
    const configs = await this.wrap('describeConfigs', () =>
      this.admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: [...configKeys],
        })),
      }),
    );
    for (const t of meta.topics) {
      const resource = configs.resources.find((r) => r.resourceName === t.name);
      const config: Record<string, string | undefined> = {};
      for (const entry of resource?.configEntries ?? [])
        config[entry.configName] = entry.configValue;
      out.set(t.name, {
        name: t.name,
        partitions: t.partitions.length,
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        config,
      });
    }
    return out;
  }

  /** Creates the topics exactly as given (callers pass effective replication and configs). */
  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    await this.wrap('createTopics', () =>
      this.admin.createTopics({
        waitForLeaders: true,
        topics: specs.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
        })),
      }),
    );
  }

  async createPartitions(topic: string, count: number): Promise<void> {
    await this.wrap('createPartitions', () =>
      this.admin.createPartitions({ topicPartitions: [{ topic, count }] }),
    );
  }

  /** Sets the given topic configs, leaving other topic-level configs as they are. */
  async setTopicConfig(topic: string, config: Readonly<Record<string, string>>): Promise<void> {
    // kafkajs's alterConfigs is the non-incremental AlterConfigs API: the given
    // set replaces every dynamic config of the topic, so send the full merge of
    // current dynamic values and the new ones.
    const current = await this.wrap('describeConfigs', () =>
      this.admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      }),
    );
    const dynamic: Record<string, string> = {};
    for (const e of current.resources[0]?.configEntries ?? []) {
      if (!e.isDefault && !e.readOnly && e.configValue !== null)
        dynamic[e.configName] = e.configValue;
    }
    const merged = { ...dynamic, ...config };
    await this.wrap('alterConfigs', () =>
      this.admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
          },
        ],
      }),
    );
  }

  /** Messages currently held by a topic (sum over partitions of high minus low watermark). */
  async messageCount(topic: string): Promise<number> {
    const offsets = await this.wrap('fetchTopicOffsets', () => this.admin.fetchTopicOffsets(topic));
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  }

  /**
   * Commits `positions` for a consumer group that has no active member: where
   * it starts when it first joins (a new group starts at the topics' current
   * ends this way, skipping their history without relying on offset reset).
   * One short-lived member joins, commits every position at once and leaves
   * (kafkajs's setOffsets joins once per topic, seconds each).
   */
  async setGroupOffsets(
    groupId: string,
    positions: ReadonlyMap<string, ReadonlyMap<number, string>>,
    timeoutMs = 60_000,
  ): Promise<void> {
    const topics = [...positions.keys()];
    if (topics.length === 0) return;
    const consumer = this.kafka.consumer({ groupId, rebalanceTimeout: timeoutMs });
    try {
      await this.wrap('setGroupOffsets', async () => {
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: true });
        const joined = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no group join within ${timeoutMs} ms`)),
            timeoutMs,
          );
          consumer.on(consumer.events.GROUP_JOIN, () => {
            clearTimeout(timer);
            // Nothing is to be read: stop fetching before the first batch.
            consumer.pause(topics.map((topic) => ({ topic })));
            resolve();
          });
        });
        await consumer.run({ autoCommit: false, eachBatch: () => Promise.resolve() });
        await joined;
        await consumer.commitOffsets(
          [...positions].flatMap(([topic, partitions]) =>
            [...partitions].map(([partition, offset]) => ({ topic, partition, offset })),
          ),
        );
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /**
   * A consumer group's state and its members' assignments (the coordinator's
   * view: a member counts once its join completed and its assignment arrived).
   */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const { groups } = await this.wrap('describeGroups', () =>
      this.admin.describeGroups([groupId]),
    );
    const group = groups[0];
    return {
      groupId,
      state: group?.state ?? 'Dead',
      members: (group?.members ?? []).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        // A member still joining has an empty assignment buffer.
        assignment:
          m.memberAssignment.length > 0
            ? (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {})
            : {},
      })),
    };
  }

  /**
   * Deletes every record below `offset` in each given partition (the
   * DeleteRecords API behind kafka-delete-records.sh): what someone with
   * broker admin rights can do to any topic, retention aside.
   */
  async deleteRecords(
    topic: string,
    partitions: readonly { partition: number; offset: string }[],
  ): Promise<void> {
    // kafkajs looks the partitions' leaders up in metadata it has already
    // fetched and does not fetch it itself: the offsets lookup loads it.
    await this.wrap('fetchTopicOffsets', () => this.admin.fetchTopicOffsets(topic));
    await this.wrap('deleteTopicRecords', () =>
      this.admin.deleteTopicRecords({ topic, partitions: [...partitions] }),
    );
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.wrap('deleteTopics', () => this.admin.deleteTopics({ topics: [...names] }));
  }

  private async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // Refused credentials, a missing ACL or an untrusted certificate is no outage: say which.
      const security = kafkaSecurityFailureOf(err);
      if (security) throw security;
      throw new InfrastructureError(`Kafka admin ${what} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
