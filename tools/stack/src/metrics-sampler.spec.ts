import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsSampler, foldPeaks, parsePrometheusText } from './metrics-sampler';

const PAGE = `# HELP grantstream_consumer_lag Messages behind.
# TYPE grantstream_consumer_lag gauge
grantstream_consumer_lag{topic="grants.routed.v1",partition="0",service="s"} 12
grantstream_consumer_lag{topic="grants.routed.v1",partition="1",service="s"} 3
grantstream_stage_handling_seconds_bucket{le="+Inf",topic="t"} 40
grantstream_stage_handling_seconds_count{topic="t"} 40
process_resident_memory_bytes 123456789
broken line
grantstream_odd{label="has } and spaces"} 7
`;

describe('parsePrometheusText', () => {
  it('reads names, labels and values and skips comments and malformed lines', () => {
    const samples = parsePrometheusText(PAGE);
    expect(samples.map((s) => [s.name, s.value])).toEqual([
      ['grantstream_consumer_lag', 12],
      ['grantstream_consumer_lag', 3],
      ['grantstream_stage_handling_seconds_bucket', 40],
      ['grantstream_stage_handling_seconds_count', 40],
      ['process_resident_memory_bytes', 123456789],
      ['grantstream_odd', 7],
    ]);
    expect(samples[1]?.labels).toBe('topic="grants.routed.v1",partition="1",service="s"');
  });
});

describe('foldPeaks', () => {
  it('keeps the highest value per name across series and pages', () => {
    const peaks = foldPeaks({}, parsePrometheusText(PAGE));
    foldPeaks(peaks, parsePrometheusText('grantstream_consumer_lag{partition="0"} 4\n'));
    foldPeaks(peaks, parsePrometheusText('grantstream_consumer_lag{partition="0"} 30\n'));
    expect(peaks['grantstream_consumer_lag']).toBe(30);
    expect(peaks['process_resident_memory_bytes']).toBe(123456789);
  });
});

describe('MetricsSampler', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('scrapes every endpoint on its interval, keeps peaks and counts failures', async () => {
    let lag = 0;
    const server = createServer((_req, res) => {
      lag += 5;
      res.end(`grantstream_consumer_lag{partition="0"} ${lag}\n`);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const sampler = new MetricsSampler({
      endpoints: {
        up: `http://127.0.0.1:${port}/metrics`,
        down: 'http://127.0.0.1:1/metrics',
      },
      intervalMs: 20,
      timeoutMs: 500,
    });
    sampler.start();
    await new Promise((r) => setTimeout(r, 150));
    const report = await sampler.stop();
    expect(report.scrapes).toBeGreaterThanOrEqual(3);
    expect(report.peaks['grantstream_consumer_lag']).toBe(lag);
    expect(report.failures['down']).toBe(report.scrapes);
    expect(report.failures['up']).toBeUndefined();
  });
});
