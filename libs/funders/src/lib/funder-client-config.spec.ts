import { describe, expect, it } from 'vitest';
import {
  funderClientConfigSchema,
  fundersSectionSchema,
  resolveFunderTokens,
} from './funder-client-config';

const valid = {
  baseUrl: 'https://portal.nsf.example/api',
  tokenSecret: 'NSF_PORTAL_TOKEN',
  timeoutMs: 10_000,
  ratePerSecond: 2.5,
  maxConcurrent: 4,
  retry: { maxAttempts: 5, initialBackoffMs: 1000, maxBackoffMs: 60_000 },
  circuit: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
  status: { pollIntervalMs: 60_000, giveUpAfterMs: 604_800_000 },
};

describe('funderClientConfigSchema', () => {
  it('accepts a complete config', () => {
    expect(funderClientConfigSchema.parse(valid)).toEqual(valid);
  });

  it.each<[string, unknown, string]>([
    ['a malformed base URL', { ...valid, baseUrl: 'not a url' }, 'baseUrl'],
    ['a non-HTTP base URL', { ...valid, baseUrl: 'ftp://portal.example' }, 'baseUrl'],
    ['an empty token secret name', { ...valid, tokenSecret: '' }, 'tokenSecret'],
    ['a zero timeout', { ...valid, timeoutMs: 0 }, 'timeoutMs'],
    ['a fractional timeout', { ...valid, timeoutMs: 1.5 }, 'timeoutMs'],
    ['a zero rate', { ...valid, ratePerSecond: 0 }, 'ratePerSecond'],
    ['an infinite rate', { ...valid, ratePerSecond: Number.POSITIVE_INFINITY }, 'ratePerSecond'],
    ['a negative concurrency', { ...valid, maxConcurrent: -1 }, 'maxConcurrent'],
    ['zero attempts', { ...valid, retry: { ...valid.retry, maxAttempts: 0 } }, 'retry.maxAttempts'],
    [
      'an initial backoff above the maximum',
      { ...valid, retry: { ...valid.retry, initialBackoffMs: 120_000 } },
      'retry.initialBackoffMs',
    ],
    [
      'a zero failure threshold',
      { ...valid, circuit: { ...valid.circuit, consecutiveFailures: 0 } },
      'circuit.consecutiveFailures',
    ],
    ['a missing circuit', { ...valid, circuit: undefined }, 'circuit'],
    ['an unknown key', { ...valid, token: 'inline-secret' }, ''],
    ['an unknown nested key', { ...valid, retry: { ...valid.retry, jitter: true } }, 'retry'],
  ])('refuses %s', (_name, input, path) => {
    const result = funderClientConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});

describe('funders section', () => {
  it('keys funders by id and reads every token, listing every missing secret', () => {
    const funders = fundersSectionSchema.parse({
      NSF: valid,
      BCF: { ...valid, tokenSecret: 'BCF_TOKEN' },
      SCDA: { ...valid, tokenSecret: 'SCDA_TOKEN' },
    });
    const { tokens, problems } = resolveFunderTokens(funders, { NSF_PORTAL_TOKEN: 't-nsf' });
    expect([...tokens]).toEqual([['NSF', 't-nsf']]);
    expect(problems).toEqual([
      'funders.BCF.tokenSecret: secret BCF_TOKEN is not set',
      'funders.SCDA.tokenSecret: secret SCDA_TOKEN is not set',
    ]);
  });

  it('refuses a funder id that grant ids cannot carry', () => {
    expect(fundersSectionSchema.safeParse({ 'nsf-x': valid }).success).toBe(false);
  });
});
