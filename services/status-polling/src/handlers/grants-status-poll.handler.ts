import { Controller, Inject } from '@nestjs/common';
import {
  GrantStatusV1Avro,
  GrantStatusV1Schema,
  TOPICS,
  type GrantStatusV1,
} from '@grantstream/contracts';
import {
  StageEvent,
  type HandlerResult,
  type InboundMessage,
  type StageContext,
} from '@grantstream/kafka';
import { StatusPoller } from './status-poller';

/**
 * grants.status.poll.v1: this stage's own schedule, records whose last poll
 * saw no change (or got no answer). Each is polled again once due, exactly as
 * a record of grants.status.v1 is.
 */
@Controller()
export class GrantsStatusPollHandler {
  constructor(@Inject(StatusPoller) private readonly poller: StatusPoller) {}

  @StageEvent(TOPICS.STATUS_POLL, { avro: GrantStatusV1Avro, zod: GrantStatusV1Schema })
  handle(
    message: InboundMessage<GrantStatusV1>,
    context: StageContext<GrantStatusV1>,
  ): Promise<HandlerResult> {
    return this.poller.poll(message, context.signal, context.log);
  }
}
