import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GrantLogger } from '@grantstream/logging';
import type { StageHealth } from './stage-health';
import { within } from '../within';
import type { PartitionLag, ServiceIdentity, StageRunnerEvents } from '../runner/stage-runner';

/** Anything that relays runner events: a StageRunner or a StageTransport. */
export interface RunnerEventSource {
  on<K extends keyof StageRunnerEvents>(
    event: K,
    listener: (...args: StageRunnerEvents[K]) => void,
  ): unknown;
}

/** What the metrics read from a running runner when scraped. */
export interface RunnerProbe {
  pausedPartitionCount(): number;
  consumerLag(): Promise<PartitionLag[]>;
  /** Raw bytes of the messages being handled (absent: reported as 0). */
  inFlightBytes?(): number;
}

/** Seconds, from a millisecond up to a quarter of an hour (retry tiers wait minutes). */
const LATENCY_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

/**
 * Prometheus metrics of one stage process, fed by its runner's events:
 * messages in by outcome and out, dead letters by category, handling time and
 * end-to-end latency, transactions committed and aborted, the memory guard
 * (paused or not, how often); read from the runner when scraped: consumer lag
 * per partition and paused partitions; plus Node's default process metrics
 * (RSS, heap, event loop).
 */
export class StageMetrics {
  readonly registry = new Registry();
  private readonly messagesIn: Counter<'topic' | 'outcome'>;
  private readonly handling: Histogram<'topic' | 'outcome'>;
  private readonly endToEnd: Histogram<'topic'>;
  private readonly lag: Gauge<'topic' | 'partition'>;
  private probe: { runner: RunnerProbe; timeoutMs: number; logger: GrantLogger } | null = null;
  private readonly messagesOut: Counter;
  private readonly deadLetters: Counter<'category' | 'code'>;
  private readonly commits: Counter;
  private readonly aborts: Counter;
  private readonly memoryPaused: Gauge;
  private readonly memoryTrickle: Gauge;
  private readonly memoryPauses: Counter<'cause'>;
  private readonly memoryResumes: Counter<'ended' | 'to'>;
  private readonly memoryPauseSeconds: Histogram<'ended'>;
  private readonly poisonSplits: Counter;
  private readonly poisonIsolated: Counter<'outcome' | 'refusal'>;
  private readonly deadLettersShrunk: Counter<'form'>;

  constructor(service: ServiceIdentity) {
    this.registry.setDefaultLabels({ service: service.name, stage: service.stage });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.messagesIn = new Counter({
      name: 'grantstream_stage_messages_in_total',
      help: 'Input messages whose chunk was committed, by outcome (processed or dead_lettered).',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    this.handling = new Histogram({
      name: 'grantstream_stage_handling_seconds',
      help: 'Time to handle one message (decode, handler, retries of transient failures), by outcome (processed, dead_lettered, deferred).',
      labelNames: ['topic', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'grantstream_stage_latency_seconds',
      help: 'From the input record being written to its chunk committing here: waiting, deferral and handling.',
      labelNames: ['topic'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.lag = new Gauge({
      name: 'grantstream_consumer_lag',
      help: "Messages between the group's committed offset and the end of each partition assigned to this replica (a transaction marker counts as one).",
      labelNames: ['topic', 'partition'],
      registers,
      collect: () => this.collectLag(),
    });
    const probed = () => this.probe?.runner;
    new Gauge({
      name: 'grantstream_stage_paused_partitions',
      help: 'Assigned partitions paused: waiting for a deferred message to be due, or held by the memory guard.',
      registers,
      collect() {
        this.set(probed()?.pausedPartitionCount() ?? 0);
      },
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
    this.poisonSplits = new Counter({
      name: 'grantstream_stage_poison_splits_total',
      help: 'Refused runs of a chunk split to isolate the input the broker refuses.',
      registers,
    });
    this.poisonIsolated = new Counter({
      name: 'grantstream_stage_poison_isolated_total',
      help: 'Inputs the broker refused alone, by how they ended (dead_lettered, minimal, unrecorded) and the refusal.',
      labelNames: ['outcome', 'refusal'],
      registers,
    });
    this.deadLettersShrunk = new Counter({
      name: 'grantstream_stage_dead_letters_shrunk_total',
      help: 'Dead letters too large for the broker, by form (referenced: value by reference; minimal: headers only).',
      labelNames: ['form'],
      registers,
    });
    this.memoryPaused = new Gauge({
      name: 'grantstream_stage_memory_paused',
      help: '1 while the memory guard holds every partition paused, else 0.',
      registers,
    });
    this.memoryPauses = new Counter({
      name: 'grantstream_stage_memory_pauses_total',
      help: 'Times the memory guard paused consumption, by cause (rss: RSS over its mark; heap: live heap over its mark).',
      labelNames: ['cause'],
      registers,
    });
    this.memoryTrickle = new Gauge({
      name: 'grantstream_stage_memory_trickle',
      help: '1 while the memory guard lets one message at a time through (RSS still high after a pause), else 0.',
      registers,
    });
    this.memoryResumes = new Counter({
      name: 'grantstream_stage_memory_resumes_total',
      help: 'Pauses and trickles that ended, by how (cleared: memory below the resume marks; idle: nothing in flight; timeout: maxPauseMs) and what followed (running, trickle).',
      labelNames: ['ended', 'to'],
      registers,
    });
    this.memoryPauseSeconds = new Histogram({
      name: 'grantstream_stage_memory_pause_seconds',
      help: 'How long memory pauses lasted (every partition held), by how they ended.',
      labelNames: ['ended'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'grantstream_stage_in_flight_bytes',
      help: 'Raw bytes (key + value) of the input messages being handled now.',
      registers,
      collect() {
        this.set(probed()?.inFlightBytes?.() ?? 0);
      },
    });
    this.memoryPaused.set(0);
    this.memoryTrickle.set(0);
  }

  /** Counts what `source` reports from now on. */
  observe(source: RunnerEventSource): void {
    source.on('committed', (c) => {
      this.commits.inc();
      this.messagesIn.inc({ topic: c.topic, outcome: 'processed' }, c.inputs - c.deadLetters);
      if (c.deadLetters > 0)
        this.messagesIn.inc({ topic: c.topic, outcome: 'dead_lettered' }, c.deadLetters);
      this.messagesOut.inc(c.outputs);
      const now = Date.now();
      for (const written of c.inputTimestamps)
        this.endToEnd.observe({ topic: c.topic }, Math.max(0, now - written) / 1000);
    });
    source.on('handled', (h) =>
      this.handling.observe({ topic: h.topic, outcome: h.outcome }, h.durationMs / 1000),
    );
    source.on('aborted', () => this.aborts.inc());
    source.on('split', () => this.poisonSplits.inc());
    source.on('isolated', (i) =>
      this.poisonIsolated.inc({ outcome: i.outcome, refusal: i.refusal }),
    );
    source.on('deadLetterShrunk', (d) => this.deadLettersShrunk.inc({ form: d.form }));
    source.on('deadLettered', (d) => this.deadLetters.inc({ category: d.category, code: d.code }));
    source.on('paused', (p) => {
      this.memoryPaused.set(1);
      this.memoryTrickle.set(0);
      this.memoryPauses.inc({ cause: p.cause });
    });
    source.on('resumed', (r) => {
      this.memoryPaused.set(0);
      this.memoryTrickle.set(r.to === 'trickle' ? 1 : 0);
      this.memoryResumes.inc({ ended: r.ended, to: r.to });
      if (r.from === 'paused')
        this.memoryPauseSeconds.observe({ ended: r.ended }, r.lastedMs / 1000);
    });
  }

  /**
   * Reads lag and paused partitions from `runner` whenever scraped. A lag
   * read that takes longer than `timeoutMs` (broker away) leaves the last
   * values in place rather than holding the scrape.
   */
  inspect(runner: RunnerProbe, options: { timeoutMs: number; logger: GrantLogger }): void {
    this.probe = { runner, ...options };
  }

  private async collectLag(): Promise<void> {
    const probe = this.probe;
    if (!probe) return;
    try {
      const lags = await within(probe.runner.consumerLag(), probe.timeoutMs, null);
      if (lags === null) {
        probe.logger.debug({ timeoutMs: probe.timeoutMs }, 'consumer lag read timed out');
        return;
      }
      this.lag.reset();
      for (const { topic, partition, lag } of lags)
        this.lag.set({ topic, partition: String(partition) }, lag);
    } catch (err) {
      probe.logger.debug({ err }, 'consumer lag read failed');
    }
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
