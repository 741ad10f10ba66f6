import { Counter, Gauge, type Registry } from 'prom-client';
import type { FunderPortal } from './funder-portal';

/** What the handler reports about its work, for metrics. */
export interface SubmissionEvents {
  /** One attempt ended with `outcome` (accepted, rate_limited, throttled, timed_out ...). */
  attempted(funderId: string, outcome: string): void;
  /** A retry was scheduled: `where` is `inline` or the tier topic. */
  retried(funderId: string, where: string): void;
  /** A deadline at risk was escalated. */
  escalated(funderId: string): void;
  /** A copy of content already accepted was recognised and not filed. */
  duplicate(funderId: string): void;
}

const CIRCUIT_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The submission stage's Prometheus metrics, beside the runner's: attempts by
 * funder and outcome, retries by funder and tier, escalations, and per funder
 * the limiter's queued and running calls, its configured rate and
 * concurrency, the circuit's state (0 closed, 1 half open, 2 open) and when
 * it probes next, read when scraped.
 */
export class SubmissionMetrics implements SubmissionEvents {
  private readonly attempts: Counter<'funder' | 'outcome'>;
  private readonly retries: Counter<'funder' | 'tier'>;
  private readonly escalations: Counter<'funder'>;
  private readonly duplicates: Counter<'funder'>;

  constructor(registry: Registry, portals: ReadonlyMap<string, FunderPortal>) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'grantstream_submission_attempts_total',
      help: 'Portal attempts by funder and outcome (accepted, rejected, rate_limited, throttled, transient, timed_out, circuit_open, misconfigured).',
      labelNames: ['funder', 'outcome'],
      registers,
    });
    this.retries = new Counter({
      name: 'grantstream_submission_retries_total',
      help: 'Retries scheduled, by funder and where they wait (inline or the tier topic).',
      labelNames: ['funder', 'tier'],
      registers,
    });
    this.escalations = new Counter({
      name: 'grantstream_submission_deadline_escalations_total',
      help: 'Retries escalated because the deadline was at risk.',
      labelNames: ['funder'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'grantstream_submission_duplicates_total',
      help: 'Routed grants whose content was already accepted on another trail: recorded, not filed.',
      labelNames: ['funder'],
      registers,
    });
    const perFunder = (pick: (portal: FunderPortal) => number) =>
      function collect(this: Gauge<'funder'>) {
        for (const [funder, portal] of portals) this.set({ funder }, pick(portal));
      };
    new Gauge({
      name: 'grantstream_funder_limiter_queued',
      help: 'Calls waiting for the funder limiter in this process.',
      labelNames: ['funder'],
      registers,
      collect: perFunder((p) => p.counts().queued),
    });
    new Gauge({
      name: 'grantstream_funder_limiter_running',
      help: 'Calls of this process in flight to the funder.',
      labelNames: ['funder'],
      registers,
      collect: perFunder((p) => p.counts().running),
    });
    new Gauge({
      name: 'grantstream_funder_circuit_state',
      help: 'Circuit of the funder in this process: 0 closed, 1 half open, 2 open.',
      labelNames: ['funder'],
      registers,
      collect: perFunder((p) => CIRCUIT_VALUES[p.circuitState]),
    });
    // The configured limits beside the counts, so a dashboard (the console's
    // funders page) can show use against the limit from the scrape alone.
    new Gauge({
      name: 'grantstream_funder_limiter_rate_per_second',
      help: 'Calls per second the funder limiter allows, across every process sharing it (configured).',
      labelNames: ['funder'],
      registers,
      collect: perFunder((p) => p.config.ratePerSecond),
    });
    new Gauge({
      name: 'grantstream_funder_limiter_max_concurrent',
      help: 'Calls in flight to the funder the limiter allows, across every process sharing it (configured).',
      labelNames: ['funder'],
      registers,
      collect: perFunder((p) => p.config.maxConcurrent),
    });
    new Gauge({
      name: 'grantstream_funder_circuit_next_probe_timestamp_seconds',
      help: 'When the funder circuit of this process lets its next probe call through (Unix seconds); 0 while closed.',
      labelNames: ['funder'],
      registers,
      collect: perFunder((p) => (p.circuitNextProbeAtMs ?? 0) / 1000),
    });
  }

  attempted(funderId: string, outcome: string): void {
    this.attempts.inc({ funder: funderId, outcome });
  }

  retried(funderId: string, where: string): void {
    this.retries.inc({ funder: funderId, tier: where });
  }

  escalated(funderId: string): void {
    this.escalations.inc({ funder: funderId });
  }

  duplicate(funderId: string): void {
    this.duplicates.inc({ funder: funderId });
  }
}
