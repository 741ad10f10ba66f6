import type { GrantLogger } from '@grantstream/logging';
import { parsePrometheusText, sumOf, type Sample } from './prometheus-text';

/** One replica of a stage to watch: its base URL (serving /metrics and its ready probe). */
export interface StageReplica {
  stage: string;
  url: string;
}

/** What one replica said, or that it did not answer. */
export interface ReplicaState {
  url: string;
  ready: boolean;
  /** Why it is not ready (its probe's answer, or that it did not answer); null when ready. */
  why: string | null;
  rssBytes: number | null;
}

/** A topic's consumer lag summed over the replicas, with each partition's. */
export interface TopicLag {
  topic: string;
  lag: number;
  partitions: { partition: string; lag: number }[];
}

/** One stage at one refresh. Rates are per second since the last refresh (null on the first). */
export interface StageState {
  stage: string;
  replicas: ReplicaState[];
  readyReplicas: number;
  lag: TopicLag[];
  inPerSecond: number | null;
  outPerSecond: number | null;
  deadLettersPerSecond: number | null;
  transactionsCommitted: number | null;
  transactionsAborted: number | null;
  pausedPartitions: number | null;
  rssBytes: number | null;
}

/** Every stage at one refresh. */
export interface PipelineSnapshot {
  at: number;
  stages: StageState[];
}

/** One refresh with every sample the replicas served: what the funders page and the charts read. */
export interface PipelineScrape {
  snapshot: PipelineSnapshot;
  /** The samples of every replica that answered, all stages together. */
  samples: Sample[];
}

/** How the monitor watches: its replicas, how often, how long one answer may take. */
export interface PipelineMonitorOptions {
  replicas: readonly StageReplica[];
  /** The path answering 200 once a replica is ready. */
  probe: string;
  refreshMs: number;
  probeTimeoutMs: number;
  logger: GrantLogger;
  now(): number;
}

interface Counters {
  at: number;
  in: number | null;
  out: number | null;
  deadLetters: number | null;
}

const IN = 'grantstream_stage_messages_in_total';
const OUT = 'grantstream_stage_records_out_total';
const DEAD = 'grantstream_stage_dead_letters_total';

/**
 * Watches the stages through their own endpoints (schemas/pipeline.yaml's
 * ports, or the replicas configured): every refresh asks each replica's ready
 * probe and /metrics, and keeps the latest snapshot for the pipeline page and
 * its live feed. A replica that does not answer within the timeout is not
 * ready, so a stage that goes down shows so at the next refresh.
 */
export class PipelineMonitor {
  private latestSnapshot: PipelineSnapshot | null = null;
  private readonly previous = new Map<string, Counters>();
  private readonly listeners = new Set<(s: PipelineSnapshot) => void>();
  private readonly scrapeListeners = new Set<(s: PipelineScrape) => void>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly options: PipelineMonitorOptions) {}

  /** Refreshes now and then every refreshMs until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      this.refresh()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'pipeline refresh failed'))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, this.options.refreshMs);
        });
    };
    tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
    this.scrapeListeners.clear();
  }

  /** The last snapshot, or null before the first refresh ends. */
  latest(): PipelineSnapshot | null {
    return this.latestSnapshot;
  }

  /** Calls `listener` with every new snapshot; returns the unsubscribe. */
  subscribe(listener: (s: PipelineSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with every refresh and its samples; returns the unsubscribe. */
  subscribeScrapes(listener: (s: PipelineScrape) => void): () => void {
    this.scrapeListeners.add(listener);
    return () => this.scrapeListeners.delete(listener);
  }

  /** The refresh period (the live feed tells browsers when to expect the next one). */
  get refreshMs(): number {
    return this.options.refreshMs;
  }

  /** Asks every replica once and publishes the snapshot. */
  async refresh(): Promise<PipelineSnapshot> {
    const at = this.options.now();
    const answers = await Promise.all(this.options.replicas.map((r) => this.ask(r)));
    const stages: StageState[] = [];
    for (const stage of [...new Set(this.options.replicas.map((r) => r.stage))]) {
      const mine = answers.filter((a) => a.replica.stage === stage);
      stages.push(this.stageState(stage, mine, at));
    }
    const snapshot = { at, stages };
    this.latestSnapshot = snapshot;
    for (const l of this.listeners) l(snapshot);
    const samples = answers.flatMap((a) => a.samples);
    for (const l of this.scrapeListeners) l({ snapshot, samples });
    return snapshot;
  }

  private async ask(
    replica: StageReplica,
  ): Promise<{ replica: StageReplica; state: ReplicaState; samples: Sample[] }> {
    const get = async (path: string): Promise<Response> =>
      fetch(`${replica.url}${path}`, {
        signal: AbortSignal.timeout(this.options.probeTimeoutMs),
      });
    let ready = false;
    let why: string | null = null;
    let samples: Sample[] = [];
    try {
      const probe = await get(this.options.probe);
      ready = probe.ok;
      if (!ready) why = `${this.options.probe} answered ${probe.status}`;
      await probe.body?.cancel();
      const metrics = await get('/metrics');
      if (metrics.ok) samples = parsePrometheusText(await metrics.text());
      else await metrics.body?.cancel();
    } catch (err) {
      ready = false;
      why ??= `no answer (${err instanceof Error ? err.message : String(err)})`;
    }
    return {
      replica,
      state: {
        url: replica.url,
        ready,
        why,
        rssBytes: sumOf(samples, 'process_resident_memory_bytes'),
      },
      samples,
    };
  }

  private rate(
    key: string,
    at: number,
    current: Omit<Counters, 'at'>,
  ): { in: number | null; out: number | null; deadLetters: number | null } {
    const before = this.previous.get(key);
    this.previous.set(key, { at, ...current });
    const per = (now: number | null, then: number | null | undefined): number | null => {
      if (!before || now === null || then === null || then === undefined || at <= before.at)
        return null;
      // A restarted replica starts its counters again.
      return now < then ? null : ((now - then) * 1000) / (at - before.at);
    };
    return {
      in: per(current.in, before?.in),
      out: per(current.out, before?.out),
      deadLetters: per(current.deadLetters, before?.deadLetters),
    };
  }

  private stageState(
    stage: string,
    answers: { replica: StageReplica; state: ReplicaState; samples: Sample[] }[],
    at: number,
  ): StageState {
    const all = answers.flatMap((a) => a.samples);
    const answered = answers.some((a) => a.samples.length > 0);
    const total = (name: string): number | null => (answered ? (sumOf(all, name) ?? 0) : null);
    const rates = this.rate(stage, at, {
      in: total(IN),
      out: total(OUT),
      deadLetters: total(DEAD),
    });
    const byTopic = new Map<string, Map<string, number>>();
    for (const s of all) {
      if (s.name !== 'grantstream_consumer_lag' || !Number.isFinite(s.value)) continue;
      const topic = s.labels['topic'] ?? '';
      const partitions = byTopic.get(topic) ?? new Map<string, number>();
      const partition = s.labels['partition'] ?? '';
      partitions.set(partition, (partitions.get(partition) ?? 0) + s.value);
      byTopic.set(topic, partitions);
    }
    const lag = [...byTopic.entries()]
      .map(([topic, partitions]) => ({
        topic,
        lag: [...partitions.values()].reduce((a, b) => a + b, 0),
        partitions: [...partitions.entries()]
          .map(([partition, l]) => ({ partition, lag: l }))
          .sort((a, b) => Number(a.partition) - Number(b.partition)),
      }))
      .sort((a, b) => a.topic.localeCompare(b.topic));
    const rss = answers.map((a) => a.state.rssBytes).filter((r): r is number => r !== null);
    return {
      stage,
      replicas: answers.map((a) => a.state),
      readyReplicas: answers.filter((a) => a.state.ready).length,
      lag,
      inPerSecond: rates.in,
      outPerSecond: rates.out,
      deadLettersPerSecond: rates.deadLetters,
      transactionsCommitted: total('grantstream_stage_transactions_committed_total'),
      transactionsAborted: total('grantstream_stage_transactions_aborted_total'),
      pausedPartitions: total('grantstream_stage_paused_partitions'),
      rssBytes: rss.length === 0 ? null : rss.reduce((a, b) => a + b, 0),
    };
  }
}
