import { Controller, Inject } from '@nestjs/common';
import {
  RAW_INPUT,
  StageEvent,
  configuredSubscription,
  type HandlerResult,
  type InboundMessage,
} from '@grantstream/kafka';
import { fromDeadLetter } from '../domain/dead-letter';
import { Notifier, type DeliveryContext } from '../notifier';

/** Header values as text; the dead letter's own value is foreign bytes and is never decoded. */
function textHeaders(
  headers: Readonly<Record<string, Buffer | undefined>>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = value?.toString('utf8');
  return out;
}

/**
 * The setting naming the dead-letter topic this stage reads: the one every
 * stage of the deployment writes to (runner.deadLetterTopic), so a
 * deployment, or a scenario on the shared broker, with its own dead-letter
 * topic is told of its own dead letters and nobody else's.
 */
export const DEAD_LETTER_TOPIC_SETTING = 'runner.deadLetterTopic';

/**
 * runner.deadLetterTopic (grants.dlq.v1 by default) → the compliance
 * officer's webhook (DEAD_LETTER, or STATUS_UNRESOLVED), read from the
 * grantstream.dlq.* headers and the key.
 */
@Controller()
export class GrantsDlqHandler {
  constructor(@Inject(Notifier) private readonly notifier: Notifier) {}

  @StageEvent(configuredSubscription(DEAD_LETTER_TOPIC_SETTING), RAW_INPUT)
  handle(message: InboundMessage<Buffer | null>, context: DeliveryContext): Promise<HandlerResult> {
    const outcome = fromDeadLetter(
      {
        key: message.key,
        headers: textHeaders(message.headers),
        position: { topic: message.topic, partition: message.partition, offset: message.offset },
        timestamp: Number(message.timestamp),
      },
      this.notifier.causeOf(message),
      this.notifier.stage,
    );
    return this.notifier.settle(message, outcome, context);
  }
}
