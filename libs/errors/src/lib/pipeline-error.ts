import { impactOf, type ErrorCategory, type Impact } from './error-category';
import { scrubSecrets } from './secret-registry';

/** Structured, loggable form of a {@link PipelineError}. */
export interface PipelineErrorJSON {
  name: string;
  code: string;
  category: ErrorCategory;
  impact: Impact;
  retriable: boolean;
  message: string;
  metadata: Record<string, unknown>;
  cause?: PipelineErrorJSON | { name: string; message: string };
}

/** Options shared by every {@link PipelineError} subclass. */
export interface PipelineErrorOptions {
  cause?: unknown;
  metadata?: Record<string, unknown>;
}

/**
 * Base of every error the pipeline raises on purpose. `code` is stable (dashboards
 * and runbooks key on it), `category` is the audit error category, and
 * `retriable` tells the runner whether to back off and retry or dead-letter.
 */
export abstract class PipelineError extends Error {
  /** Stable machine-readable identifier, e.g. `SCHEMA_UNKNOWN_ID`. */
  abstract readonly code: string;
  /** Audit error category. */
  abstract readonly category: ErrorCategory;
  /** True when the same input may succeed later (transient condition). */
  abstract readonly retriable: boolean;
  readonly metadata: Record<string, unknown>;

  constructor(message: string, options: PipelineErrorOptions = {}) {
    // A message built from a broker's or a server's answer may echo a credential.
    super(
      scrubSecrets(message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.metadata = options.metadata ?? {};
  }

  /** HIGH for schema and compliance failures, MEDIUM otherwise. */
  get impact(): Impact {
    return impactOf(this.category);
  }

  toJSON(): PipelineErrorJSON {
    const json: PipelineErrorJSON = {
      name: this.name,
      code: this.code,
      category: this.category,
      impact: this.impact,
      retriable: this.retriable,
      message: this.message,
      metadata: this.metadata,
    };
    if (this.cause instanceof PipelineError) json.cause = this.cause.toJSON();
    else if (this.cause instanceof Error)
      json.cause = { name: this.cause.name, message: scrubSecrets(this.cause.message) };
    return json;
  }
}

/** True for any {@link PipelineError}, including across duplicated module copies. */
export function isPipelineError(err: unknown): err is PipelineError {
  return err instanceof PipelineError;
}
