import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { GrantsStatusPollHandler } from './handlers/grants-status-poll.handler';
import { GrantsStatusHandler } from './handlers/grants-status.handler';
import {
  STATUS_POLLING_DEPS,
  StatusPoller,
  type StatusPollingDeps,
} from './handlers/status-poller';

/**
 * Connects the funder limiters before the runner consumes, and releases them
 * after it has stopped: Nest closes the transport (the runner, and with it
 * every handler) before the shutdown hooks run.
 */
@Injectable()
export class FunderClientsLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(STATUS_POLLING_DEPS) private readonly deps: StatusPollingDeps) {}

  /** Fails the start when Redis cannot be reached, rather than every poll later. */
  async onModuleInit(): Promise<void> {
    await this.deps.funders.ready();
  }

  /** Closes the limiters' Redis connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.deps.funders.close();
  }
}

/** The status-polling stage: one handler per input topic over one poller, funder clients injected. */
@Module({})
export class StatusPollingModule {
  /** The module with its dependencies bound (built once at startup from validated config). */
  static forRoot(deps: StatusPollingDeps): DynamicModule {
    return {
      module: StatusPollingModule,
      controllers: [GrantsStatusHandler, GrantsStatusPollHandler],
      providers: [
        { provide: STATUS_POLLING_DEPS, useValue: deps },
        StatusPoller,
        FunderClientsLifecycle,
      ],
    };
  }
}
