import { TOPIC_DECLARATIONS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import { testConfig } from '../environment';

/** Topic settings a scenario copy keeps from the shared topic: what bounds the records it takes. */
const KEPT_CONFIG = ['cleanup.policy', 'max.message.bytes'] as const;

/**
 * A scenario's own copy of each declared topic in `declared`,
 * `<topic>.<scope>`: the partitions and record limits of the shared topic,
 * and its value schema registered, so a stage configured with the copy
 * writes there what it writes to the declared topic. A stage group of
 * another scenario, or the main job's, on the shared topic never sees what
 * the scenario writes to its copy, nor the scenario what they write.
 * Returns the copies by declared name; delete them with
 * {@link deleteScopedTopics} when the scenario ends.
 */
export async function createScopedTopics(
  clients: PlatformClients,
  declared: readonly string[],
  scope: string,
): Promise<Map<string, string>> {
  const described = await clients.admin.describeTopics(declared, KEPT_CONFIG);
  const copies = new Map(declared.map((name) => [name, `${name}.${scope}`] as const));
  await clients.admin.createTopics(
    declared.map((name) => {
      const live = described.get(name);
      if (!live) throw new Error(`${name} does not exist: run grantctl topics apply`);
      const config: Record<string, string> = {};
      for (const key of KEPT_CONFIG) {
        const value = live.config[key];
        if (value !== undefined) config[key] = value;
      }
      return {
        name: copies.get(name) ?? name,
        partitions: live.partitions,
        replicationFactor: 1,
        config,
        valueSchema: null,
      };
    }),
  );
  for (const name of declared) {
    const avro = TOPIC_DECLARATIONS.find((d) => d.name === name)?.valueSchema?.avro;
    // A raw-bytes topic (the dead-letter topic) has no schema to register.
    if (avro)
      await clients.serde.register(
        copies.get(name) ?? name,
        avro,
        testConfig().topics.compatibility,
      );
  }
  return copies;
}

/** Deletes the copies {@link createScopedTopics} made, so nothing is left behind on the broker. */
export async function deleteScopedTopics(
  clients: PlatformClients,
  copies: ReadonlyMap<string, string>,
): Promise<void> {
  await clients.admin.deleteTopics([...copies.values()]);
}
