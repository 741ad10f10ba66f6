import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import {
  SUBMISSION_DEPS,
  SubmissionHandler,
  type SubmissionDeps,
} from './handlers/submission.handler';

/** Releases the funder limiters' Redis connections once the runner has stopped. */
class PortalsShutdown implements OnApplicationShutdown {
  constructor(@Inject(SUBMISSION_DEPS) private readonly deps: SubmissionDeps) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.deps.portals.values()].map((p) => p.close()));
  }
}

/** The submission stage: one handler for the routed topic and the retry tiers, its portals injected. */
@Module({})
export class SubmissionModule {
  /** The module with its dependencies bound (built once at startup from validated config). */
  static forRoot(deps: SubmissionDeps): DynamicModule {
    return {
      module: SubmissionModule,
      controllers: [SubmissionHandler],
      providers: [{ provide: SUBMISSION_DEPS, useValue: deps }, PortalsShutdown],
    };
  }
}
