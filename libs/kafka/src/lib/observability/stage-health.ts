import type { RunnerEventSource } from './stage-metrics';
import { within } from '../within';

/** One dependency check of a readiness probe: true when it answered in time. */
export type HealthCheck = () => Promise<boolean>;

/** What `GET /health/ready` answers, as JSON. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** What a stage's health endpoints need to know. */
export interface StageHealthOptions {
  /** Dependency checks run on every readiness probe (broker, registry ...). */
  checks: Readonly<Record<string, HealthCheck>>;
  /** Longest one check may take before it counts as failed. */
  timeoutMs: number;
}

/**
 * Liveness and readiness of a stage process. Live while the process can
 * answer at all. Ready once its consumer has joined its group (and not
 * crashed since) and every dependency check answers within the timeout:
 * an orchestrator then routes no traffic to, and a rollout waits for, a
 * replica that cannot do its work, without restarting one that is merely
 * waiting for a broker.
 */
export class StageHealth {
  private joined = false;

  constructor(private readonly options: StageHealthOptions) {}

  /** Follows the runner's group membership. */
  observe(source: RunnerEventSource): void {
    source.on('groupJoined', () => {
      this.joined = true;
    });
    source.on('crashed', () => {
      this.joined = false;
    });
  }

  /** Runs every check (at once, each bounded by the timeout) and reports. */
  async readiness(): Promise<ReadinessReport> {
    const names = Object.keys(this.options.checks);
    const results = await Promise.all(
      names.map((name) =>
        this.bounded(this.options.checks[name] ?? (() => Promise.resolve(false))),
      ),
    );
    const checks: Record<string, boolean> = { consumerGroup: this.joined };
    names.forEach((name, i) => (checks[name] = results[i] ?? false));
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  private bounded(check: HealthCheck): Promise<boolean> {
    return within(
      check().catch(() => false),
      this.options.timeoutMs,
      false,
    );
  }
}
