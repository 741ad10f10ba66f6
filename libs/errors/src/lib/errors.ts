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

/** One thing wrong with an input, as a stage reports it: a stable code, a sentence, and where. */
export interface InputProblem {
  /** Stable machine-readable code, e.g. `GRANT_ID_FORMAT`, `ATTACHMENT_CHECKSUM_MISMATCH`. */
  code: string;
  /** What is wrong, for the person who fixes the input. */
  message: string;
  /** The field or attachment the problem is about, when there is one (e.g. `metadata`, `attachments[2]`). */
  field?: string;
}

function describeProblems(problems: readonly InputProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}

/**
 * Base of the errors that reject one input for what it contains. The code is
 * the first problem's, so the dead-letter header names the precise reason;
 * every problem travels in the message and metadata.
 */
abstract class RejectedInputError extends PipelineError {
  readonly code: string;
  readonly retriable = false;
  constructor(
    readonly problems: readonly InputProblem[],
    fallbackCode: string,
    options: PipelineErrorOptions = {},
  ) {
    super(describeProblems(problems), {
      ...options,
      metadata: { ...options.metadata, problems },
    });
    this.code = problems[0]?.code ?? fallbackCode;
  }
}

/**
 * Raised by ingest when a decoded submission breaks a business rule the schema
 * cannot express (grant id format, deadline, metadata size and depth): permanent.
 */
export class BusinessRuleViolationError extends RejectedInputError {
  readonly category: ErrorCategory = 'SCHEMA_VIOLATION';
  constructor(problems: readonly InputProblem[], options: PipelineErrorOptions = {}) {
    super(problems, 'BUSINESS_RULE_VIOLATION', options);
  }
}

/** Raised when a grant names a funder no rule pack is configured for: nothing can check or submit it. */
export class UnknownFunderError extends RejectedInputError {
  readonly category: ErrorCategory = 'UNKNOWN_FUNDER';
  constructor(problems: readonly InputProblem[], options: PipelineErrorOptions = {}) {
    super(problems, 'UNKNOWN_FUNDER', options);
  }
}

/**
 * Raised when an attachment reference or the attachment itself breaks a rule:
 * outside the storage roots, missing, wrong type, checksum or size mismatch,
 * a funder's file rules. Permanent: the same bytes fail the same way.
 */
export class AttachmentInvalidError extends RejectedInputError {
  readonly category: ErrorCategory = 'ATTACHMENT_INVALID';
  constructor(problems: readonly InputProblem[], options: PipelineErrorOptions = {}) {
    super(problems, 'ATTACHMENT_INVALID', options);
  }
}

/**
 * Raised when attachment storage fails for a reason that may pass (an I/O
 * error, an object store answering 5xx): retried within the stage's attempt
 * budget, then dead-lettered for a redrive, rather than stalling the partition
 * forever the way a broker outage is allowed to.
 */
export class AttachmentStorageError extends PipelineError {
  readonly code = 'ATTACHMENT_STORAGE_UNAVAILABLE';
  readonly category: ErrorCategory = 'ATTACHMENT_INVALID';
  readonly retriable = true;
}

/**
 * Raised when a stage's output record would exceed the record size the broker
 * accepts: permanent for that input, which is dead-lettered instead of failing
 * its chunk's transaction forever.
 */
export class RecordTooLargeError extends PipelineError {
  readonly code = 'RECORD_TOO_LARGE';
  readonly category: ErrorCategory = 'SCHEMA_VIOLATION';
  readonly retriable = false;
}

/**
 * Raised by the stage runner for a consumed record larger than the stage's
 * memory.maxInputRecordBytes (usually one inflated from a compressed batch):
 * it is dead-lettered without its value ever being held in memory, so one
 * record cannot take the stage over its memory budget. The dead letter keeps
 * the record's key and position; its value stays at its source offset.
 */
export class InputTooLargeError extends PipelineError {
  readonly code = 'INPUT_TOO_LARGE';
  readonly category: ErrorCategory = 'SCHEMA_VIOLATION';
  readonly retriable = false;
}

/**
 * Raised by the stage runner when the broker refused a record of one input's
 * results (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD ...) and
 * splitting the chunk isolated that input: the same records would be refused
 * again, so the input is dead-lettered instead of failing its chunk forever.
 */
export class RecordRefusedError extends PipelineError {
  readonly code = 'RECORD_REFUSED';
  readonly category: ErrorCategory = 'SCHEMA_VIOLATION';
  readonly retriable = false;
}

/**
 * Raised by submission when a grant's retry budget is spent (attempts or time)
 * on failures that might have passed: the category is the last failure's
 * (API_RATE_LIMIT, NETWORK_TIMEOUT, INFRASTRUCTURE, CIRCUIT_OPEN), so ops see
 * why the portal never took it. Permanent: the grant is dead-lettered.
 */
export class RetryBudgetExhaustedError extends PipelineError {
  readonly code = 'RETRY_BUDGET_EXHAUSTED';
  readonly retriable = false;
  constructor(
    readonly category: ErrorCategory,
    message: string,
    options: PipelineErrorOptions = {},
  ) {
    super(message, options);
  }
}

/**
 * Raised by submission and status polling when a portal refuses our
 * credentials or the configured URL leads nowhere (401, 403, 404 on submit):
 * no retry can help until the configuration is fixed, so the grant is
 * dead-lettered for a redrive.
 */
export class FunderMisconfiguredError extends PipelineError {
  readonly code = 'FUNDER_MISCONFIGURED';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;
}

/**
 * Raised by status polling when a submission has not reached a terminal
 * status within the configured give-up age: a person must ask the funder.
 */
export class StatusUnresolvedError extends PipelineError {
  readonly code = 'STATUS_UNRESOLVED';
  readonly category: ErrorCategory = 'STATUS_UNRESOLVED';
  readonly retriable = false;
}

/**
 * Raised when a transactional writer's id was initialised by another process
 * (a standby that took over): the broker refuses this writer's transactions
 * from then on. The writer must stop; retrying would only fence the new owner.
 */
export class WriterFencedError extends InfrastructureError {
  override readonly code = 'WRITER_FENCED';
  override readonly retriable = false;
}

/**
 * Raised when the signed Merkle log's own records disagree (order batches not
 * contiguous, or not reproducing the last signed checkpoint's root): continuing
 * would fork the log, so the checkpointer refuses to append and an operator
 * must look (`grantctl audit verify` names what changed).
 */
export class LogStateCorruptError extends PipelineError {
  readonly code = 'AUDIT_LOG_STATE_CORRUPT';
  readonly category: ErrorCategory = 'INTERNAL';
  readonly retriable = false;
}

/**
 * Raised when a write-once witness store already holds another content under
 * the name being written (a checkpoint of the same tree size with another
 * root): the store never overwrites, and the existing object is itself
 * evidence of a fork for an auditor to look at.
 */
export class WitnessConflictError extends PipelineError {
  readonly code = 'WITNESS_CONFLICT';
  readonly category: ErrorCategory = 'INTERNAL';
  readonly retriable = false;
}

/**
 * A fault scenario's cluster did not reach the state it waits for (a node back
 * in every ISR, a coordinator or controller found, a node's process gone) in time.
 */
export class ClusterFaultError extends InfrastructureError {
  override readonly code = 'CLUSTER_FAULT_TIMEOUT';
  override readonly retriable = false;
}
