import type { ErrorCategory } from './error-category';
import { PipelineError, type PipelineErrorOptions } from './pipeline-error';

/** A configuration file or override is invalid; raised at startup with every problem found. */
export class ConfigError extends PipelineError {
  readonly code = 'CONFIG_INVALID';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;
  constructor(
    /** Every problem, one line each, `source: path: message`. */
    readonly problems: readonly string[],
    options: PipelineErrorOptions = {},
  ) {
    super(`invalid configuration (${problems.length} problem(s)):\n  ${problems.join('\n  ')}`, {
      ...options,
      metadata: { ...options.metadata, problems },
    });
  }
}

/** A payload does not match its schema or its zod contract; permanent for that payload. */
export class SchemaViolationError extends PipelineError {
  readonly code: string = 'SCHEMA_VIOLATION';
  readonly category: ErrorCategory = 'SCHEMA_VIOLATION';
  readonly retriable: boolean = false;
}

/** Raised when bytes on a topic are not Confluent wire format (no magic byte 0 or too short). */
export class WireFormatError extends SchemaViolationError {
  override readonly code = 'SCHEMA_WIRE_FORMAT';
}

/** Raised when a message names a schema id the registry does not know. */
export class UnknownSchemaIdError extends SchemaViolationError {
  override readonly code = 'SCHEMA_UNKNOWN_ID';
}

/** Raised when a message's schema is not one registered under the topic's subject. */
export class SchemaMismatchError extends SchemaViolationError {
  override readonly code = 'SCHEMA_SUBJECT_MISMATCH';
}

/** Raised when the registry refuses a schema as incompatible with the subject's history. */
export class IncompatibleSchemaError extends SchemaViolationError {
  override readonly code = 'SCHEMA_INCOMPATIBLE';
}

/** The broker or registry cannot be reached or answered with a transient error. */
export class InfrastructureError extends PipelineError {
  readonly code: string = 'INFRASTRUCTURE_UNAVAILABLE';
  readonly category: ErrorCategory = 'INFRASTRUCTURE';
  readonly retriable: boolean = true;
}

/** A local stack process (broker, registry) failed to start or become ready in time. */
export class StackStartError extends InfrastructureError {
  override readonly code = 'STACK_START_FAILED';
  override readonly retriable = false;
}

/** Raised when an Avro body does not decode with its writer schema (truncated, trailing bytes, bad values). */
export class AvroBodyError extends SchemaViolationError {
  override readonly code = 'SCHEMA_BODY_INVALID';
}

/** Raised when a record that Avro accepted breaks the stricter zod contract of the stage reading it. */
export class ContractViolationError extends SchemaViolationError {
  override readonly code = 'SCHEMA_CONTRACT_VIOLATION';
}

/** Wraps anything a stage handler threw that is not a PipelineError: a bug, so never retried. */
export class UnexpectedHandlerError extends PipelineError {
  readonly code = 'HANDLER_UNEXPECTED';
  readonly category: ErrorCategory = 'INTERNAL';
  readonly retriable = false;
}
