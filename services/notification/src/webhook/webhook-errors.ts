import { InfrastructureError, PipelineError, type ErrorCategory } from '@grantstream/errors';

/**
 * Raised when the webhook could not take a notification now: connection
 * refused or cut, no answer within the configured timeout, 408, 429, 5xx or
 * any other answer that is neither success nor a refusal. INFRASTRUCTURE, so
 * the runner retries it with backoff until it passes: the offset never moves
 * past an undelivered notification and a webhook outage loses nothing.
 */
export class WebhookUnavailableError extends InfrastructureError {
  override readonly code = 'WEBHOOK_UNAVAILABLE';
}

/**
 * Raised when the webhook refuses a notification with a 4xx other than 408
 * and 429 (a wrong URL, a token it does not accept, a body it will not take):
 * retrying the same request cannot help until the configuration is fixed, so
 * the input is dead-lettered for a redrive.
 */
export class WebhookRejectedError extends PipelineError {
  readonly code = 'WEBHOOK_REJECTED';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;
}
