import { Controller, Inject } from '@nestjs/common';
import { GrantStatusV1Avro, GrantStatusV1Schema, type GrantStatusV1 } from '@grantstream/contracts';
import {
  StageEvent,
  configuredSubscription,
  type HandlerResult,
  type InboundMessage,
  type StageContext,
} from '@grantstream/kafka';
import { STATUS_POLL_TOPIC_SETTING } from '../status-polling.config';
import { StatusPoller } from './status-poller';

/**
 * statusPolling.topics.poll (grants.status.poll.v1 by default): this stage's own schedule, records whose last poll
 * saw no change (or got no answer). Each is polled again once due, exactly as
 * a record of grants.status.v1 is.
 */
@Controller()
export class GrantsStatusPollHandler {
  constructor(@Inject(StatusPoller) private readonly poller: StatusPoller) {}

  @StageEvent(configuredSubscription(STATUS_POLL_TOPIC_SETTING), {
    avro: GrantStatusV1Avro,
    zod: GrantStatusV1Schema,
  })
  handle(
    message: InboundMessage<GrantStatusV1>,
    context: StageContext<GrantStatusV1>,
  ): Promise<HandlerResult> {
    return this.poller.poll(message, context.signal, context.log);
  }
}
