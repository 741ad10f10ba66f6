import { Controller, Inject } from '@nestjs/common';
import {
  GrantStatusV1Avro,
  GrantStatusV1Schema,
  TOPICS,
  type GrantStatusV1,
} from '@grantstream/contracts';
import { StageEvent, type HandlerResult, type InboundMessage } from '@grantstream/kafka';
import { fromGrantStatus } from '../domain/grant-status';
import { Notifier, type DeliveryContext } from '../notifier';

/**
 * grants.status.v1 → the compliance officer's webhook for a portal's terminal
 * rejection (FUNDER_REJECTION); every other status passes without output.
 */
@Controller()
export class GrantsStatusHandler {
  constructor(@Inject(Notifier) private readonly notifier: Notifier) {}

  @StageEvent(TOPICS.STATUS, { avro: GrantStatusV1Avro, zod: GrantStatusV1Schema })
  handle(message: InboundMessage<GrantStatusV1>, context: DeliveryContext): Promise<HandlerResult> {
    const outcome = fromGrantStatus(message.value, this.notifier.causeOf(message));
    return this.notifier.settle(message, outcome, context);
  }
}
