import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { Controller, Inject, Injectable, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type MessageHandler } from '@nestjs/microservices';
import { map, of } from 'rxjs';
import type { schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, InfrastructureError } from '@grantstream/errors';
import { createLogger } from '@grantstream/logging';
import type { StageRunnerConfig } from '@grantstream/config';
import type { HandlerContext, InboundMessage, StageHandler } from '../runner/stage-handler';
import { StageRunner, type StageRunnerOptions } from '../runner/stage-runner';
import { closeOnSignals } from './close-on-signals';
import type { StageContext } from './stage-context';
import { STAGE_INPUT_EXTRA, StageEvent, configuredSubscription } from './stage-event.decorator';
import {
  HandlerResultError,
  StageTransport,
  parseSubscription,
  type StageRunnerLike,
} from './stage-transport';

const logger = createLogger({ service: 'nest-spec', level: 'silent' });

const PingAvro: schema.RecordType = {
  type: 'record',
  name: 'Ping',
  fields: [{ name: 'id', type: 'string' }],
};
const PingSchema = z.object({ id: z.string() });
type Ping = z.infer<typeof PingSchema>;
const contract = { avro: PingAvro, zod: PingSchema };

/** A runner that records what the transport gave it and never touches a broker. */
class FakeRunner extends EventEmitter implements StageRunnerLike {
  started = 0;
  stopped = 0;
  constructor(readonly options: StageRunnerOptions) {
    super();
  }
  start(): Promise<void> {
    this.started += 1;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.stopped += 1;
    return Promise.resolve();
  }
}

function transport(subscriptions?: Record<string, string | RegExp>) {
  const runners: FakeRunner[] = [];
  const t = new StageTransport({
    ...(subscriptions ? { subscriptions } : {}),
    service: { stage: 'spec', name: 'spec', version: '0.0.0' },
    config: { groupId: 'g' } as StageRunnerConfig,
    clients: { kafka: {} as never, serde: {} as never },
    logger,
    createRunner: (o) => {
      const r = new FakeRunner(o);
      runners.push(r);
      return r;
    },
  });
  const listen = () =>
    new Promise<FakeRunner>((resolve, reject) =>
      t.listen((err?: unknown) => {
        if (err instanceof Error) reject(err);
        else if (err !== undefined) reject(new Error('listen failed with a non-Error'));
        else resolve(runners[0] as FakeRunner);
      }),
    );
  return { t, listen };
}

const message = (topic: string, id = 'p-1'): InboundMessage<unknown> => ({
  topic,
  partition: 0,
  offset: '7',
  key: id,
  value: { id },
  raw: null,
  headers: {},
  schemaId: 1,
  timestamp: '0',
});
const context = (): HandlerContext => ({
  attempt: 2,
  signal: new AbortController().signal,
  log: logger,
});
const only = (r: FakeRunner): StageHandler<unknown> => {
  expect(r.options.handlers).toHaveLength(1);
  return r.options.handlers[0] as StageHandler<unknown>;
};
const event = (fn: (data: unknown, ctx: unknown) => unknown): MessageHandler =>
  ((data: unknown, ctx: unknown) => Promise.resolve(fn(data, ctx))) as MessageHandler;

describe('parseSubscription', () => {
  it('reads /source/flags as a RegExp and anything else as a topic name', () => {
    expect(parseSubscription('grants.ingest.v1')).toBe('grants.ingest.v1');
    const re = parseSubscription(String(/^grants\.ingest\..+$/i));
    expect(re).toBeInstanceOf(RegExp);
    expect((re as RegExp).test('GRANTS.ingest.pdf')).toBe(true);
    expect((re as RegExp).test('grants.validated.v1')).toBe(false);
  });
  it('refuses stateful flags and broken expressions', () => {
    expect(() => parseSubscription('/^a/g')).toThrow(ConfigError);
    expect(() => parseSubscription('/(/')).toThrow(ConfigError);
  });
});

describe('StageTransport handler building (fake handler map)', () => {
  it('builds one StageHandler per pattern with its subscription and contract', async () => {
    const { t, listen } = transport();
    t.addHandler(
      'grants.ingest.v1',
      event(() => ({ records: [] })),
      true,
      {
        [STAGE_INPUT_EXTRA]: contract,
      },
    );
    t.addHandler(
      String(/^grants\.ingest\..+$/),
      event(() => ({ records: [] })),
      true,
      {
        [STAGE_INPUT_EXTRA]: contract,
      },
    );
    const runner = await listen();
    expect(runner.started).toBe(1);
    expect(runner.options.handlers.map((h) => h.subscriptions)).toEqual([
      ['grants.ingest.v1'],
      [/^grants\.ingest\..+$/],
    ]);
    expect(runner.options.handlers.every((h) => h.input === contract)).toBe(true);
    expect(runner.options.service.stage).toBe('spec');
  });

  it('takes a configured subscription from the options, and refuses one the configuration lacks', async () => {
    const scoped = /^grants\.ingest\.scenario-a\..+$/;
    const { t, listen } = transport({ 'ingest.topicPattern': scoped });
    t.addHandler(
      configuredSubscription('ingest.topicPattern'),
      event(() => ({ records: [] })),
      true,
      {
        [STAGE_INPUT_EXTRA]: contract,
      },
    );
    expect(only(await listen()).subscriptions).toEqual([scoped]);

    const missing = transport({});
    missing.t.addHandler(
      configuredSubscription('ingest.topicPattern'),
      event(() => ({ records: [] })),
      true,
      {
        [STAGE_INPUT_EXTRA]: contract,
      },
    );
    const err = await missing.listen().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'stage pattern {ingest.topicPattern}: the configuration gives no value for ingest.topicPattern',
    ]);
  });

  it('passes the message as data and a StageContext, and normalises promises and observables', async () => {
    const { t, listen } = transport();
    let seen: { data: unknown; ctx: StageContext } | undefined;
    t.addHandler(
      'in',
      event((data, ctx) => {
        seen = { data, ctx: ctx as StageContext };
        return of({ records: [{ topic: 'out', key: 'k', value: 1 }] });
      }),
      true,
      { [STAGE_INPUT_EXTRA]: contract },
    );
    const handler = only(await listen());
    const m = message('in');
    const ctx = context();
    await expect(handler.handle(m, ctx)).resolves.toEqual({
      records: [{ topic: 'out', key: 'k', value: 1 }],
    });
    expect(seen?.data).toBe(m);
    expect(seen?.ctx.message).toBe(m);
    expect(seen?.ctx.attempt).toBe(2);
    expect(seen?.ctx.signal).toBe(ctx.signal);
    expect(seen?.ctx.getArgByIndex(0)).toBe(m);
  });

  it('hands a thrown error to the runner unchanged, and refuses a non-result', async () => {
    const transient = new InfrastructureError('portal down');
    const { t, listen } = transport();
    t.addHandler(
      'in',
      event((data) => {
        if ((data as InboundMessage<Ping>).key === 'boom') throw transient;
        return undefined;
      }),
      true,
      { [STAGE_INPUT_EXTRA]: contract },
    );
    const handler = only(await listen());
    await expect(handler.handle(message('in', 'boom'), context())).rejects.toBe(transient);
    await expect(handler.handle(message('in'), context())).rejects.toBeInstanceOf(
      HandlerResultError,
    );
  });

  it('reports every registration problem at once and starts nothing', async () => {
    const { t, listen } = transport();
    const ok = event(() => ({ records: [] }));
    t.addHandler('no-contract', ok, true, {});
    t.addHandler('request-reply', ok, false, { [STAGE_INPUT_EXTRA]: contract });
    t.addHandler('twice', ok, true, { [STAGE_INPUT_EXTRA]: contract });
    t.addHandler('twice', ok, true, { [STAGE_INPUT_EXTRA]: contract });
    t.addHandler('/(/', ok, true, { [STAGE_INPUT_EXTRA]: contract });
    const err = await listen().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toHaveLength(4);
    expect(() => t.unwrap()).toThrow(/not listening/);
  });

  it('relays runner events registered before listen, and close() stops the runner once', async () => {
    const { t, listen } = transport();
    t.addHandler(
      'in',
      event(() => ({ records: [] })),
      true,
      { [STAGE_INPUT_EXTRA]: contract },
    );
    const subscribed: string[][] = [];
    t.on('subscribed', ({ topics }) => subscribed.push(topics));
    const statuses: string[] = [];
    t.status.subscribe((s) => statuses.push(s));
    const runner = await listen();
    expect(t.unwrap<FakeRunner>()).toBe(runner);
    runner.emit('subscribed', { topics: ['in'] });
    expect(subscribed).toEqual([['in']]);
    await Promise.all([t.close(), t.close()]);
    expect(runner.stopped).toBe(1);
    expect(statuses).toEqual(['connecting', 'connected', 'stopping', 'disconnected']);
  });

  it('builds a real StageRunner by default', async () => {
    const t = new StageTransport({
      service: { stage: 'spec', name: 'spec', version: '0.0.0' },
      config: {
        groupId: 'g',
        memory: { pauseAboveRssMb: 2, resumeBelowRssMb: 1, checkIntervalMs: 1000 },
        messageConcurrency: 1,
        partitionsConsumedConcurrently: 1,
      } as StageRunnerConfig,
      clients: {
        // Fails at connect: enough to prove the transport built a StageRunner.
        kafka: {
          admin: () => ({ connect: () => Promise.reject(new Error('no broker here')) }),
        } as never,
        serde: {} as never,
      },
      logger,
    });
    t.addHandler(
      'in',
      event(() => ({ records: [] })),
      true,
      { [STAGE_INPUT_EXTRA]: contract },
    );
    const err = await new Promise((resolve) => t.listen(resolve));
    expect((err as Error).message).toBe('no broker here');
    expect(t.unwrap()).toBeInstanceOf(StageRunner);
  });
});

// Through Nest itself: the handlers the transport wraps are the ones Nest built
// (pipes, interceptors, exception filters), still without a broker.
describe('StageTransport in a Nest microservice (no broker)', () => {
  const FLAKY = Symbol('FLAKY');

  @Injectable()
  class Echo {
    records(message: InboundMessage<Ping>) {
      return [{ topic: 'out', key: message.key, value: { id: message.value.id } }];
    }
  }

  @Controller()
  class PingController {
    // Explicit @Inject: tests and tsx run through esbuild/oxc, which emit no
    // decorator metadata, so Nest could not see constructor parameter types.
    constructor(
      @Inject(Echo) private readonly echo: Echo,
      @Inject(FLAKY) private readonly flaky: { error: Error | null },
    ) {}

    @StageEvent('pings', contract)
    @UseInterceptors({ intercept: (_ctx, next) => next.handle().pipe(map((r: unknown) => r)) })
    ping(message: InboundMessage<Ping>, ctx: StageContext<Ping>) {
      if (this.flaky.error) throw this.flaky.error;
      return {
        records: this.echo
          .records(message)
          .map((r) => ({ ...r, headers: { a: `${ctx.attempt}` } })),
      };
    }
  }

  @Controller()
  class RequestReplyController {
    @MessagePattern('never')
    never() {
      return 1;
    }
  }

  const build = async (flaky: { error: Error | null }, extra: (new () => object)[] = []) => {
    @Module({
      controllers: [PingController, ...extra],
      providers: [Echo, { provide: FLAKY, useValue: flaky }],
    })
    class PingModule {}
    let runner: FakeRunner | undefined;
    const strategy = new StageTransport({
      service: { stage: 'spec', name: 'spec', version: '0.0.0' },
      config: { groupId: 'g' } as StageRunnerConfig,
      clients: { kafka: {} as never, serde: {} as never },
      logger,
      createRunner: (o) => (runner = new FakeRunner(o)),
    });
    const app = await NestFactory.createMicroservice(PingModule, { strategy, logger: false });
    return { app, runner: () => runner, strategy };
  };

  it('runs the decorated method with injected providers, through Nest interceptors', async () => {
    const { app, runner, strategy } = await build({ error: null });
    await app.listen();
    const handler = only(runner() as FakeRunner);
    expect(handler.subscriptions).toEqual(['pings']);
    expect(handler.input.avro).toBe(PingAvro);
    expect(handler.input.zod).toBe(PingSchema);
    await expect(handler.handle(message('pings', 'p-9'), context())).resolves.toEqual({
      records: [{ topic: 'out', key: 'p-9', value: { id: 'p-9' }, headers: { a: '2' } }],
    });
    await app.close();
    expect(runner()?.stopped).toBe(1);
    expect(() => strategy.unwrap()).not.toThrow();
  });

  it('lets an error through Nest exception filters unchanged, so the runner can retry it', async () => {
    const flaky = { error: null as Error | null };
    const { app, runner } = await build(flaky);
    await app.listen();
    const handler = only(runner() as FakeRunner);
    flaky.error = new InfrastructureError('portal down');
    await expect(handler.handle(message('pings'), context())).rejects.toBe(flaky.error);
    flaky.error = new TypeError('bug');
    await expect(handler.handle(message('pings'), context())).rejects.toBe(flaky.error);
    await app.close();
  });

  it('refuses a @MessagePattern next to stage handlers', async () => {
    const { app } = await build({ error: null }, [RequestReplyController]);
    await expect(app.listen()).rejects.toThrow(/@MessagePattern is request-response/);
    await app.close();
  });
});

describe('closeOnSignals', () => {
  it('closes the app once on the first signal, then exits 0', async () => {
    const source = Object.assign(new EventEmitter(), { exit: (code: number) => exits.push(code) });
    const exits: number[] = [];
    let closes = 0;
    closeOnSignals({ close: () => Promise.resolve((closes += 1)) }, { logger, source });
    source.emit('SIGTERM');
    source.emit('SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(closes).toBe(1);
    expect(exits).toEqual([0]);
  });
});
