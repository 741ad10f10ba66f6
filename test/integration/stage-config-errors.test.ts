// Guarantee: a stage whose runner configuration cannot keep it within its
// memory budget stops at start-up with the configuration error listed (no
// stack trace) and exit code 2, like a bad configuration file, whichever
// stage it is; it never joins its group or touches the broker.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadGrantstreamConfig } from '@grantstream/config';
import { runTs } from '@grantstream/testing';

const config = loadGrantstreamConfig({});
/** A budget at the shared pause mark: memoryBudgetProblems refuses it. */
const tooSmallMb = config.runner.memory.pauseAboveRssMb;
/** A start that fails on configuration is over long before any timeout; this only stops a hang. */
const startTimeoutMs = config.runner.rebalanceTimeoutMs;

/** Fake portal tokens, so the portal stages reach their runner configuration. */
const funders = (
  parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as {
    funders: Record<string, { tokenSecret: string }>;
  }
).funders;
const TOKENS = Object.fromEntries(
  Object.values(funders).map((f) => [f.tokenSecret, 'not-a-real-token']),
);

const STAGES = [
  ['normalization', 'NORMALIZATION'],
  ['routing', 'ROUTING'],
  ['submission', 'SUBMISSION'],
  ['status-polling', 'STATUS_POLLING'],
  ['notification', 'NOTIFICATION'],
] as const;

describe('a runner configuration that breaks the memory budget', () => {
  it.each(STAGES)(
    '%s exits 2 with the configuration error, not a stack trace',
    async (stage, section) => {
      const r = await runTs(`services/${stage}/src/main.ts`, [], {
        env: {
          ...TOKENS,
          [`GRANTSTREAM__${section}__RUNNER__MEMORY__BUDGET_MB`]: String(tooSmallMb),
        },
        timeoutMs: startTimeoutMs,
      });
      expect(r.stderr).toMatch(/invalid configuration \(\d+ problem\(s\)\)/);
      expect(r.stderr).toContain(`must be below memory.budgetMb (${tooSmallMb})`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.code).toBe(2);
    },
    startTimeoutMs * 2,
  );
});
