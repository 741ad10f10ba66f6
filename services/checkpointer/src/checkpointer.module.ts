import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Checkpointer } from './checkpointer';

/** Injection token of the checkpointer instance. */
export const CHECKPOINTER = Symbol('CHECKPOINTER');

/**
 * Starts the checkpointer (joins the lease group) once the application is
 * up, and stops it on shutdown: the active session's open transaction is
 * aborted and the group left, so a standby takes over at once rather than
 * after the session timeout.
 */
@Injectable()
export class CheckpointerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(CHECKPOINTER) private readonly checkpointer: Checkpointer) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.checkpointer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.checkpointer.stop();
  }
}

/** The checkpointer service: one Checkpointer, its lifecycle bound to Nest's. */
@Module({})
export class CheckpointerModule {
  /** The module with its checkpointer bound (built once at startup from validated config). */
  static forRoot(checkpointer: Checkpointer): DynamicModule {
    return {
      module: CheckpointerModule,
      providers: [{ provide: CHECKPOINTER, useValue: checkpointer }, CheckpointerLifecycle],
    };
  }
}
