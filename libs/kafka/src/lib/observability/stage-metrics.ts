import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { GrantLogger } from '@grantstream/logging';
import type { StageHealth } from './stage-health';
import type { ServiceIdentity, StageRunnerEvents } from '../runner/stage-runner';

/** Anything that relays runner events: a StageRunner or a StageTransport. */
export interface RunnerEventSource {
  on<K extends keyof StageRunnerEvents>(
    event: K,
    listener: (...args: StageRunnerEvents[K]) => void,
  ): unknown;
}

/**
 * Prometheus metrics of one stage process, fed by its runner's events:
 * messages in and out, dead letters by category, transactions committed and
 * aborted, and the memory guard (paused or not, how often), plus Node's
 * default process metrics (RSS, heap, event loop).
 */
export class StageMetrics {
  readonly registry = new Registry();
  private readonly messagesIn: Counter<'topic'>;
  private readonly messagesOut: Counter;
  private readonly deadLetters: Counter<'category' | 'code'>;
  private readonly commits: Counter;
  private readonly aborts: Counter;
  private readonly memoryPaused: Gauge;
  private readonly memoryPauses: Counter;

  constructor(service: ServiceIdentity) {
    this.registry.setDefaultLabels({ service: service.name, stage: service.stage });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.messagesIn = new Counter({
      name: 'grantstream_stage_messages_in_total',
      help: 'Input messages whose chunk was committed.',
      labelNames: ['topic'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'grantstream_stage_records_out_total',
      help: 'Records produced in committed transactions (outputs, audit events and dead letters).',
      registers,
    });
    this.deadLetters = new Counter({
      name: 'grantstream_stage_dead_letters_total',
      help: 'Inputs dead-lettered, by error category and code.',
      labelNames: ['category', 'code'],
      registers,
    });
    this.commits = new Counter({
      name: 'grantstream_stage_transactions_committed_total',
      help: 'Transactions committed (one per chunk).',
      registers,
    });
    this.aborts = new Counter({
      name: 'grantstream_stage_transactions_aborted_total',
      help: 'Transactions aborted; their chunks are processed again.',
      registers,
    });
    this.memoryPaused = new Gauge({
      name: 'grantstream_stage_memory_paused',
      help: '1 while the memory guard holds every partition paused, else 0.',
      registers,
    });
    this.memoryPauses = new Counter({
      name: 'grantstream_stage_memory_pauses_total',
      help: 'Times the memory guard paused consumption because RSS passed its threshold.',
      registers,
    });
    this.memoryPaused.set(0);
  }

  /** Counts what `source` reports from now on. */
  observe(source: RunnerEventSource): void {
    source.on('committed', (c) => {
      this.commits.inc();
      this.messagesIn.inc({ topic: c.topic }, c.inputs);
      this.messagesOut.inc(c.outputs);
    });
    source.on('aborted', () => this.aborts.inc());
    source.on('deadLettered', (d) => this.deadLetters.inc({ category: d.category, code: d.code }));
    source.on('paused', () => {
      this.memoryPaused.set(1);
      this.memoryPauses.inc();
    });
    source.on('resumed', () => this.memoryPaused.set(0));
  }
}

/** Where a stage serves its metrics. */
export interface MetricsEndpoint {
  host: string;
  /** 0 picks a free port (logged). */
  port: number;
}

/**
 * Serves `GET /metrics` in the Prometheus text format and, given a
 * {@link StageHealth}, `GET /health/live` (200 while the process answers) and
 * `GET /health/ready` (200 or 503 with the checks as JSON). Resolves once
 * listening.
 */
export async function serveMetrics(
  registry: Registry,
  endpoint: MetricsEndpoint,
  logger: GrantLogger,
  health?: StageHealth,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && health && req.url === '/health/live') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"live":true}');
      return;
    }
    if (req.method === 'GET' && health && req.url === '/health/ready') {
      health.readiness().then(
        (report) =>
          res
            .writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' })
            .end(JSON.stringify(report)),
        (err: unknown) => {
          logger.error({ err }, 'readiness check failed');
          res.writeHead(503).end();
        },
      );
      return;
    }
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => resolve());
  });
  const address = server.address();
  logger.info(
    {
      metrics:
        typeof address === 'object' && address
          ? `http://${endpoint.host}:${address.port}/metrics`
          : address,
    },
    'serving metrics',
  );
  return server;
}
