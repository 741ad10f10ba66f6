import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { funderTokensOf, statusPollingConfigSchema } from './status-polling.config';

const load = (env: Record<string, string> = {}) =>
  loadConfig({ schema: statusPollingConfigSchema, files: [DEFAULT_CONFIG_FILE], env });

describe('status-polling configuration', () => {
  it('parses the checked-in configuration file', () => {
    const config = load();
    expect(config.statusPolling).toEqual({
      runner: {
        groupId: 'grantstream.status-polling',
        transactionalIdPrefix: 'grantstream.status-polling',
        messageConcurrency: 50,
        maxBatchMessages: 200,
      },
      metrics: { host: '127.0.0.1', port: 9468 },
      limiterWaitMs: 2000,
      maxPollDelayMs: 60_000,
      maxStatusTransitions: 10,
      unconfiguredFunders: 'dead_letter',
      topics: { status: 'grants.status.v1', poll: 'grants.status.poll.v1' },
    });
    expect(Object.keys(config.funders).length).toBeGreaterThan(0);
    for (const funder of Object.values(config.funders)) {
      expect(funder.status.pollIntervalMs).toBeLessThan(funder.status.giveUpAfterMs);
    }
  });

  it('takes the cap on poll delays and the unconfigured-funder action from the environment', () => {
    const config = load({
      GRANTSTREAM__STATUS_POLLING__MAX_POLL_DELAY_MS: '30000',
      GRANTSTREAM__STATUS_POLLING__UNCONFIGURED_FUNDERS: 'skip',
      GRANTSTREAM__STATUS_POLLING__MAX_STATUS_TRANSITIONS: '4',
    });
    expect(config.statusPolling.maxPollDelayMs).toBe(30_000);
    expect(config.statusPolling.maxStatusTransitions).toBe(4);
    expect(config.statusPolling.unconfiguredFunders).toBe('skip');
  });

  it.each([
    ['GRANTSTREAM__STATUS_POLLING__LIMITER_WAIT_MS', '0', 'statusPolling.limiterWaitMs'],
    ['GRANTSTREAM__STATUS_POLLING__MAX_POLL_DELAY_MS', '0', 'statusPolling.maxPollDelayMs'],
    // Fewer than a healthy lifecycle's transitions would give up grants moving normally.
    [
      'GRANTSTREAM__STATUS_POLLING__MAX_STATUS_TRANSITIONS',
      '3',
      'statusPolling.maxStatusTransitions: at least the 4 transitions of a healthy lifecycle',
    ],
    [
      'GRANTSTREAM__STATUS_POLLING__UNCONFIGURED_FUNDERS',
      'ignore',
      'statusPolling.unconfiguredFunders',
    ],
    ['GRANTSTREAM__STATUS_POLLING__SURPRISE', '1', 'statusPolling'],
    [
      'GRANTSTREAM__STATUS_POLLING__RUNNER__MESSAGE_CONCURRENCY',
      '0',
      'statusPolling.runner.messageConcurrency',
    ],
  ])('refuses %s=%s', (name, value, path) => {
    expect(() => load({ [name]: value })).toThrow(ConfigError);
    expect(() => load({ [name]: value })).toThrow(path);
  });
});

describe('funderTokensOf', () => {
  const funders = load().funders;
  const secrets = Object.fromEntries(
    Object.entries(funders).map(([id, f]) => [f.tokenSecret, `token-${id}`]),
  );

  it('reads every funder token from the named secrets', () => {
    const tokens = funderTokensOf(funders, secrets);
    expect([...tokens.keys()].sort()).toEqual(Object.keys(funders).sort());
    for (const [id, token] of tokens) expect(token).toBe(`token-${id}`);
  });

  it('names every missing secret at once', () => {
    const error = (() => {
      try {
        funderTokensOf(funders, {});
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(Object.keys(funders).length);
  });
});
