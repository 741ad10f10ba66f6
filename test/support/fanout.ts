import type { schema } from 'avsc';
import {
  GrantSubmissionV1Avro,
  GrantSubmissionV1Schema,
  funderIdOf,
  type GrantSubmissionV1,
} from '@grantstream/contracts';
import type { StageRunnerConfig } from '@grantstream/config';
import type {
  InboundMessage,
  OutboundRecord,
  PlatformClients,
  StageHandler,
} from '@grantstream/kafka';
import { AUDIT_GENESIS_HASH, buildAuditEvent } from '@grantstream/audit';
import {
  aGrantSubmission,
  spawnTs,
  testConfig,
  uniqueName,
  type TsProcess,
} from '@grantstream/testing';

/** Output record of the test stage: which input it came from and which of the N outputs it is. */
export const FanoutRecordAvro: schema.RecordType = {
  type: 'record',
  name: 'FanoutRecord',
  namespace: 'org.grantstream.test',
  fields: [
    { name: 'grant_id', type: 'string' },
    { name: 'input_partition', type: 'int' },
    { name: 'input_offset', type: 'long' },
    { name: 'index', type: 'int' },
  ],
};

/** Decoded {@link FanoutRecordAvro}. */
export interface FanoutRecord {
  grant_id: string;
  input_partition: number;
  input_offset: number;
  index: number;
}

/** Topics and group of one hop scenario; every name is unique to the test. */
export interface HopTopics {
  input: string;
  output: string;
  dlq: string;
  group: string;
  prefix: string;
}

/**
 * Fresh input/output/DLQ topics with their schemas registered; the input
 * carries GrantSubmissions unless `inputSchema` names another record.
 */
export async function createHopTopics(
  clients: PlatformClients,
  name: string,
  partitions = 3,
  inputSchema: schema.RecordType = GrantSubmissionV1Avro,
  /** Replication of the three topics: one broker's 1 unless a cluster scenario asks for more. */
  replication: { factor: number; config: Record<string, string> } = { factor: 1, config: {} },
): Promise<HopTopics> {
  const base = uniqueName(`test.${name}`);
  const t: HopTopics = {
    input: `${base}.in`,
    output: `${base}.out`,
    dlq: `${base}.dlq`,
    group: `${base}.group`,
    prefix: `${base}.tx`,
  };
  await clients.admin.createTopics(
    [t.input, t.output, t.dlq].map((n) => ({
      name: n,
      partitions,
      replicationFactor: replication.factor,
      config: replication.config,
      valueSchema: null,
    })),
  );
  const compatibility = testConfig().topics.compatibility;
  await clients.serde.register(t.input, inputSchema, compatibility);
  await clients.serde.register(t.output, FanoutRecordAvro, compatibility);
  return t;
}

/** Produces `count` valid GrantSubmissions to the input topic; returns their grant ids. */
export async function produceGrants(
  clients: PlatformClients,
  topic: string,
  count: number,
  tag = 'G',
): Promise<string[]> {
  const grants = Array.from({ length: count }, (_, i) =>
    aGrantSubmission({ grant_id: `NSF-2026-${tag}${String(i).padStart(6, '0')}` }),
  );
  const values = await Promise.all(grants.map((g) => clients.serde.encode(topic, g)));
  for (let i = 0; i < grants.length; i += 500) {
    await clients.io.produce(
      topic,
      grants.slice(i, i + 500).map((g, j) => ({ key: g.grant_id, value: values[i + j] ?? null })),
    );
  }
  return grants.map((g) => g.grant_id);
}

/** Runner settings for a scenario: the configured defaults, the scenario's names, and overrides. */
export function hopRunnerConfig(
  t: HopTopics,
  overrides: Partial<StageRunnerConfig> = {},
): StageRunnerConfig {
  return {
    ...testConfig().runner,
    groupId: t.group,
    transactionalIdPrefix: t.prefix,
    deadLetterTopic: t.dlq,
    ...overrides,
  };
}

/** Options of {@link fanoutHandler}. */
export interface FanoutOptions {
  inputTopic: string | RegExp;
  outputTopic: string;
  fanout: number;
  /** Simulated work per message. */
  delayMs?: number;
  /** Stricter contract than Avro: grant ids must look like FUNDER-YEAR-NUMBER. */
  strict?: boolean;
  onHandle?: (grantId: string) => Promise<void> | void;
  /** Also write the grant's audit trail (INGESTED then FORWARD, chained) in the same transaction. */
  auditTopic?: string;
}

const strictContract = GrantSubmissionV1Schema.refine(
  (g) => /^[A-Z]+-\d{4}-\w+$/.test(g.grant_id),
  {
    message: 'grant_id must look like FUNDER-YEAR-NUMBER',
    path: ['grant_id'],
  },
);

/** The test stage: N outputs per input, each naming its input. */
export function fanoutHandler(o: FanoutOptions): StageHandler<GrantSubmissionV1> {
  return {
    subscriptions: [o.inputTopic],
    input: {
      avro: GrantSubmissionV1Avro,
      zod: o.strict ? strictContract : GrantSubmissionV1Schema,
    },
    async handle(message) {
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      await o.onHandle?.(message.value.grant_id);
      return {
        records: [
          ...(o.auditTopic ? auditTrailOf(message, o.auditTopic) : []),
          ...Array.from({ length: o.fanout }, (_, index) => ({
            topic: o.outputTopic,
            key: message.key,
            value: {
              grant_id: message.value.grant_id,
              input_partition: message.partition,
              input_offset: Number(message.offset),
              index,
            } satisfies FanoutRecord,
          })),
        ],
      };
    },
  };
}

/**
 * Two chained audit events for an input, built only from the input itself
 * (its position and timestamp), so a redelivery after a crash rebuilds the
 * very same events: same keys, same hashes, no fork.
 */
function auditTrailOf(message: InboundMessage<GrantSubmissionV1>, topic: string): OutboundRecord[] {
  const base = {
    grantId: message.value.grant_id,
    funderId: funderIdOf(message.value.grant_id),
    auditTrailId: `at-${message.value.grant_id}`,
    stage: 'ingest',
    payloadHash: AUDIT_GENESIS_HASH.replace(/0/g, 'b'),
    service: { name: 'fanout-stage', version: '0.0.0' },
    occurredAt: Number(message.timestamp),
    source: { topic: message.topic, partition: message.partition, offset: Number(message.offset) },
  };
  const ingested = buildAuditEvent({ ...base, action: 'INGESTED' }, AUDIT_GENESIS_HASH);
  const forward = buildAuditEvent({ ...base, action: 'FORWARD' }, ingested.event.event_hash);
  return [ingested, forward].map((e) => ({ topic, key: e.key, value: e.event }));
}

/** Every output record on `topic`, decoded, as a reader of the given isolation sees them. */
export async function readFanout(
  clients: PlatformClients,
  topic: string,
  expected: number,
  isolation: 'read_committed' | 'read_uncommitted',
  timeoutMs = 60_000,
): Promise<FanoutRecord[]> {
  const messages = await clients.io.read(topic, { expected, timeoutMs, isolation });
  return Promise.all(
    messages.map(async (m) => (await clients.serde.decode<FanoutRecord>(m.value)).value),
  );
}

/** Counts of each output identity (input partition, offset, index): exactly once means every count is 1. */
export function multiplicity(records: readonly FanoutRecord[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of records) {
    const id = `${r.input_partition}/${r.input_offset}/${r.index}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

/**
 * Starts the fan-out stage (test/support/fanout-stage.ts) as its own process on
 * the scenario's topics, with a short session timeout so a killed member is
 * replaced quickly, and small chunks so a kill lands mid-batch.
 */
export function spawnFanoutStage(
  t: HopTopics,
  o: {
    fanout: number;
    delayMs: number;
    auditTopic?: string;
    metricsPort?: number;
    /** Extra environment (another stack's addresses). */
    env?: NodeJS.ProcessEnv;
  },
): TsProcess {
  return spawnTs(
    'test/support/fanout-stage.ts',
    [
      ...[
        '--input',
        t.input,
        '--output',
        t.output,
        '--dlq',
        t.dlq,
        '--group',
        t.group,
        '--prefix',
        t.prefix,
      ],
      ...['--fanout', String(o.fanout), '--delay-ms', String(o.delayMs)],
      ...(o.auditTopic ? ['--audit-topic', o.auditTopic] : []),
      ...(o.metricsPort !== undefined ? ['--metrics-port', String(o.metricsPort)] : []),
    ],
    {
      GRANTSTREAM__RUNNER__SESSION_TIMEOUT_MS: '6000',
      GRANTSTREAM__RUNNER__MAX_BATCH_MESSAGES: '40',
      ...o.env,
    },
  );
}
