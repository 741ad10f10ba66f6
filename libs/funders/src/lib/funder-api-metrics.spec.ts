import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FunderApiMetrics } from './funder-api-metrics';

describe('FunderApiMetrics', () => {
  it('counts calls per funder, operation and status, with their latency, once registered', async () => {
    const metrics = new FunderApiMetrics();
    metrics.observe({ funderId: 'NSF', operation: 'submit', status: '201', durationMs: 40 });
    metrics.observe({ funderId: 'NSF', operation: 'submit', status: '201', durationMs: 60 });
    metrics.observe({ funderId: 'NIH', operation: 'status', status: 'timeout', durationMs: 5000 });
    const registry = new Registry();
    expect(await registry.metrics()).not.toContain('grantstream_funder_api_request_seconds');
    metrics.registerOn(registry);
    const text = await registry.metrics();
    expect(text).toMatch(
      /grantstream_funder_api_request_seconds_count\{funder="NSF",operation="submit",status="201"\} 2/,
    );
    expect(text).toMatch(
      /grantstream_funder_api_request_seconds_sum\{funder="NSF",operation="submit",status="201"\} 0\.1\b/,
    );
    expect(text).toMatch(
      /grantstream_funder_api_request_seconds_bucket\{le="2\.5",funder="NIH",operation="status",status="timeout"\} 0/,
    );
  });
});
