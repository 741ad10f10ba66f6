import type { Kafka } from '@grantstream/kafkajs-extended';
import type { PlatformConfig } from '@grantstream/config';
import { AVRO_LOGICAL_TYPES, type TopicDeclaration } from '@grantstream/contracts';
import type { GrantLogger } from '@grantstream/logging';
import { KafkaAdmin } from './admin';
import { createKafka } from './kafka-client';
import { AvroSerde } from './serde/avro-serde';
import { applyTopics, type ApplyTopicsReport } from './topics/apply-topics';
import type { TopicSpec } from './topics/topic-plan';
import { TopicIO } from './topic-io';

/** The broker client, its admin and the Avro serde of one process. */
export interface PlatformClients {
  kafka: Kafka;
  admin: KafkaAdmin;
  serde: AvroSerde;
  io: TopicIO;
  /** Disconnects everything that was connected. */
  close(): Promise<void>;
}

/** Builds the clients every process needs from validated configuration. */
export function createPlatformClients(
  config: PlatformConfig,
  logger: GrantLogger,
): PlatformClients {
  const kafka = createKafka(config.kafka, logger);
  const admin = new KafkaAdmin(kafka);
  const serde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
  const io = new TopicIO(kafka);
  return {
    kafka,
    admin,
    serde,
    io,
    close: async () => {
      await io.close();
      await admin.disconnect();
    },
  };
}

/** The apply-ready form of the generated topic declarations. */
export function topicSpecsOf(declarations: readonly TopicDeclaration[]): TopicSpec[] {
  return declarations.map((d) => ({
    name: d.name,
    partitions: d.partitions,
    replicationFactor: d.replicationFactor,
    config: d.config,
    valueSchema: d.valueSchema?.avro ?? null,
  }));
}

/** Applies declarations with the platform's topic settings. */
export async function applyDeclaredTopics(
  clients: PlatformClients,
  config: PlatformConfig,
  specs: readonly TopicSpec[],
  fixDrift: boolean,
): Promise<ApplyTopicsReport> {
  await clients.admin.connect();
  return applyTopics(clients.admin, clients.serde, specs, {
    maxReplicationFactor: config.topics.maxReplicationFactor,
    compatibility: config.topics.compatibility,
    fixDrift,
  });
}
