import 'reflect-metadata';
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import { PATTERN_EXTRAS_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import type { schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '@grantstream/logging';
import type { InboundMessage } from '../runner/stage-handler';
import { StageContext } from './stage-context';
import { STAGE_INPUT_EXTRA, StageEvent, StageInput, stageInputOf } from './stage-event.decorator';

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

describe('decorator metadata', () => {
  const method = (OrderStage.prototype as unknown as Record<string, object>)['split'] as object;

  it('@StageEvent stores the pattern as /source/flags and the contract in the extras', () => {
    expect(Reflect.getMetadata(PATTERN_METADATA, method)).toEqual(['/^orders\\..+$/']);
    const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as Record<string, unknown>;
    expect(extras[STAGE_INPUT_EXTRA]).toEqual({ avro: OrderAvro, zod: OrderSchema });
    expect(stageInputOf(method)?.avro).toBe(OrderAvro);
  });

  it('@StageInput composes with @EventPattern in either order', () => {
    class Either {
      @EventPattern('a', { keep: true })
      @StageInput(OrderAvro, OrderSchema)
      below() {
        return { records: [] };
      }

      @StageInput(OrderAvro, OrderSchema)
      @EventPattern('b', { keep: true })
      above() {
        return { records: [] };
      }
    }
    for (const name of ['below', 'above']) {
      const m = (Either.prototype as unknown as Record<string, object>)[name] as object;
      const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, m) as Record<string, unknown>;
      expect(extras['keep']).toBe(true);
      expect(extras[STAGE_INPUT_EXTRA]).toEqual({ avro: OrderAvro, zod: OrderSchema });
    }
  });
});
