import { Controller, Inject } from '@nestjs/common';
import {
  ComplianceBlockedGrantV1Avro,
  ComplianceBlockedGrantV1Schema,
  TOPICS,
  type ComplianceBlockedGrantV1,
} from '@grantstream/contracts';
import { StageEvent, type HandlerResult, type InboundMessage } from '@grantstream/kafka';
import { fromComplianceBlock } from '../domain/compliance-block';
import { Notifier, type DeliveryContext } from '../notifier';

/**
 * grants.compliance-blocked.v1 → the compliance officer's webhook
 * (COMPLIANCE_BLOCK), and a NOTIFIED audit event annotating routing's REJECT.
 */
@Controller()
export class GrantsComplianceBlockedHandler {
  constructor(@Inject(Notifier) private readonly notifier: Notifier) {}

  @StageEvent(TOPICS.COMPLIANCE_BLOCKED, {
    avro: ComplianceBlockedGrantV1Avro,
    zod: ComplianceBlockedGrantV1Schema,
  })
  handle(
    message: InboundMessage<ComplianceBlockedGrantV1>,
    context: DeliveryContext,
  ): Promise<HandlerResult> {
    const outcome = fromComplianceBlock(message.value, this.notifier.causeOf(message));
    return this.notifier.settle(message, outcome, context);
  }
}
