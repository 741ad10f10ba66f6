import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, fallbackFor, stageRunnerConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { NOTIFICATION_KINDS } from './domain/notification';
import {
  loadNotificationSettings,
  notificationConfigSchema,
  resolveWebhookToken,
} from './notification.config';

/** The default file plus an override file with `yaml`. */
function files(yaml: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'notification-config-'));
  const file = join(dir, 'override.yaml');
  writeFileSync(file, yaml);
  return [DEFAULT_CONFIG_FILE, file];
}

const problemsOf = (load: () => unknown): string[] => {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('notification configuration', () => {
  it('reads the defaults of config/grantstream.yaml', () => {
    const { config, webhookToken } = loadNotificationSettings({});
    const n = config.notification;
    expect(n.webhook).toEqual({
      url: 'http://127.0.0.1:8090/__sim/hooks/compliance-officer',
      timeoutMs: 2000,
      tokenSecret: null,
    });
    expect(n.kinds).toEqual(NOTIFICATION_KINDS);
    expect(webhookToken).toBeNull();
    const runner = stageRunnerConfig(config.runner, n.runner);
    expect(runner.groupId).toBe('grantstream.notification');
    expect(runner.transactionalIdPrefix).toBe('grantstream.notification');
    expect(runner.messageConcurrency).toBe(1);
    // The guide's chain as configuration: compliance blocks and funder rejections go to the compliance officer.
    expect(fallbackFor(config.fallbacks, 'COMPLIANCE_BLOCK')).toBe('notify');
    expect(fallbackFor(config.fallbacks, 'FUNDER_REJECTION')).toBe('notify');
  });

  it('takes overrides from the environment', () => {
    const { config } = loadNotificationSettings({
      GRANTSTREAM__NOTIFICATION__WEBHOOK__URL: 'http://127.0.0.1:9999/hooks/test',
      GRANTSTREAM__NOTIFICATION__KINDS: '[DEAD_LETTER]',
    });
    expect(config.notification.webhook.url).toBe('http://127.0.0.1:9999/hooks/test');
    expect(config.notification.kinds).toEqual(['DEAD_LETTER']);
  });

  it.each<[string, string, RegExp]>([
    [
      'an unknown kind',
      'notification:\n  kinds: [COMPLIANCE_BLOCK, EMAIL]\n',
      /notification\.kinds\.1/,
    ],
    ['no kind at all', 'notification:\n  kinds: []\n', /list at least one kind/],
    [
      'a URL that is not http',
      "notification:\n  webhook: { url: 'ftp://x/y' }\n",
      /notification\.webhook\.url/,
    ],
    [
      'a zero timeout',
      'notification:\n  webhook: { timeoutMs: 0 }\n',
      /notification\.webhook\.timeoutMs/,
    ],
    ['an unknown setting', 'notification:\n  retries: 3\n', /notification/],
    ['a chain without default', 'fallbacks: { default: null }\n', /fallbacks/],
  ])('refuses %s', (_name, yaml, problem) => {
    const problems = problemsOf(() => loadNotificationSettings({}, files(yaml)));
    expect(problems.join('\n')).toMatch(problem);
  });

  it('uses every kind when the list is left out', () => {
    const section = notificationConfigSchema.shape.notification.parse({
      runner: { groupId: 'g', transactionalIdPrefix: 't' },
      metrics: { host: '127.0.0.1', port: 0 },
      webhook: { url: 'http://127.0.0.1:1/h', timeoutMs: 1, tokenSecret: null },
    });
    expect(section.kinds).toEqual(NOTIFICATION_KINDS);
  });

  describe('webhook token', () => {
    const webhook = { url: 'http://127.0.0.1:1/h', timeoutMs: 1, tokenSecret: 'HOOK_TOKEN' };

    it.each<[string, Record<string, string | undefined>, string | null]>([
      ['the named secret', { HOOK_TOKEN: 't0ken' }, 't0ken'],
    ])('reads %s from the environment it is given', (_name, env, token) => {
      expect(resolveWebhookToken(webhook, env)).toBe(token);
      expect(resolveWebhookToken({ ...webhook, tokenSecret: null }, env)).toBeNull();
    });

    it.each<[string, Record<string, string | undefined>]>([
      ['missing', {}],
      ['empty', { HOOK_TOKEN: '' }],
    ])('refuses a named secret that is %s, naming the secret only', (_name, env) => {
      const problems = problemsOf(() => resolveWebhookToken(webhook, env));
      expect(problems).toEqual(['notification.webhook.tokenSecret: secret HOOK_TOKEN is not set']);
    });

    it('resolves it at load time from the same environment', () => {
      const { webhookToken } = loadNotificationSettings({
        GRANTSTREAM__NOTIFICATION__WEBHOOK__TOKEN_SECRET: 'HOOK_TOKEN',
        HOOK_TOKEN: 'from-env',
      });
      expect(webhookToken).toBe('from-env');
    });
  });
});
