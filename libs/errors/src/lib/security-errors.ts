import type { ErrorCategory } from './error-category';
import { PipelineError, type PipelineErrorOptions } from './pipeline-error';

/**
 * Raised when the broker refuses an operation to this client's principal
 * (TOPIC_, GROUP_, TRANSACTIONAL_ID_ or CLUSTER_AUTHORIZATION_FAILED): the
 * principal lacks an ACL. No record is at fault and no retry can succeed
 * until an operator changes the ACLs or the configuration, so the stage
 * stops instead of dead-lettering every input or looping on the same chunk.
 */
export class KafkaAuthorizationError extends PipelineError {
  readonly code: string = 'KAFKA_NOT_AUTHORIZED';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;

  constructor(
    /** The broker's error type, e.g. TOPIC_AUTHORIZATION_FAILED. */
    readonly refusal: string,
    message: string,
    options: PipelineErrorOptions = {},
  ) {
    super(message, { ...options, metadata: { refusal, ...options.metadata } });
  }
}

/**
 * Raised when the broker refuses this client's credentials (a wrong SASL
 * password, an unknown user, an expired token): every connection would be
 * refused the same way, so the client fails at once instead of retrying.
 */
export class KafkaAuthenticationError extends PipelineError {
  readonly code: string = 'KAFKA_AUTHENTICATION_FAILED';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;
}

/**
 * Raised when a TLS handshake fails on trust (a broker or registry
 * certificate not signed by the configured CA, a name that does not match
 * the certificate, an expired certificate): a configuration problem no
 * retry can fix, reported before the client's connection retries start.
 */
export class TlsTrustError extends PipelineError {
  readonly code: string = 'TLS_UNTRUSTED';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;
}
