// Guarantee: a stage written as a NestJS controller (a @StageEvent method using
// an injected provider, run by NestFactory.createMicroservice over
// StageTransport) has the runner's atomic hop: 50 inputs with 3 outputs each
// reach a read_committed reader exactly once, and app.close() stops the runner,
// whose consumer leaves its group.
import 'reflect-metadata';
import { Controller, Inject, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GrantSubmissionV1Avro,
  GrantSubmissionV1Schema,
  type GrantSubmissionV1,
} from '@grantstream/contracts';
import {
  StageEvent,
  StageTransport,
  type HandlerResult,
  type InboundMessage,
  type PlatformClients,
  type StageContext,
} from '@grantstream/kafka';
import { testClients, testLogger } from '@grantstream/testing';
import {
  createHopTopics,
  hopRunnerConfig,
  multiplicity,
  produceGrants,
  readFanout,
  type FanoutRecord,
  type HopTopics,
} from '../support/fanout';

const INPUTS = 50;
const FANOUT = 3;
const OUTPUT_TOPIC = Symbol('OUTPUT_TOPIC');

/** The module under test; topic names are per run, so the classes are declared per run. */
function fanoutModule(t: HopTopics) {
  @Injectable()
  class Fanout {
    // @Inject on every constructor parameter: tsx and vitest compile through
    // esbuild/oxc, which emit no decorator metadata for Nest to read.
    constructor(@Inject(OUTPUT_TOPIC) private readonly topic: string) {}

    of(message: InboundMessage<GrantSubmissionV1>): HandlerResult {
      return {
        records: Array.from({ length: FANOUT }, (_, index) => ({
          topic: this.topic,
          key: message.key,
          value: {
            grant_id: message.value.grant_id,
            input_partition: message.partition,
            input_offset: Number(message.offset),
            index,
          } satisfies FanoutRecord,
        })),
      };
    }
  }

  @Controller()
  class FanoutController {
    constructor(@Inject(Fanout) private readonly fanout: Fanout) {}

    @StageEvent(t.input, { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema })
    handle(message: InboundMessage<GrantSubmissionV1>, ctx: StageContext<GrantSubmissionV1>) {
      ctx.log.debug('fanning out');
      return this.fanout.of(message);
    }
  }

  @Module({
    controllers: [FanoutController],
    providers: [Fanout, { provide: OUTPUT_TOPIC, useValue: t.output }],
  })
  class FanoutModule {}
  return FanoutModule;
}

describe('a NestJS stage over StageTransport', () => {
  let clients: PlatformClients;
  let t: HopTopics;
  let app: INestMicroservice | undefined;

  beforeAll(async () => {
    clients = await testClients();
    t = await createHopTopics(clients, 'nest');
    await produceGrants(clients, t.input, INPUTS);
  });
  afterAll(async () => {
    await app?.close();
    await clients.close();
  });

  it('commits every output exactly once and stops on app.close()', async () => {
    const strategy = new StageTransport({
      service: { stage: 'fanout', name: 'nest-fanout', version: '0.0.0' },
      config: hopRunnerConfig(t, { maxBatchMessages: 20 }),
      clients,
      logger: testLogger('nest-stage'),
    });
    let commits = 0;
    let deadLetters = 0;
    strategy.on('committed', () => (commits += 1));
    strategy.on('deadLettered', () => (deadLetters += 1));
    app = await NestFactory.createMicroservice(fanoutModule(t), { strategy, logger: false });
    await app.listen();
    expect(await firstValueFrom(strategy.status)).toBe('connected');

    const committed = await readFanout(clients, t.output, INPUTS * FANOUT, 'read_committed');
    expect(committed).toHaveLength(INPUTS * FANOUT);
    const counts = multiplicity(committed);
    expect(counts.size).toBe(INPUTS * FANOUT);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(committed.map((r) => r.grant_id)).size).toBe(INPUTS);
    expect(commits).toBeGreaterThan(0);
    expect(deadLetters).toBe(0);

    await app.close();
    app = undefined;
    expect(await firstValueFrom(strategy.status)).toBe('disconnected');
    const admin = clients.kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([t.group]);
      // The consumer left the group: no member holds a partition any more.
      expect(groups[0]?.members).toEqual([]);
      const offsets = await admin.fetchOffsets({ groupId: t.group, topics: [t.input] });
      const consumed = offsets[0]?.partitions.reduce((n, p) => n + Number(p.offset), 0);
      expect(consumed).toBe(INPUTS);
    } finally {
      await admin.disconnect();
    }
  });
});
