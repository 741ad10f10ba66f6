import { Controller, Inject } from '@nestjs/common';
import {
  NotificationRequestV1Avro,
  NotificationRequestV1Schema,
  TOPICS,
  type NotificationRequestV1,
} from '@grantstream/contracts';
import { StageEvent, type HandlerResult, type InboundMessage } from '@grantstream/kafka';
import { fromRequest } from '../domain/request';
import { Notifier, type DeliveryContext } from '../notifier';

/**
 * grants.notifications.v1 → the compliance officer's webhook: requests of
 * other stages (submission's DEADLINE_AT_RISK), delivered as they are.
 */
@Controller()
export class GrantsNotificationsHandler {
  constructor(@Inject(Notifier) private readonly notifier: Notifier) {}

  @StageEvent(TOPICS.NOTIFICATIONS, {
    avro: NotificationRequestV1Avro,
    zod: NotificationRequestV1Schema,
  })
  handle(
    message: InboundMessage<NotificationRequestV1>,
    context: DeliveryContext,
  ): Promise<HandlerResult> {
    const outcome = fromRequest(message.value, this.notifier.causeOf(message));
    return this.notifier.settle(message, outcome, context);
  }
}
