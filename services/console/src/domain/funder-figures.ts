import type { Sample } from '../pipeline/prometheus-text';

/** A funder circuit's state as the submission stage serves it (0, 1, 2). */
export type CircuitState = 'closed' | 'half_open' | 'open';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half_open', 'open'];

/** One funder's limiter, circuit and portal figures, from the stages' /metrics. */
export interface FunderFigures {
  funderId: string;
  /** Calls per second the limiter allows (configured), null when no stage serves it. */
  ratePerSecond: number | null;
  maxConcurrent: number | null;
  /** Calls waiting for the limiter, summed over the processes. */
  queued: number | null;
  /** Calls in flight, summed over the processes. */
  running: number | null;
  /** Portal calls per second since the previous scrape (every operation, every stage). */
  callsPerSecond: number | null;
  /** callsPerSecond against ratePerSecond (0.5 is half the limit). */
  utilization: number | null;
  /** The worst circuit of the processes: one open circuit is an open funder. */
  circuit: CircuitState | null;
  /** When the earliest open circuit lets its probe through (epoch ms). */
  nextProbeAt: number | null;
  /** Mean portal latency since the processes started. */
  latencyMeanMs: number | null;
  /** The histogram bucket bound under which 95% of the portal calls answered; null above the last. */
  latencyP95Ms: number | null;
  /** Portal answers by HTTP status (or timeout, network) since the processes started. */
  statusCodes: { status: string; calls: number }[];
  /** 429 answers since the processes started. */
  rateLimited: number;
}

/** What the next scrape's rates are computed against. */
export interface FunderCounters {
  at: number;
  calls: ReadonlyMap<string, number>;
}

const API = 'grantstream_funder_api_request_seconds';

function byFunder(samples: readonly Sample[], name: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of samples) {
    const funder = s.labels['funder'];
    if (s.name !== name || funder === undefined || !Number.isFinite(s.value)) continue;
    out.set(funder, [...(out.get(funder) ?? []), s.value]);
  }
  return out;
}

const sum = (xs: readonly number[] | undefined): number | null =>
  xs === undefined ? null : xs.reduce((a, b) => a + b, 0);
const max = (xs: readonly number[] | undefined): number | null =>
  xs === undefined ? null : Math.max(...xs);

/** The smallest bucket bound holding 95% of the calls, from cumulative Prometheus buckets. */
function p95Of(buckets: Map<number, number>, count: number): number | null {
  if (count <= 0) return null;
  for (const le of [...buckets.keys()].sort((a, b) => a - b)) {
    if ((buckets.get(le) ?? 0) >= 0.95 * count) return Number.isFinite(le) ? le * 1000 : null;
  }
  return null;
}

/**
 * Every funder's figures from the samples of one scrape of every stage
 * replica (submission's limiter and circuit gauges, the portal histogram of
 * submission and status polling), and the rates since `previous`. A
 * replica that restarted meanwhile counts from zero again: its rate is
 * unknown for that one scrape, never negative.
 */
export function funderFigures(
  samples: readonly Sample[],
  previous: FunderCounters | null,
  at: number,
): { funders: FunderFigures[]; counters: FunderCounters } {
  const rate = byFunder(samples, 'grantstream_funder_limiter_rate_per_second');
  const concurrency = byFunder(samples, 'grantstream_funder_limiter_max_concurrent');
  const queued = byFunder(samples, 'grantstream_funder_limiter_queued');
  const running = byFunder(samples, 'grantstream_funder_limiter_running');
  const circuit = byFunder(samples, 'grantstream_funder_circuit_state');
  const probe = byFunder(samples, 'grantstream_funder_circuit_next_probe_timestamp_seconds');
  const count = byFunder(samples, `${API}_count`);
  const seconds = byFunder(samples, `${API}_sum`);
  const codes = new Map<string, Map<string, number>>();
  const buckets = new Map<string, Map<number, number>>();
  for (const s of samples) {
    const funder = s.labels['funder'];
    if (funder === undefined || !Number.isFinite(s.value)) continue;
    if (s.name === `${API}_count`) {
      const status = s.labels['status'] ?? '';
      const m = codes.get(funder) ?? new Map<string, number>();
      m.set(status, (m.get(status) ?? 0) + s.value);
      codes.set(funder, m);
    } else if (s.name === `${API}_bucket`) {
      const le = s.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels['le']);
      const m = buckets.get(funder) ?? new Map<number, number>();
      m.set(le, (m.get(le) ?? 0) + s.value);
      buckets.set(funder, m);
    }
  }
  const ids = new Set([...rate.keys(), ...queued.keys(), ...circuit.keys(), ...count.keys()]);
  const calls = new Map<string, number>();
  const funders = [...ids].sort().map((funderId): FunderFigures => {
    const total = sum(count.get(funderId)) ?? 0;
    calls.set(funderId, total);
    const before = previous?.calls.get(funderId);
    const perSecond =
      previous && at > previous.at && before !== undefined && total >= before
        ? ((total - before) * 1000) / (at - previous.at)
        : previous && at > previous.at && before === undefined
          ? (total * 1000) / (at - previous.at)
          : null;
    const limit = max(rate.get(funderId));
    const worst = max(circuit.get(funderId));
    const probes = (probe.get(funderId) ?? []).filter((p) => p > 0).map((p) => p * 1000);
    const statusCodes = [...(codes.get(funderId) ?? new Map<string, number>()).entries()]
      .map(([status, n]) => ({ status, calls: n }))
      .sort((a, b) => a.status.localeCompare(b.status));
    return {
      funderId,
      ratePerSecond: limit,
      maxConcurrent: max(concurrency.get(funderId)),
      queued: sum(queued.get(funderId)),
      running: sum(running.get(funderId)),
      callsPerSecond: perSecond,
      utilization: perSecond === null || limit === null || limit <= 0 ? null : perSecond / limit,
      circuit: worst === null ? null : (CIRCUIT_STATES[worst] ?? null),
      nextProbeAt: probes.length === 0 ? null : Math.min(...probes),
      latencyMeanMs: total > 0 ? ((sum(seconds.get(funderId)) ?? 0) * 1000) / total : null,
      latencyP95Ms: p95Of(buckets.get(funderId) ?? new Map<number, number>(), total),
      statusCodes,
      rateLimited: statusCodes.find((c) => c.status === '429')?.calls ?? 0,
    };
  });
  return { funders, counters: { at, calls } };
}

/** A retry tier's backlog: its consumer lag summed over partitions and readers. */
export interface TierBacklog {
  topic: string;
  lag: number;
}

/**
 * The retry tiers' backlog: the lag of every topic the pattern matches
 * (submission.retryTopicPattern), as the stages report their consumer lag.
 */
export function retryTierBacklog(
  lags: readonly { topic: string; lag: number }[],
  pattern: RegExp,
): TierBacklog[] {
  const byTopic = new Map<string, number>();
  for (const l of lags) {
    if (pattern.test(l.topic)) byTopic.set(l.topic, (byTopic.get(l.topic) ?? 0) + l.lag);
  }
  return [...byTopic.entries()]
    .map(([topic, lag]) => ({ topic, lag }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
}
