import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@grantstream/logging';
import { StageMetrics, serveMetrics } from './stage-metrics';

const service = { stage: 'ingest', name: 'grantstream-ingest', version: '1.0.0' };

describe('StageMetrics', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('counts commits, records, dead letters and memory pauses from runner events', async () => {
    const metrics = new StageMetrics(service);
    const events = new EventEmitter();
    metrics.observe(events);
    events.emit('committed', {
      topic: 'grants.ingest.v1',
      partition: 0,
      inputs: 3,
      outputs: 7,
      deadLetters: 1,
      nextOffset: '3',
      inputTimestamps: [Date.now() - 2000, Date.now() - 2000, Date.now() - 40_000],
    });
    events.emit('handled', {
      topic: 'grants.ingest.v1',
      partition: 0,
      outcome: 'processed',
      durationMs: 30,
    });
    events.emit('aborted', { topic: 'grants.ingest.v1', partition: 0, error: new Error('x') });
    events.emit('deadLettered', {
      topic: 'grants.ingest.v1',
      partition: 0,
      offset: '2',
      category: 'ATTACHMENT_INVALID',
      code: 'ATTACHMENT_NOT_FOUND',
    });
    events.emit('paused', { rssBytes: 1, heapBytes: 1, cause: 'rss', inFlightBytes: 0 });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /grantstream_stage_messages_in_total\{topic="grants.ingest.v1",outcome="processed",service="grantstream-ingest",stage="ingest"\} 2/,
    );
    expect(text).toMatch(
      /grantstream_stage_messages_in_total\{topic="grants.ingest.v1",outcome="dead_lettered",[^}]*\} 1/,
    );
    expect(text).toMatch(
      /grantstream_stage_handling_seconds_bucket\{le="0.05",[^}]*topic="grants.ingest.v1",outcome="processed"\} 1/,
    );
    // Two inputs written 2 s ago, one 40 s ago: end-to-end latency as seen at the commit.
    expect(text).toMatch(/grantstream_stage_latency_seconds_bucket\{le="2.5",[^}]*\} 2/);
    expect(text).toMatch(/grantstream_stage_latency_seconds_bucket\{le="30",[^}]*\} 2/);
    expect(text).toMatch(/grantstream_stage_latency_seconds_count\{[^}]*\} 3/);
    expect(text).toMatch(/grantstream_stage_records_out_total\{[^}]*\} 7/);
    expect(text).toMatch(/grantstream_stage_transactions_committed_total\{[^}]*\} 1/);
    expect(text).toMatch(/grantstream_stage_transactions_aborted_total\{[^}]*\} 1/);
    expect(text).toMatch(
      /grantstream_stage_dead_letters_total\{category="ATTACHMENT_INVALID",code="ATTACHMENT_NOT_FOUND"[^}]*\} 1/,
    );
    expect(text).toMatch(/grantstream_stage_memory_paused\{[^}]*\} 1/);
    expect(text).toMatch(/grantstream_stage_memory_pauses_total\{cause="rss",[^}]*\} 1/);
    events.emit('resumed', {
      rssBytes: 1,
      heapBytes: 1,
      from: 'paused',
      to: 'trickle',
      ended: 'idle',
      lastedMs: 1500,
    });
    expect(
      await metrics.registry.getSingleMetricAsString('grantstream_stage_memory_paused'),
    ).toMatch(/ 0$/m);
    const after = await metrics.registry.metrics();
    expect(after).toMatch(/grantstream_stage_memory_trickle\{[^}]*\} 1/);
    expect(after).toMatch(
      /grantstream_stage_memory_resumes_total\{ended="idle",to="trickle",[^}]*\} 1/,
    );
    expect(after).toMatch(
      /grantstream_stage_memory_pause_seconds_bucket\{le="2.5",[^}]*ended="idle"\} 1/,
    );
    expect(text).toMatch(/process_resident_memory_bytes/);
  });

  it('reads consumer lag per partition and paused partitions from the runner when scraped', async () => {
    const metrics = new StageMetrics(service);
    expect(await metrics.registry.metrics()).toMatch(
      /grantstream_stage_paused_partitions\{[^}]*\} 0/,
    );
    let lags = [
      { topic: 'grants.routed.v1', partition: 0, lag: 12 },
      { topic: 'grants.routed.v1', partition: 3, lag: 0 },
    ];
    let slow = false;
    metrics.inspect(
      {
        pausedPartitionCount: () => 2,
        inFlightBytes: () => 4096,
        consumerLag: () =>
          slow ? new Promise(() => undefined) : Promise.resolve(lags.map((l) => ({ ...l }))),
      },
      { timeoutMs: 50, logger: createLogger({ service: 't', level: 'silent' }) },
    );
    let text = await metrics.registry.metrics();
    expect(text).toMatch(
      /grantstream_consumer_lag\{topic="grants.routed.v1",partition="0",[^}]*\} 12/,
    );
    expect(text).toMatch(
      /grantstream_consumer_lag\{topic="grants.routed.v1",partition="3",[^}]*\} 0/,
    );
    expect(text).toMatch(/grantstream_stage_paused_partitions\{[^}]*\} 2/);
    expect(text).toMatch(/grantstream_stage_in_flight_bytes\{[^}]*\} 4096/);
    // A rebalance took partition 3 away: it is no longer reported.
    lags = [{ topic: 'grants.routed.v1', partition: 0, lag: 5 }];
    text = await metrics.registry.metrics();
    expect(text).toMatch(/partition="0",[^}]*\} 5/);
    expect(text).not.toMatch(/partition="3"/);
    // The broker does not answer in time: the scrape returns, with the last values.
    slow = true;
    const started = Date.now();
    text = await metrics.registry.metrics();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(text).toMatch(/partition="0",[^}]*\} 5/);
  });

  it('serves the registry at GET /metrics and nothing else', async () => {
    const metrics = new StageMetrics(service);
    const server = await serveMetrics(
      metrics.registry,
      { host: '127.0.0.1', port: 0 },
      createLogger({ service: 't', level: 'silent' }),
    );
    closers.push(() => new Promise((r) => server.close(() => r())));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('grantstream_stage_memory_paused');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});
