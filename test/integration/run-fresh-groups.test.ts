// Guarantee: a run's fresh consumer groups start at the end of every input of
// every stage, so nothing a stack already holds (earlier runs, tests,
// benchmarks, dead letters, retries waiting in their tiers) is read by a run.
// History goes on every input topic schemas/pipeline.yaml declares for every
// stage (each submission retry tier, the dead-letter topic and a fresh topic
// matching ingest's pattern included); runScopedGroups positions the run's
// groups; each stage's subscriptions (the same topics and patterns its
// handlers subscribe to, which the manifest spec holds them to) are then read
// in its run group by the stages' runner, from the beginning as stages
// subscribe. A sentinel written after the history, to the same partition,
// shows each group has read past where the history lies: only records
// written after positioning may have been read, none before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPELINE_STAGES,
  TOPICS,
  inputTopicsOf,
  serviceDeclaration,
  type PipelineStageName,
} from '@grantstream/contracts';
import { runScopedGroups } from '@grantstream/harness';
import { RAW_INPUT, StageRunner, createKafka, type TopicPositions } from '@grantstream/kafka';
import { Scenario, createNamedIngestTopic, testLogger } from '@grantstream/testing';

/** A record one stage's run group read. */
interface Read {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: string;
}

describe("a run's fresh groups", () => {
  let s: Scenario;
  const reads = new Map<PipelineStageName, Read[]>();

  beforeAll(async () => {
    s = await Scenario.open('fresh-groups');
  });
  afterAll(async () => {
    await s.close();
  });

  it('read nothing written to any input of any stage before the run', async () => {
    const key = s.name('fresh-groups');
    // A topic an upstream parser added: ingest reads it through its pattern.
    const upstream = await createNamedIngestTopic(s.clients, s.name('grants.ingest.fresh-groups'));
    const existing = await s.clients.admin.listTopics();
    const inputsOf = new Map(
      PIPELINE_STAGES.map((stage) => [stage, inputTopicsOf(serviceDeclaration(stage), existing)]),
    );
    // History on every named input, and on the declared and new ingest topics.
    const historyTopics = [
      ...new Set(
        PIPELINE_STAGES.flatMap((stage) => {
          const named = inputTopicsOf(serviceDeclaration(stage), []);
          return named.length > 0 ? named : [TOPICS.INGEST, upstream];
        }),
      ),
    ];
    expect(historyTopics).toEqual(expect.arrayContaining([TOPICS.DLQ, TOPICS.INGEST, upstream]));
    for (const topic of historyTopics) {
      await s.clients.io.produce(topic, [{ key, value: Buffer.from(`history:${topic}`) }]);
    }
    const allInputs = [...new Set([...inputsOf.values()].flat())];
    const before: TopicPositions = await s.clients.io.endOffsets(allInputs);

    const env = await runScopedGroups(s.clients, s.scope, PIPELINE_STAGES);
    const groupOf = (stage: PipelineStageName) =>
      env[`GRANTSTREAM__${serviceDeclaration(stage).envSection}__RUNNER__GROUP_ID`] ?? '';

    for (const stage of PIPELINE_STAGES) {
      const declared = serviceDeclaration(stage);
      const seen: Read[] = [];
      reads.set(stage, seen);
      await s.startRunner(
        new StageRunner({
          service: { stage, name: `run-probe-${stage}`, version: '0' },
          config: {
            ...s.config.runner,
            groupId: groupOf(stage),
            transactionalIdPrefix: groupOf(stage),
          },
          kafka: createKafka(s.config.kafka, testLogger()),
          serde: s.clients.serde,
          logger: testLogger(),
          handlers: [
            {
              subscriptions: [
                ...declared.inputs.map((i) => ('topic' in i ? i.topic : new RegExp(i.pattern))),
                ...(declared.retryTiers?.topics ?? []),
              ],
              input: RAW_INPUT,
              handle: (m) => {
                seen.push({
                  topic: m.topic,
                  partition: m.partition,
                  offset: BigInt(m.offset),
                  key: m.key,
                  value: m.raw?.toString() ?? '',
                });
                return Promise.resolve({ records: [] });
              },
            },
          ],
        }),
      );
    }
    for (const stage of PIPELINE_STAGES) {
      await s.waitForGroupJoined(groupOf(stage), inputsOf.get(stage) ?? []);
    }

    // The sentinel lands on the history's partition (same key), after it.
    for (const topic of historyTopics) {
      await s.clients.io.produce(topic, [{ key, value: Buffer.from(`sentinel:${topic}`) }]);
    }
    for (const stage of PIPELINE_STAGES) {
      const expected = historyTopics.filter((t) => inputsOf.get(stage)?.includes(t));
      await s.waitUntil(`${stage} reads the sentinels on ${expected.join(', ')}`, () =>
        expected.every((t) =>
          reads.get(stage)?.some((r) => r.key === key && r.value === `sentinel:${t}`),
        ),
      );
    }

    const old = PIPELINE_STAGES.flatMap((stage) =>
      (reads.get(stage) ?? [])
        .filter((r) => r.offset < BigInt(before.get(r.topic)?.get(r.partition) ?? '0'))
        .map((r) => `${stage} read ${r.topic}[${r.partition}]@${r.offset}`),
    );
    expect(old.slice(0, 20), `${old.length} records from before the run`).toEqual([]);
    const history = PIPELINE_STAGES.flatMap((stage) =>
      (reads.get(stage) ?? [])
        .filter((r) => r.key === key && r.value.startsWith('history:'))
        .map((r) => `${stage} read ${r.value}`),
    );
    expect(history).toEqual([]);
  });
});
