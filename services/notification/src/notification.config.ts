import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  fallbackChainSchema,
  loadConfig,
  metricsEndpointSchema,
  orExitOnConfigError,
  platformConfigSchema,
  runnerDefaultsSchema,
  stageRunnerOverridesSchema,
} from '@grantstream/config';
import { NotificationKindV1Schema } from '@grantstream/contracts';
import { ConfigError } from '@grantstream/errors';
import { NOTIFICATION_KINDS } from './domain/notification';

/** Where the compliance officer's notifications are posted. */
export const webhookSectionSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Longest one delivery may take; a slower webhook counts as unavailable and is retried. */
  timeoutMs: z.int().positive(),
  /**
   * Name of the secret (environment variable) holding a bearer token, or null
   * for a webhook that takes none; the token never sits in config files.
   */
  tokenSecret: z.string().min(1).nullable(),
});

/** Parsed {@link webhookSectionSchema}. */
export type WebhookSection = z.infer<typeof webhookSectionSchema>;

/** The notification stage's configuration: platform, runner defaults, the fallback chain and its own section. */
export const notificationConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  fallbacks: fallbackChainSchema,
  notification: z.strictObject({
    runner: stageRunnerOverridesSchema,
    metrics: metricsEndpointSchema,
    webhook: webhookSectionSchema,
    /** Kinds delivered; any other is logged and skipped. All of them unless listed. */
    kinds: z
      .array(NotificationKindV1Schema)
      .min(1, 'list at least one kind; remove the setting to deliver every kind')
      .default([...NOTIFICATION_KINDS]),
  }),
});

/** Parsed {@link notificationConfigSchema}. */
export type NotificationConfig = z.infer<typeof notificationConfigSchema>;

/**
 * The webhook's bearer token, read from the secret the configuration names,
 * in the environment the configuration was loaded from. Throws a
 * {@link ConfigError} when a secret is named but not set: notifications
 * posted without it would all be refused.
 */
export function resolveWebhookToken(
  webhook: WebhookSection,
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  if (webhook.tokenSecret === null) return null;
  const token = env[webhook.tokenSecret];
  if (token === undefined || token === '') {
    throw new ConfigError([
      `notification.webhook.tokenSecret: secret ${webhook.tokenSecret} is not set`,
    ]);
  }
  return token;
}

/** The configuration and the secrets it names, resolved once at startup. */
export interface LoadedNotificationConfig {
  config: NotificationConfig;
  webhookToken: string | null;
}

/** Loads and checks the configuration and its webhook secret from `env`. */
export function loadNotificationSettings(
  env: Readonly<Record<string, string | undefined>>,
  files: readonly string[] = [DEFAULT_CONFIG_FILE],
): LoadedNotificationConfig {
  const config = loadConfig({ schema: notificationConfigSchema, files, env });
  return { config, webhookToken: resolveWebhookToken(config.notification.webhook, env) };
}

/** Entry-point form of {@link loadNotificationSettings}: every problem is printed and the process exits 2. */
export function loadNotificationConfig(
  env: Readonly<Record<string, string | undefined>>,
): LoadedNotificationConfig {
  return orExitOnConfigError(() => loadNotificationSettings(env));
}
