import { TOPIC_DECLARATIONS } from '../generated';

/**
 * The declared submission retry tiers (every topic of schemas/topics.yaml
 * with a retryDelayMs), shortest delay first. Taken from the declarations so
 * a list kept by hand cannot miss one: a run that positions its fresh
 * submission group at the end of its inputs must position it on every tier,
 * or the group reads a forgotten tier's history and files it again.
 */
export const SUBMISSION_RETRY_TIER_TOPICS: readonly string[] = TOPIC_DECLARATIONS.filter(
  (d) => d.retryDelayMs !== undefined,
)
  .sort((a, b) => (a.retryDelayMs ?? 0) - (b.retryDelayMs ?? 0))
  .map((d) => d.name);
