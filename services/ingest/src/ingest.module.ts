import { Module, type DynamicModule } from '@nestjs/common';
import {
  GrantsIngestHandler,
  INGEST_DEPS,
  type IngestDeps,
} from './handlers/grants-ingest.handler';

/** The ingest and validation stage: one handler, its rule packs and identity injected. */
@Module({})
export class IngestModule {
  /** The module with its dependencies bound (built once at startup from validated config). */
  static forRoot(deps: IngestDeps): DynamicModule {
    return {
      module: IngestModule,
      controllers: [GrantsIngestHandler],
      providers: [{ provide: INGEST_DEPS, useValue: deps }],
    };
  }
}
