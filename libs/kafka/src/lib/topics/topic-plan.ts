/** A topic as declared in code (schemas/topics.yaml), ready to apply. */
export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs as Kafka expects them (string values). */
  config: Readonly<Record<string, string>>;
  /** Avro schema registered as `<name>-value`, or null for raw-bytes topics (the DLQ). */
  valueSchema: object | null;
}

/** A topic as the cluster reports it; `config` holds the values of the declared keys. */
export interface ObservedTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  config: Readonly<Record<string, string | undefined>>;
}

/** One difference between a declaration and the cluster. */
export interface TopicDrift {
  topic: string;
  /** `partitions`, `replicationFactor` or a config key such as `retention.ms`. */
  field: string;
  declared: string;
  actual: string;
  /** Whether `topics apply --fix-drift` can bring the cluster back to the declaration. */
  fixable: boolean;
}

/** What applying the declarations would do. */
export interface TopicPlan {
  create: TopicSpec[];
  drift: TopicDrift[];
  inSync: string[];
}

/** The replication factor actually applied: the declaration capped by the cluster's size. */
export function effectiveReplication(spec: TopicSpec, maxReplicationFactor: number): number {
  return Math.min(spec.replicationFactor, maxReplicationFactor);
}

/**
 * The topic configs actually applied. `min.insync.replicas` is capped by the
 * effective replication factor: on a one-broker cluster a declared 2 would make
 * every acks=all write fail with NOT_ENOUGH_REPLICAS.
 */
export function effectiveConfig(
  spec: TopicSpec,
  maxReplicationFactor: number,
): Record<string, string> {
  const config = { ...spec.config };
  const minIsr = config['min.insync.replicas'];
  if (minIsr !== undefined) {
    config['min.insync.replicas'] = String(
      Math.min(Number(minIsr), effectiveReplication(spec, maxReplicationFactor)),
    );
  }
  return config;
}

/**
 * Compares declarations with what the cluster holds. Pure: the CLI and the
 * tests share it, and it decides nothing by talking to a broker.
 */
export function planTopics(
  specs: readonly TopicSpec[],
  observed: ReadonlyMap<string, ObservedTopic>,
  maxReplicationFactor: number,
): TopicPlan {
  const plan: TopicPlan = { create: [], drift: [], inSync: [] };
  for (const spec of specs) {
    const actual = observed.get(spec.name);
    if (!actual) {
      plan.create.push(spec);
      continue;
    }
    const before = plan.drift.length;
    if (actual.partitions !== spec.partitions) {
      plan.drift.push({
        topic: spec.name,
        field: 'partitions',
        declared: String(spec.partitions),
        actual: String(actual.partitions),
        // Kafka can add partitions but never remove them.
        fixable: actual.partitions < spec.partitions,
      });
    }
    const rf = effectiveReplication(spec, maxReplicationFactor);
    if (actual.replicationFactor !== rf) {
      plan.drift.push({
        topic: spec.name,
        field: 'replicationFactor',
        declared: String(rf),
        actual: String(actual.replicationFactor),
        fixable: false,
      });
    }
    for (const [key, value] of Object.entries(effectiveConfig(spec, maxReplicationFactor))) {
      const current = actual.config[key];
      if (current !== value) {
        plan.drift.push({
          topic: spec.name,
          field: key,
          declared: value,
          actual: current ?? '(unset)',
          fixable: true,
        });
      }
    }
    if (plan.drift.length === before) plan.inSync.push(spec.name);
  }
  return plan;
}
