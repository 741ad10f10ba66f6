import type { KafkaAdmin } from '../admin';
import type { AvroSerde, Compatibility } from '../serde/avro-serde';
import { valueSubject } from '../serde/avro-serde';
import {
  effectiveConfig,
  effectiveReplication,
  planTopics,
  type TopicDrift,
  type TopicSpec,
} from './topic-plan';

/** Options of {@link applyTopics}. */
export interface ApplyTopicsOptions {
  maxReplicationFactor: number;
  compatibility: Compatibility;
  /** Alter configs and add partitions where the cluster drifted from the declaration. */
  fixDrift: boolean;
}

/** What an apply did and what it found. */
export interface ApplyTopicsReport {
  created: string[];
  inSync: string[];
  /** Drift found before any fix. */
  drift: TopicDrift[];
  /** Drift that this run fixed. */
  fixed: TopicDrift[];
  /** Subjects registered (or confirmed) with their schema ids. */
  schemas: { topic: string; subject: string; id: number }[];
}

/**
 * Makes the cluster and the registry hold what the declarations say: creates
 * missing topics, registers each value schema (registering the same schema again
 * returns its id, so a re-run changes nothing), reports drift, and fixes it only
 * when asked — a hand-made change may be an incident in progress.
 */
export async function applyTopics(
  admin: KafkaAdmin,
  serde: AvroSerde,
  specs: readonly TopicSpec[],
  options: ApplyTopicsOptions,
): Promise<ApplyTopicsReport> {
  const keys = [...new Set(specs.flatMap((s) => Object.keys(s.config)))];
  const observed = await admin.describeTopics(
    specs.map((s) => s.name),
    keys,
  );
  const plan = planTopics(specs, observed, options.maxReplicationFactor);
  const max = options.maxReplicationFactor;
  await admin.createTopics(
    plan.create.map((s) => ({
      ...s,
      config: effectiveConfig(s, max),
      replicationFactor: effectiveReplication(s, max),
    })),
  );

  const fixed: TopicDrift[] = [];
  if (options.fixDrift) {
    const byTopic = new Map<string, TopicDrift[]>();
    for (const d of plan.drift.filter((x) => x.fixable)) {
      byTopic.set(d.topic, [...(byTopic.get(d.topic) ?? []), d]);
    }
    for (const [topic, drifts] of byTopic) {
      const spec = specs.find((s) => s.name === topic);
      if (!spec) continue;
      const configDrift = drifts.filter((d) => d.field !== 'partitions');
      if (configDrift.length > 0) {
        await admin.setTopicConfig(
          topic,
          Object.fromEntries(configDrift.map((d) => [d.field, d.declared])),
        );
      }
      if (drifts.some((d) => d.field === 'partitions'))
        await admin.createPartitions(topic, spec.partitions);
      fixed.push(...drifts);
    }
  }

  const schemas: ApplyTopicsReport['schemas'] = [];
  for (const spec of specs) {
    if (!spec.valueSchema) continue;
    const id = await serde.register(spec.name, spec.valueSchema, options.compatibility);
    schemas.push({ topic: spec.name, subject: valueSubject(spec.name), id });
  }

  return {
    created: plan.create.map((s) => s.name),
    inSync: plan.inSync,
    drift: plan.drift,
    fixed,
    schemas,
  };
}
