import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@grantstream/logging';
import { stageRow } from '../pages/pipeline.page';
import { PipelineMonitor } from './pipeline-monitor';
import { parsePrometheusText } from './prometheus-text';

const metricsText = (inTotal: number): string =>
  [
    '# HELP grantstream_stage_messages_in_total x',
    '# TYPE grantstream_stage_messages_in_total counter',
    `grantstream_stage_messages_in_total{topic="grants.routed.v1",outcome="ok"} ${inTotal}`,
    'grantstream_consumer_lag{topic="grants.routed.v1",partition="0",service="s"} 5',
    'grantstream_consumer_lag{topic="grants.routed.v1",partition="1",service="s"} 7',
    'grantstream_stage_transactions_committed_total 3',
    'grantstream_stage_transactions_aborted_total 1',
    'grantstream_stage_paused_partitions 2',
    'process_resident_memory_bytes 104857600',
    '',
  ].join('\n');

describe('parsePrometheusText', () => {
  it('reads names, escaped labels and values, and skips comments', () => {
    const s = parsePrometheusText('# x\na_total{l="q\\"uote"} 4\nb NaN\n');
    expect(s).toEqual([
      { name: 'a_total', labels: { l: 'q"uote' }, value: 4 },
      { name: 'b', labels: {}, value: NaN },
    ]);
  });
});

describe('PipelineMonitor', () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });

  it('shows a stage ready with its lag, rates and memory, and not ready once it stops answering', async () => {
    let inTotal = 10;
    server = createServer((req, res) => {
      if (req.url === '/health/ready') return res.writeHead(200).end('ok');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(metricsText(inTotal));
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    let now = 1_000;
    const monitor = new PipelineMonitor({
      replicas: [{ stage: 'routing', url: `http://127.0.0.1:${port}` }],
      probe: '/health/ready',
      refreshMs: 1000,
      probeTimeoutMs: 1000,
      logger: createLogger({ service: 'test', level: 'silent' }),
      now: () => now,
    });
    await monitor.refresh();
    inTotal = 30;
    now = 3_000;
    const second = await monitor.refresh();
    const stage = second.stages[0];
    expect(stage?.readyReplicas).toBe(1);
    expect(stage?.inPerSecond).toBe(10);
    expect(stage?.lag).toEqual([
      {
        topic: 'grants.routed.v1',
        lag: 12,
        partitions: [
          { partition: '0', lag: 5 },
          { partition: '1', lag: 7 },
        ],
      },
    ]);
    expect(stage && stageRow(stage).cells).toMatchObject({
      ready: 'ready (1/1 replicas)',
      committed: '3',
      aborted: '1',
      paused: '2',
      memory: '100 MiB',
    });

    server.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    server = null;
    now = 5_000;
    const down = (await monitor.refresh()).stages[0];
    expect(down?.readyReplicas).toBe(0);
    expect(down?.replicas[0]?.why).toMatch(/no answer/);
    expect(down && stageRow(down).cells.ready).toBe('not ready (0/1 replicas)');
  });
});
