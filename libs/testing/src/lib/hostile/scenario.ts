import { GrantSubmissionV2Avro, INGEST_TOPIC_PATTERN } from '@grantstream/contracts';
import type { Compatibility, PlatformClients } from '@grantstream/kafka';
import { uniqueName } from '../environment';
import {
  EXTENDED_SUBMISSION_SCHEMA,
  OTHER_SUBJECT_SCHEMA,
  type HostileSchemaIds,
} from './hostile-classes';

/** An id far above any the registry hands out. */
export const UNKNOWN_SCHEMA_ID = 0x7fff_fff0;

/**
 * A fresh ingest topic (it matches grants.ingest.*) with GrantSubmission
 * registered under its subject, the compatible extended version after it,
 * and a record of another kind under a subject of its own.
 */
export async function createHostileTopic(
  clients: PlatformClients,
  name: string,
  partitions: number,
  compatibility: Compatibility,
): Promise<{ topic: string; ids: HostileSchemaIds }> {
  const topic = uniqueName(`grants.ingest.${name}`);
  await clients.admin.createTopics([
    { name: topic, partitions, replicationFactor: 1, config: {}, valueSchema: null },
  ]);
  const own = await clients.serde.register(topic, GrantSubmissionV2Avro, compatibility);
  const extended = await clients.serde.register(topic, EXTENDED_SUBMISSION_SCHEMA, compatibility);
  const otherSubject = await clients.serde.register(
    `${topic}.other`,
    OTHER_SUBJECT_SCHEMA,
    compatibility,
  );
  return { topic, ids: { own, extended, otherSubject, unknown: UNKNOWN_SCHEMA_ID } };
}

/**
 * Starts a new ingest consumer group at the current end of every ingest
 * topic but `topic`: a fresh group otherwise reads every other scenario's
 * leftovers from the beginning, and a scenario about one topic would measure them.
 */
export async function skipOtherIngestHistory(
  clients: PlatformClients,
  group: string,
  topic: string,
): Promise<void> {
  const others = (await clients.admin.listTopics()).filter(
    (t) => INGEST_TOPIC_PATTERN.test(t) && t !== topic,
  );
  await clients.admin.setGroupOffsets(group, await clients.io.endOffsets(others));
}
