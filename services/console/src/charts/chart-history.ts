import type { FunderStateCount } from '@grantstream/read-model';
import type { ChartPoint, ChartSeries } from './svg-chart';
import { RingBuffer } from './ring-buffer';

/** What one chart sample holds: each stage's lag and rates, each funder's calls and limit, grants by state. */
export interface ChartTick {
  at: number;
  stages: { stage: string; lag: number | null; in: number | null; out: number | null }[];
  funders: { funderId: string; callsPerSecond: number | null; limit: number | null }[];
  states: FunderStateCount[];
}

/** How often a sample is kept and how many are. */
export interface ChartHistorySettings {
  sampleIntervalMs: number;
  maxSamples: number;
}

/**
 * The console's own chart samples: at most one per sampleIntervalMs, the
 * last maxSamples of them in a ring, so memory is bounded and a chart spans
 * sampleIntervalMs x maxSamples (the last hour by default). Fed by the
 * pipeline page's scrapes; lost on restart (they are a view, not a record).
 */
export class ChartHistory {
  private readonly ticks: RingBuffer<ChartTick>;

  constructor(private readonly settings: ChartHistorySettings) {
    this.ticks = new RingBuffer(settings.maxSamples);
  }

  /** Whether a sample taken at `at` would be kept. */
  due(at: number): boolean {
    const last = this.ticks.last();
    return last === undefined || at - last.at >= this.settings.sampleIntervalMs;
  }

  /** Keeps `tick` when it is due; returns whether it was kept. */
  record(tick: ChartTick): boolean {
    if (!this.due(tick.at)) return false;
    this.ticks.push(tick);
    return true;
  }

  /** The span the charts show, ending at `now`. */
  window(now: number): { from: number; to: number } {
    return { from: now - this.settings.sampleIntervalMs * this.settings.maxSamples, to: now };
  }

  /** Stages in the order of the newest sample. */
  stages(): string[] {
    return (this.ticks.last()?.stages ?? []).map((s) => s.stage);
  }

  private series(name: string, pick: (t: ChartTick) => number | null | undefined): ChartSeries {
    return {
      name,
      points: this.ticks.toArray().map((t): ChartPoint => ({ at: t.at, value: pick(t) ?? null })),
    };
  }

  /** A stage's consumer lag over time. */
  stageLag(stage: string): ChartSeries[] {
    return [this.series('consumer lag', (t) => t.stages.find((s) => s.stage === stage)?.lag)];
  }

  /** A stage's messages in and records out per second over time. */
  stageThroughput(stage: string): ChartSeries[] {
    const of = (t: ChartTick) => t.stages.find((s) => s.stage === stage);
    return [
      this.series('in per second', (t) => of(t)?.in),
      this.series('out per second', (t) => of(t)?.out),
    ];
  }

  /** A funder's portal calls per second and its limiter's limit over time. */
  funderCalls(funderId: string): ChartSeries[] {
    const of = (t: ChartTick) => t.funders.find((f) => f.funderId === funderId);
    return [
      this.series('calls per second', (t) => of(t)?.callsPerSecond),
      this.series('limit per second', (t) => of(t)?.limit),
    ];
  }

  /** A funder's grants in each state over time; a state missing from a sample had none then. */
  funderStates(funderId: string): ChartSeries[] {
    const ticks = this.ticks.toArray();
    const states = [
      ...new Set(
        ticks.flatMap((t) =>
          t.states.filter((s) => s.funderId === funderId).map((s) => s.state ?? 'unknown'),
        ),
      ),
    ].sort();
    return states.map((state) =>
      this.series(
        state,
        (t) =>
          t.states.find((s) => s.funderId === funderId && (s.state ?? 'unknown') === state)
            ?.grants ?? 0,
      ),
    );
  }
}
