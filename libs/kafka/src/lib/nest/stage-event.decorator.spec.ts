import 'reflect-metadata';
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StageRunnerConfig } from '@grantstream/config';
import { createLogger } from '@grantstream/logging';
import type { InboundMessage, StageHandler } from '../runner/stage-handler';
import type { StageRunnerOptions } from '../runner/stage-runner';
import { StageContext } from './stage-context';
import { StageEvent, stageInputOf } from './stage-event.decorator';
import { StageTransport } from './stage-transport';

const OrderAvro: schema.RecordType = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'lines', type: 'int' },
  ],
};
const OrderSchema = z.object({ id: z.string(), lines: z.number().int() });
type Order = z.infer<typeof OrderSchema>;

const TAX_RATE = Symbol('TAX_RATE');

/** Stands in for domain logic a stage delegates to. */
@Injectable()
class Splitter {
  constructor(@Inject(TAX_RATE) private readonly rate: number) {}
  split(order: Order): { id: string; line: number; rate: number }[] {
    return Array.from({ length: order.lines }, (_, line) => ({
      id: order.id,
      line,
      rate: this.rate,
    }));
  }
}

@Controller()
class OrderStage {
  // @Inject on every parameter: vitest and tsx compile with esbuild/oxc,
  // which emit no design:paramtypes, so Nest cannot infer the types.
  constructor(@Inject(Splitter) private readonly splitter: Splitter) {}

  @StageEvent(/^orders\..+$/, { avro: OrderAvro, zod: OrderSchema })
  split(message: InboundMessage<Order>, ctx: StageContext<Order>) {
    ctx.log.debug({ lines: message.value.lines }, 'splitting');
    return {
      records: this.splitter.split(message.value).map((value) => ({
        topic: 'orders.lines',
        key: message.key,
        value: { ...value, attempt: ctx.attempt },
      })),
    };
  }
}

@Module({ controllers: [OrderStage], providers: [Splitter, { provide: TAX_RATE, useValue: 0.2 }] })
class OrderModule {}

const logger = createLogger({ service: 'nest-spec', level: 'silent' });

describe('a stage controller, unit-tested with Nest DI and no broker', () => {
  it('calls the decorated method with its injected collaborators', async () => {
    const ctx = await NestFactory.createApplicationContext(OrderModule, { logger: false });
    const stage = ctx.get(OrderStage);
    const message: InboundMessage<Order> = {
      topic: 'orders.eu',
      partition: 1,
      offset: '5',
      key: 'o-1',
      value: { id: 'o-1', lines: 2 },
      raw: null,
      headers: {},
      schemaId: 3,
      timestamp: '0',
    };
    const handlerCtx = { attempt: 1, signal: new AbortController().signal, log: logger };
    expect(stage.split(message, new StageContext<Order>([message, handlerCtx]))).toEqual({
      records: [
        { topic: 'orders.lines', key: 'o-1', value: { id: 'o-1', line: 0, rate: 0.2, attempt: 1 } },
        { topic: 'orders.lines', key: 'o-1', value: { id: 'o-1', line: 1, rate: 0.2, attempt: 1 } },
      ],
    });
    await ctx.close();
  });
});

/**
 * The runner handlers the transport builds for a module, read the way the
 * transport itself reads them (Nest's handler registry), never through Nest's
 * metadata keys.
 */
async function stageHandlers(module: new () => object): Promise<readonly StageHandler<unknown>[]> {
  let options: StageRunnerOptions | undefined;
  const strategy = new StageTransport({
    service: { stage: 'spec', name: 'spec', version: '0.0.0' },
    config: { groupId: 'g' } as StageRunnerConfig,
    clients: { kafka: {} as never, serde: {} as never },
    logger,
    createRunner: (o) => {
      options = o;
      return { start: () => Promise.resolve(), stop: () => Promise.resolve(), on: () => undefined };
    },
  });
  const app = await NestFactory.createMicroservice(module, { strategy, logger: false });
  await app.listen();
  await app.close();
  return options?.handlers ?? [];
}

const order = (topic: string): InboundMessage<Order> => ({
  topic,
  partition: 0,
  offset: '1',
  key: 'o-2',
  value: { id: 'o-2', lines: 1 },
  raw: null,
  headers: {},
  schemaId: 3,
  timestamp: '0',
});

describe('what @StageEvent declares, as the transport sees it', () => {
  it('subscribes to the pattern as a RegExp and carries the input contract', async () => {
    const [handler, ...rest] = await stageHandlers(OrderModule);
    expect(rest).toEqual([]);
    expect(handler?.subscriptions).toEqual([/^orders\..+$/]);
    expect(handler?.input).toEqual({ avro: OrderAvro, zod: OrderSchema });
    const method = Reflect.get(OrderStage.prototype, 'split') as object;
    expect(stageInputOf(method)?.avro).toBe(OrderAvro);
  });

  it('calls the method with (message, StageContext), whatever parameters it declares', async () => {
    const seen: unknown[][] = [];
    @Controller()
    class Arities {
      @StageEvent('both', { avro: OrderAvro, zod: OrderSchema })
      both(message: InboundMessage<Order>, ctx: StageContext<Order>) {
        seen.push([message, ctx]);
        return { records: [] };
      }

      // Declares only the message; the rest parameter shows what arrived.
      // Nest's default for an undecorated method is the payload alone.
      @StageEvent('one', { avro: OrderAvro, zod: OrderSchema })
      one(...args: [InboundMessage<Order>]) {
        seen.push(args);
        return { records: [] };
      }
    }
    @Module({ controllers: [Arities] })
    class AritiesModule {}
    const handlers = await stageHandlers(AritiesModule);
    expect(handlers.map((h) => h.subscriptions)).toEqual([['both'], ['one']]);
    const handlerCtx = { attempt: 3, signal: new AbortController().signal, log: logger };
    for (const [i, h] of handlers.entries()) {
      const m = order(h.subscriptions[0] as string);
      await expect(h.handle(m, handlerCtx)).resolves.toEqual({ records: [] });
      const [message, ctx, ...more] = seen[i] ?? [];
      expect(message).toBe(m);
      expect(ctx).toBeInstanceOf(StageContext);
      expect((ctx as StageContext<Order>).attempt).toBe(3);
      expect(more).toEqual([]);
    }
  });

  it('leaves a method without @StageEvent with no input contract', () => {
    expect(stageInputOf(Reflect.get(Splitter.prototype, 'split') as object)).toBeUndefined();
  });
});
