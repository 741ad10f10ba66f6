import { z } from 'zod';

/** Host:port of a broker; loopback by default. */
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

/** How to reach Kafka. Shared by every service and tool. */
export const kafkaConnectionSchema = z.strictObject({
  brokers: z.array(hostPort).min(1),
  clientId: z.string().min(1),
  connectionTimeoutMs: z.number().int().positive(),
  requestTimeoutMs: z.number().int().positive(),
  retry: z.strictObject({
    retries: z.number().int().min(0),
    initialRetryTimeMs: z.number().int().positive(),
    maxRetryTimeMs: z.number().int().positive(),
  }),
});

/** How to reach the Confluent-API schema registry. */
export const registryConnectionSchema = z.strictObject({
  url: z.url(),
  requestTimeoutMs: z.number().int().positive(),
  /** How long an unknown schema id stays cached as unknown, so a poison message cannot hammer the registry. */
  negativeCacheTtlMs: z.number().int().positive(),
});

/** Logging settings. */
export const loggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

/** How topic declarations are applied to a cluster. */
export const topicsSettingsSchema = z.strictObject({
  /** Caps each declared replication factor (a single-node stack has one broker). */
  maxReplicationFactor: z.number().int().min(1),
  /** Subject compatibility set when a topic's value schema is registered. */
  compatibility: z.enum(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']),
});

/** The fragments every process needs: broker, registry, logging, topic application. */
export const platformConfigSchema = z.object({
  kafka: kafkaConnectionSchema,
  registry: registryConnectionSchema,
  logging: loggingSchema,
  topics: topicsSettingsSchema,
});

/** Parsed {@link platformConfigSchema}. */
export type PlatformConfig = z.infer<typeof platformConfigSchema>;
/** Parsed {@link kafkaConnectionSchema}. */
export type KafkaConnectionConfig = z.infer<typeof kafkaConnectionSchema>;
/** Parsed {@link registryConnectionSchema}. */
export type RegistryConnectionConfig = z.infer<typeof registryConnectionSchema>;
