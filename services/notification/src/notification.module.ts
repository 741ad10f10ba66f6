import { Module, type DynamicModule } from '@nestjs/common';
import { GrantsComplianceBlockedHandler } from './handlers/grants-compliance-blocked.handler';
import { GrantsDlqHandler } from './handlers/grants-dlq.handler';
import { GrantsNotificationsHandler } from './handlers/grants-notifications.handler';
import { GrantsStatusHandler } from './handlers/grants-status.handler';
import { NOTIFICATION_DEPS, Notifier, type NotificationDeps } from './notifier';

/** The notification stage: one handler per input topic, sharing the webhook and the delivery policy. */
@Module({})
export class NotificationModule {
  /** The module with its dependencies bound (built once at startup from validated config). */
  static forRoot(deps: NotificationDeps): DynamicModule {
    return {
      module: NotificationModule,
      controllers: [
        GrantsComplianceBlockedHandler,
        GrantsDlqHandler,
        GrantsStatusHandler,
        GrantsNotificationsHandler,
      ],
      providers: [{ provide: NOTIFICATION_DEPS, useValue: deps }, Notifier],
    };
  }
}
