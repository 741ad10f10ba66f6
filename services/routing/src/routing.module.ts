import { Module, type DynamicModule } from '@nestjs/common';
import {
  GrantsNormalizedHandler,
  ROUTING_DEPS,
  type RoutingDeps,
} from './handlers/grants-normalized.handler';

/** The compliance routing stage: one handler, its rule packs and identity injected. */
@Module({})
export class RoutingModule {
  /** The module with its dependencies bound (built once at startup from validated config). */
  static forRoot(deps: RoutingDeps): DynamicModule {
    return {
      module: RoutingModule,
      controllers: [GrantsNormalizedHandler],
      providers: [{ provide: ROUTING_DEPS, useValue: deps }],
    };
  }
}
