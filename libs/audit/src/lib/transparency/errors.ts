import { PipelineError } from '@grantstream/errors';

/**
 * Raised when a caller asks the Merkle log or the checkpoint signer for
 * something that cannot exist: a proof for a leaf index at or past the tree
 * size, a tree larger than a safe integer, a key name with a space or a plus,
 * a body line with a newline in it. These are programming errors, never a
 * property of untrusted input (untrusted proofs and notes get a typed refusal
 * instead), so they are permanent and not retried.
 */
export class TransparencyArgumentError extends PipelineError {
  readonly code = 'TRANSPARENCY_ARGUMENT_INVALID';
  readonly category = 'INTERNAL' as const;
  readonly retriable = false;
}
