import { describe, expect, it } from 'vitest';
import { fallbackChainSchema, fallbackFor } from './fallbacks';

describe('fallback chain', () => {
  const chain = fallbackChainSchema.parse({
    API_RATE_LIMIT: { action: 'retry_later' },
    COMPLIANCE_BLOCK: { action: 'notify' },
    default: { action: 'requeue' },
  });

  it.each([
    ['API_RATE_LIMIT', 'retry_later'],
    ['COMPLIANCE_BLOCK', 'notify'],
    ['NETWORK_TIMEOUT', 'requeue'],
    ['INFRASTRUCTURE', 'requeue'],
  ])('%s -> %s', (category, action) => {
    expect(fallbackFor(chain, category)).toBe(action);
  });

  it('refuses a chain without a default and an unknown category', () => {
    expect(fallbackChainSchema.safeParse({ API_RATE_LIMIT: { action: 'notify' } }).success).toBe(
      false,
    );
    expect(
      fallbackChainSchema.safeParse({ NOPE: { action: 'notify' }, default: { action: 'requeue' } })
        .success,
    ).toBe(false);
  });
});
