import { Module, type DynamicModule } from '@nestjs/common';
import type { GrantLogger } from '@grantstream/logging';
import type { ConsoleConfig } from './console.config';
import { CONSOLE_CONFIG, CONSOLE_LOGGER, ConsoleRuntime } from './console-runtime';

/** The console as a Nest module: configuration and logger in, the runtime that owns the parts. */
@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig, logger: GrantLogger): DynamicModule {
    return {
      module: ConsoleModule,
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        { provide: CONSOLE_LOGGER, useValue: logger },
        ConsoleRuntime,
      ],
      exports: [ConsoleRuntime],
    };
  }
}
