import { z } from 'zod';
import { ERROR_CATEGORIES } from '@grantstream/errors';

/**
 * What to do about a failure of a given error category:
 * - `retry_later`: wait as long as the funder asked (Retry-After, an open
 *   circuit's delay), else the shortest delay tier that covers it;
 * - `requeue`: back off exponentially with full jitter within the retry budget;
 * - `notify`: no retry; tell the compliance officer;
 * - `dead_letter`: no retry; dead-letter for ops to fix and redrive.
 */
export const FALLBACK_ACTIONS = ['retry_later', 'requeue', 'notify', 'dead_letter'] as const;

/** One of {@link FALLBACK_ACTIONS}. */
export type FallbackAction = (typeof FALLBACK_ACTIONS)[number];

const actionSchema = z.strictObject({ action: z.enum(FALLBACK_ACTIONS) });

/**
 * The guide's fallback chain as configuration: an action per error category,
 * and `default` for every category not listed. Submission applies it to each
 * failed portal call; notification uses it to know which categories reach the
 * compliance officer.
 */
export const fallbackChainSchema = z
  .partialRecord(z.union([z.enum(ERROR_CATEGORIES), z.literal('default')]), actionSchema)
  .refine((chain) => chain['default'] !== undefined, {
    message: 'a fallback chain needs a `default` entry for the categories it does not list',
  });

/** Parsed {@link fallbackChainSchema}. */
export type FallbackChain = z.infer<typeof fallbackChainSchema>;

/** The action the chain prescribes for `category`: its own entry, else `default`. */
export function fallbackFor(chain: FallbackChain, category: string): FallbackAction {
  const entry = (chain as Record<string, { action: FallbackAction } | undefined>)[category];
  return (entry ?? chain['default'])?.action ?? 'dead_letter';
}
