import { BaseRpcContext } from '@nestjs/microservices';
import type { GrantLogger } from '@grantstream/logging';
import type { HandlerContext, InboundMessage } from '../runner/stage-handler';

/**
 * The second argument of a `@StageEvent` method (also reachable with `@Ctx()`):
 * the runner's {@link HandlerContext} in the shape Nest's interceptors, guards
 * and filters expect of an RPC context, so they can read the message too.
 */
export class StageContext<T = unknown> extends BaseRpcContext<[InboundMessage<T>, HandlerContext]> {
  /** The decoded input message (the same object the method receives as data). */
  get message(): InboundMessage<T> {
    return this.args[0];
  }

  /** 1 on the first try; higher when a retriable failure is being retried. */
  get attempt(): number {
    return this.args[1].attempt;
  }

  /** Aborted when the runner stops or loses the partition: nothing of the open chunk will commit. */
  get signal(): AbortSignal {
    return this.args[1].signal;
  }

  /** Child logger already carrying topic, partition and offset. */
  get log(): GrantLogger {
    return this.args[1].log;
  }
}
