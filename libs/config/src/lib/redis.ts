import { z } from 'zod';

/**
 * How a process reaches Redis (root `redis:` section). The funder limiters of
 * the submission and status-polling stages share their per-funder state
 * there, so every replica pointed at the same Redis obeys one limit.
 */
export const redisConnectionSchema = z.strictObject({
  host: z.string().min(1),
  port: z.int().min(1).max(65535),
});

/** Parsed {@link redisConnectionSchema}. */
export type RedisConnectionConfig = z.infer<typeof redisConnectionSchema>;
