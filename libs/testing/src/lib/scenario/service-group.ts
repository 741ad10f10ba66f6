import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  SUBMISSION_RETRY_TIER_TOPICS,
  SubmissionContentStateV1Avro,
  TOPICS,
  TOPIC_DECLARATIONS,
  serviceDeclaration,
} from '@grantstream/contracts';
import { DEFAULT_CONFIG_FILE } from '@grantstream/config';
import {
  startStages,
  stopStages,
  type StageProcess,
  type StageServiceName,
} from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import { testConfig, uniqueName } from '../environment';
import { exactTopicPattern } from '../scenario-scope';
import { freePort, type Simulator } from './simulator';

/** The retry tier topics submission reads besides grants.routed.v1. */
export const RETRY_TIER_TOPICS = SUBMISSION_RETRY_TIER_TOPICS;

/** Stage processes of one scenario, with the consumer group they share. */
export interface ServiceGroup {
  group: string;
  processes: StageProcess[];
  /** A submission group's own retry tier topics, shortest first (empty for other services). */
  retryTiers: string[];
  /** Where each process serves /metrics, in process order. */
  metricsUrls: string[];
  /** Starts process `index` again (after it was killed), same group and settings. */
  restart(index: number): StageProcess;
}

/**
 * Starts `replicas` processes of a stage service (submission, status-polling,
 * notification) in their own consumer group, whose offsets are first set to
 * the current ends of `inputs`: the scenario's services see only what the
 * scenario produces, never the history other scenarios left on the shared
 * topics. `env` adds configuration overrides (GRANTSTREAM__...). A submission
 * group gets a content-state changelog of its own unless `env` names one.
 * Submission and status-polling groups skip the records of funders missing from their
 * configuration (`unconfiguredFunders: skip`): they are other scenarios' records.
 */
export async function startServiceGroup(
  clients: PlatformClients,
  options: {
    service: Extract<StageServiceName, 'submission' | 'status-polling' | 'notification'>;
    inputs: readonly string[];
    replicas: number;
    logDir: string;
    env: Record<string, string>;
  },
): Promise<ServiceGroup> {
  const section = serviceDeclaration(options.service).envSection;
  const group = uniqueName(`test.${options.service}`);
  // Scenarios running at the same time share the topics: a submission or
  // status-polling group leaves a funder it was not given to the scenario that has it,
  // instead of dead-lettering that scenario's statuses and writing
  // DEAD_LETTER events into its trails. `env` can say otherwise.
  const scopeEnv: Record<string, string> =
    options.service === 'status-polling'
      ? { GRANTSTREAM__STATUS_POLLING__UNCONFIGURED_FUNDERS: 'skip' }
      : options.service === 'submission'
        ? { GRANTSTREAM__SUBMISSION__UNCONFIGURED_FUNDERS: 'skip' }
        : {};
  // Its own content state: grants another scenario (or an earlier run) filed
  // under the same ids are not duplicates here.
  if (
    options.service === 'submission' &&
    options.env['GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC'] === undefined
  )
    scopeEnv['GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC'] = await createContentStateTopic(
      clients,
      options.service,
    );
  // Its own retry tiers: the declared tiers are shared by every submission
  // group on the broker, so one scenario's group would take (and file, and
  // audit under the same event ids) another's retries.
  let retryTiers: string[] = [];
  if (
    options.service === 'submission' &&
    options.env['GRANTSTREAM__SUBMISSION__RETRY_TIERS'] === undefined
  ) {
    const tiers = await createRetryTierTopics(clients, group);
    retryTiers = tiers.map((t) => t.topic);
    scopeEnv['GRANTSTREAM__SUBMISSION__RETRY_TIERS'] = JSON.stringify(tiers);
    scopeEnv['GRANTSTREAM__SUBMISSION__RETRY_TOPIC_PATTERN'] = exactTopicPattern(retryTiers);
  }
  await clients.admin.setGroupOffsets(group, await clients.io.endOffsets(options.inputs));
  const processes: StageProcess[] = [];
  const metricsUrls: string[] = [];
  const envOf: Record<string, string>[] = [];
  const spawnOne = (index: number): StageProcess => {
    const [proc] = startStages([options.service], {
      logDir: options.logDir,
      suffix: `-${group}-${index}`,
      env: envOf[index] ?? {},
    });
    if (!proc) throw new Error(`${options.service} did not start`);
    processes[index] = proc;
    return proc;
  };
  for (let i = 0; i < options.replicas; i += 1) {
    const port = await freePort();
    metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
    envOf.push({
      ...scopeEnv,
      ...options.env,
      [`GRANTSTREAM__${section}__RUNNER__GROUP_ID`]: group,
      [`GRANTSTREAM__${section}__RUNNER__TRANSACTIONAL_ID_PREFIX`]: group,
      [`GRANTSTREAM__${section}__METRICS__PORT`]: String(port),
    });
    spawnOne(i);
  }
  return { group, processes, retryTiers, metricsUrls, restart: spawnOne };
}

/** Where scenario logs go. */
export function scenarioLogDir(name: string): string {
  return join(
    process.env['HOME'] ?? '/tmp',
    '.cache/grantstream/stack/test-logs',
    uniqueName(name),
  );
}

/**
 * Ends a scenario: stops its service groups and simulator (SIGTERM, then
 * SIGKILL after 10 s; whichever of them started) and closes the clients.
 */
export async function endScenario(
  clients: PlatformClients | undefined,
  groups: readonly (ServiceGroup | undefined)[],
  simulator: Simulator | undefined,
): Promise<void> {
  await stopStages(
    [...groups.flatMap((g) => g?.processes ?? []), ...(simulator ? [simulator.process] : [])],
    10_000,
  );
  await clients?.close();
}

/**
 * A fresh compacted topic for the submission stage's content state (grant id
 * → accepted contents), co-partitioned with grants.routed.v1 like the declared
 * one: a scenario's grants are never judged against another scenario's
 * filings of the same grant ids. Pass it as GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC.
 */
export async function createContentStateTopic(
  clients: PlatformClients,
  name: string,
): Promise<string> {
  const topic = uniqueName(`test.submission.content-state.${name}`);
  const routed = (await clients.admin.describeTopics([TOPICS.ROUTED], [])).get(TOPICS.ROUTED);
  await clients.admin.createTopics([
    {
      name: topic,
      partitions: routed?.partitions ?? 1,
      replicationFactor: 1,
      config: { 'cleanup.policy': 'compact' },
      valueSchema: null,
    },
  ]);
  await clients.serde.register(
    topic,
    SubmissionContentStateV1Avro,
    testConfig().topics.compatibility,
  );
  return topic;
}

/**
 * Copies of the configured retry tiers (config/grantstream.yaml,
 * submission.retryTiers) for one submission group: `<tier>.<scope>`, same
 * delays and partitions, SubmissionRetry registered. Pass them as
 * GRANTSTREAM__SUBMISSION__RETRY_TIERS with a retryTopicPattern matching only them.
 */
export async function createRetryTierTopics(
  clients: PlatformClients,
  scope: string,
): Promise<{ topic: string; delayMs: number }[]> {
  const file = parseYaml(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as {
    submission: { retryTiers: { topic: string; delayMs: number }[] };
  };
  const declared = file.submission.retryTiers;
  const described = await clients.admin.describeTopics(
    declared.map((t) => t.topic),
    [],
  );
  const tiers = declared.map((t) => ({ topic: `${t.topic}.${scope}`, delayMs: t.delayMs }));
  await clients.admin.createTopics(
    declared.map((t, i) => ({
      name: tiers[i]?.topic ?? '',
      partitions: described.get(t.topic)?.partitions ?? 1,
      replicationFactor: 1,
      config: {},
      valueSchema: null,
    })),
  );
  // The declared tier's own schema, so what the stage writes there is what it writes to the tier.
  for (const [i, t] of tiers.entries()) {
    const avro = TOPIC_DECLARATIONS.find((d) => d.name === declared[i]?.topic)?.valueSchema?.avro;
    if (!avro) throw new Error(`${declared[i]?.topic} declares no value schema`);
    await clients.serde.register(t.topic, avro, testConfig().topics.compatibility);
  }
  return tiers;
}
