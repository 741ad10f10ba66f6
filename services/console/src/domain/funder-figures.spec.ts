import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../pipeline/prometheus-text';
import { funderFigures, retryTierBacklog } from './funder-figures';

/** Two submission replicas and status polling, as their /metrics read. */
function scrape(nsfCalls: number): string {
  return `
# HELP grantstream_funder_limiter_rate_per_second x
grantstream_funder_limiter_rate_per_second{funder="NSF"} 20
grantstream_funder_limiter_rate_per_second{funder="NSF"} 20
grantstream_funder_limiter_rate_per_second{funder="SCDA"} 5
grantstream_funder_limiter_max_concurrent{funder="NSF"} 10
grantstream_funder_limiter_queued{funder="NSF"} 3
grantstream_funder_limiter_queued{funder="NSF"} 4
grantstream_funder_limiter_running{funder="NSF"} 2
grantstream_funder_limiter_running{funder="NSF"} 1
grantstream_funder_circuit_state{funder="NSF"} 0
grantstream_funder_circuit_state{funder="NSF"} 0
grantstream_funder_circuit_state{funder="SCDA"} 2
grantstream_funder_circuit_state{funder="SCDA"} 0
grantstream_funder_circuit_next_probe_timestamp_seconds{funder="SCDA"} 1700000005.5
grantstream_funder_circuit_next_probe_timestamp_seconds{funder="SCDA"} 0
grantstream_funder_api_request_seconds_bucket{le="0.05",funder="NSF",operation="submit",status="201"} ${nsfCalls - 10}
grantstream_funder_api_request_seconds_bucket{le="0.1",funder="NSF",operation="submit",status="201"} ${nsfCalls}
grantstream_funder_api_request_seconds_bucket{le="+Inf",funder="NSF",operation="submit",status="201"} ${nsfCalls}
grantstream_funder_api_request_seconds_sum{funder="NSF",operation="submit",status="201"} ${nsfCalls * 0.04}
grantstream_funder_api_request_seconds_count{funder="NSF",operation="submit",status="201"} ${nsfCalls}
grantstream_funder_api_request_seconds_bucket{le="0.05",funder="NSF",operation="status",status="429"} 0
grantstream_funder_api_request_seconds_bucket{le="0.1",funder="NSF",operation="status",status="429"} 0
grantstream_funder_api_request_seconds_bucket{le="+Inf",funder="NSF",operation="status",status="429"} 2
grantstream_funder_api_request_seconds_sum{funder="NSF",operation="status",status="429"} 0.8
grantstream_funder_api_request_seconds_count{funder="NSF",operation="status",status="429"} 2
grantstream_funder_api_request_seconds_count{funder="SCDA",operation="submit",status="503"} 5
grantstream_funder_api_request_seconds_sum{funder="SCDA",operation="submit",status="503"} 0.5
`;
}

describe('funderFigures', () => {
  it('sums counts over processes, keeps the limit once, takes the worst circuit and its probe', () => {
    const first = funderFigures(parsePrometheusText(scrape(100)), null, 1_000);
    const nsf = first.funders.find((f) => f.funderId === 'NSF');
    expect(nsf).toMatchObject({
      ratePerSecond: 20,
      maxConcurrent: 10,
      queued: 7,
      running: 3,
      callsPerSecond: null,
      utilization: null,
      circuit: 'closed',
      nextProbeAt: null,
      statusCodes: [
        { status: '201', calls: 100 },
        { status: '429', calls: 2 },
      ],
      rateLimited: 2,
      latencyP95Ms: 100,
    });
    expect(nsf?.latencyMeanMs).toBeCloseTo(((100 * 0.04 + 0.8) * 1000) / 102);
    expect(first.funders.find((f) => f.funderId === 'SCDA')).toMatchObject({
      circuit: 'open',
      nextProbeAt: 1_700_000_005_500,
      ratePerSecond: 5,
      callsPerSecond: null,
      rateLimited: 0,
    });

    // 30 more calls in 2 s: 15/s of a 20/s limit.
    const second = funderFigures(parsePrometheusText(scrape(130)), first.counters, 3_000);
    expect(second.funders.find((f) => f.funderId === 'NSF')).toMatchObject({
      callsPerSecond: 15,
      utilization: 0.75,
    });
    expect(second.funders.find((f) => f.funderId === 'SCDA')?.callsPerSecond).toBe(0);

    // A restarted process counts from zero: no rate for that scrape, never a negative one.
    const third = funderFigures(parsePrometheusText(scrape(20)), second.counters, 5_000);
    expect(third.funders.find((f) => f.funderId === 'NSF')?.callsPerSecond).toBeNull();
  });

  it('knows no funder when no stage serves funder metrics', () => {
    expect(funderFigures([], null, 1).funders).toEqual([]);
  });
});

describe('retryTierBacklog', () => {
  it('sums the lag of the retry tier topics only', () => {
    expect(
      retryTierBacklog(
        [
          { topic: 'grants.routed.v1', lag: 9 },
          { topic: 'grants.submission.retry.5s.v1', lag: 2 },
          { topic: 'grants.submission.retry.1s.v1', lag: 1 },
          { topic: 'grants.submission.retry.5s.v1', lag: 3 },
        ],
        /^grants\.submission\.retry\..+\.v1$/,
      ),
    ).toEqual([
      { topic: 'grants.submission.retry.1s.v1', lag: 1 },
      { topic: 'grants.submission.retry.5s.v1', lag: 5 },
    ]);
  });
});
