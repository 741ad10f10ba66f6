import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FunderGuard, type FunderAdapter, type FunderClientConfig } from '@grantstream/funders';
import { FunderPortal, type CallLimiter } from './funder-portal';
import { SubmissionMetrics } from './submission-metrics';

const config: FunderClientConfig = {
  baseUrl: 'http://127.0.0.1:1/funders/NSF',
  tokenSecret: 'T',
  timeoutMs: 1000,
  ratePerSecond: 7,
  maxConcurrent: 3,
  retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
  circuit: { consecutiveFailures: 1, halfOpenAfterMs: 4000 },
  status: { pollIntervalMs: 10, giveUpAfterMs: 20 },
};

const limiter: CallLimiter = {
  schedule: async (call) => ({ kind: 'ran', value: await call() }),
  counts: () => ({ queued: 2, running: 1 }),
  close: () => Promise.resolve(),
};

/** A portal that answers every submit with a 503. */
const failing: FunderAdapter = {
  funderId: 'NSF',
  submit: () =>
    Promise.resolve({ kind: 'transient', httpStatus: 503, reason: '503', retryAfterMs: null }),
  status: () => Promise.reject(new Error('unused')),
  lookup: () => Promise.reject(new Error('unused')),
};

describe('SubmissionMetrics per funder', () => {
  it('serves the limiter limits and counts, the circuit state and when it probes next', async () => {
    let now = 1_700_000_000_000;
    const guard = new FunderGuard({ funderId: 'NSF', circuit: config.circuit, now: () => now });
    const portal = new FunderPortal('NSF', config, guard, guard.wrap(failing), limiter);
    const registry = new Registry();
    new SubmissionMetrics(registry, new Map([['NSF', portal]]));
    const value = async (name: string) =>
      (await registry.getSingleMetric(name)?.get())?.values.find(
        (v) => v.labels['funder'] === 'NSF',
      )?.value;

    expect(await value('grantstream_funder_limiter_rate_per_second')).toBe(7);
    expect(await value('grantstream_funder_limiter_max_concurrent')).toBe(3);
    expect(await value('grantstream_funder_limiter_queued')).toBe(2);
    expect(await value('grantstream_funder_circuit_next_probe_timestamp_seconds')).toBe(0);

    await portal.submit({ grantId: 'NSF-1', idempotencyKey: 'k', body: {} });
    expect(await value('grantstream_funder_circuit_state')).toBe(2);
    expect(await value('grantstream_funder_circuit_next_probe_timestamp_seconds')).toBe(
      (now + 4000) / 1000,
    );
    now += 4000;
    expect(await value('grantstream_funder_circuit_state')).toBe(1);
  });
});
