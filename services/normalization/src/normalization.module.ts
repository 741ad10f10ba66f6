import { Module, type DynamicModule } from '@nestjs/common';
import {
  GrantsValidatedHandler,
  NORMALIZATION_DEPS,
  type NormalizationDeps,
} from './handlers/grants-validated.handler';

/** The normalization stage: one handler, its rule packs and identity injected. */
@Module({})
export class NormalizationModule {
  /** The module with its dependencies bound (built once at startup from validated config). */
  static forRoot(deps: NormalizationDeps): DynamicModule {
    return {
      module: NormalizationModule,
      controllers: [GrantsValidatedHandler],
      providers: [{ provide: NORMALIZATION_DEPS, useValue: deps }],
    };
  }
}
