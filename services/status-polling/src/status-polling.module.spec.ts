import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it, vi } from 'vitest';
import type { StageRunnerConfig } from '@grantstream/config';
import { GrantStatusV1Avro, TOPICS, type GrantStatusV1 } from '@grantstream/contracts';
import {
  StageContext,
  StageTransport,
  stageInputOf,
  type InboundMessage,
  type StageHandler,
} from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import type { FunderClients } from './funder-clients';
import { GrantsStatusPollHandler } from './handlers/grants-status-poll.handler';
import { GrantsStatusHandler } from './handlers/grants-status.handler';
import {
  STATUS_POLLING_DEPS,
  StatusPoller,
  type StatusPollingDeps,
} from './handlers/status-poller';
import { STATUS_POLL_TOPIC_SETTING, STATUS_TOPIC_SETTING } from './status-polling.config';
import { StatusPollingModule } from './status-polling.module';

const log = createLogger({ service: 'status-polling-spec', level: 'silent' });

function fakeFunders() {
  const ready = vi.fn(() => Promise.resolve());
  const close = vi.fn(() => Promise.resolve());
  const funders: FunderClients = { get: () => undefined, ready, close };
  return { funders, ready, close };
}

const depsWith = (funders: FunderClients): StatusPollingDeps => ({
  funders,
  service: { stage: 'status-polling', name: 'grantstream-status-polling', version: '0' },
  now: () => 0,
  limiterWaitMs: 1,
  maxPollDelayMs: 60_000,
  maxStatusTransitions: 10,
  unconfiguredFunders: 'dead_letter',
  topics: { status: TOPICS.STATUS, poll: TOPICS.STATUS_POLL },
});

const terminal: GrantStatusV1 = {
  grant_id: 'NSF-2026-00042',
  funder_id: 'NSF',
  funder_portal: 'grants-gov',
  audit_trail_id: 'trail-42',
  idempotency_key: 'key-42',
  tracking_number: 'GRANT00000042',
  status: 'AGENCY_TRACKING_NUMBER_ASSIGNED',
  portal_messages: [],
  terminal: true,
  submitted_at: 0,
  observed_at: 0,
  next_poll_at: null,
  attempt: 4,
};

describe('StatusPollingModule', () => {
  it('connects the funder clients at start, wires both handlers and closes the clients at shutdown', async () => {
    const { funders, ready, close } = fakeFunders();
    const app = await NestFactory.createApplicationContext(
      StatusPollingModule.forRoot(depsWith(funders)),
      { logger: false },
    );
    expect(ready).toHaveBeenCalledTimes(1);

    for (const [Handler, topic] of [
      [GrantsStatusHandler, TOPICS.STATUS],
      [GrantsStatusPollHandler, TOPICS.STATUS_POLL],
    ] as const) {
      const message: InboundMessage<GrantStatusV1> = {
        topic,
        partition: 0,
        offset: '0',
        key: terminal.grant_id,
        value: terminal,
        raw: null,
        headers: {},
        schemaId: 1,
        timestamp: '0',
      };
      const context = new StageContext<GrantStatusV1>([
        message,
        { attempt: 1, signal: new AbortController().signal, log },
      ]);
      expect(await app.get(Handler).handle(message, context)).toEqual({ records: [] });
    }

    expect(close).not.toHaveBeenCalled();
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  // Through the transport, as the stage starts: each handler alone, given only
  // its own setting, so a handler naming another setting fails the start.
  it.each([
    [GrantsStatusHandler, STATUS_TOPIC_SETTING],
    [GrantsStatusPollHandler, STATUS_POLL_TOPIC_SETTING],
  ] as const)(
    '%o handles the topic of %s with the GrantStatus v1 contract',
    async (Handler, setting) => {
      @Module({
        controllers: [Handler],
        providers: [
          { provide: STATUS_POLLING_DEPS, useValue: depsWith(fakeFunders().funders) },
          StatusPoller,
        ],
      })
      class OneHandlerModule {}
      let handlers: readonly StageHandler<unknown>[] = [];
      const strategy = new StageTransport({
        subscriptions: { [setting]: 'grants.status.scenario.v1' },
        service: { stage: 'status-polling', name: 'spec', version: '0' },
        config: { groupId: 'g' } as StageRunnerConfig,
        clients: { kafka: {} as never, serde: {} as never },
        logger: log,
        createRunner: (options) => {
          handlers = options.handlers;
          return {
            start: () => Promise.resolve(),
            stop: () => Promise.resolve(),
            on: () => undefined,
          };
        },
      });
      const app = await NestFactory.createMicroservice(OneHandlerModule, {
        strategy,
        logger: false,
      });
      await app.listen();
      await app.close();
      expect(handlers.map((h) => h.subscriptions)).toEqual([['grants.status.scenario.v1']]);
      expect(handlers[0]?.input.avro).toBe(GrantStatusV1Avro);
      expect(stageInputOf(Reflect.get(Handler.prototype, 'handle') as object)?.avro).toBe(
        GrantStatusV1Avro,
      );
    },
  );
});
