import { Controller, Inject } from '@nestjs/common';
import { GrantStatusV1Avro, GrantStatusV1Schema, type GrantStatusV1 } from '@grantstream/contracts';
import {
  StageEvent,
  configuredSubscription,
  type HandlerResult,
  type InboundMessage,
  type StageContext,
} from '@grantstream/kafka';
import { STATUS_TOPIC_SETTING } from '../status-polling.config';
import { StatusPoller } from './status-poller';

/**
 * statusPolling.topics.status (grants.status.v1 by default): every status a grant reaches (submission's answer, then
 * each change this stage publishes). A terminal one ends the grant's polling;
 * any other is polled once due, its change published here again or, when
 * unchanged, rescheduled on grants.status.poll.v1.
 */
@Controller()
export class GrantsStatusHandler {
  constructor(@Inject(StatusPoller) private readonly poller: StatusPoller) {}

  @StageEvent(configuredSubscription(STATUS_TOPIC_SETTING), {
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
