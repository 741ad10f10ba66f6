import type { VerificationReport } from '@grantstream/audit';
import { funderPrefixOf, type AuditEventV1 } from '@grantstream/contracts';
import type {
  Destination,
  FinalState,
  GrantOutcome,
  MainJobCheckpoint,
  MainJobFunderRow,
  MainJobReport,
  TimeToTerminal,
} from '@grantstream/harness';

/** What examples/expected-outcomes.json says about one grant. */
export interface ExpectedGrant {
  destination: Destination;
  category?: string;
  codes: string[];
  defect: string | null;
}

/** Everything the main job read, as {@link buildMainJobReport} takes it. */
export interface MainJobReadings {
  runTag: string;
  /** The fixtures' expectation per (run-tagged) grant id, in the batch's order. */
  expected: ReadonlyMap<string, ExpectedGrant>;
  /** Routing outcomes (collectOutcomes). */
  routing: {
    outcomes: ReadonlyMap<string, GrantOutcome>;
    duplicates: readonly string[];
    missing: readonly string[];
  };
  /** Final states of the forwarded grants (followToFinal). */
  finals: { finals: ReadonlyMap<string, FinalState>; missing: readonly string[] };
  /** The batch's audit events per grant and their verification (scanAuditTrails). */
  audit: {
    report: VerificationReport;
    events: ReadonlyMap<string, readonly Pick<AuditEventV1, 'action'>[]>;
  };
  /** Deliveries the webhook sink counted; null when it could not tell. */
  notificationsDelivered: number | null;
  /** The metrics sampler's result: every sample name's peak, unfiltered. */
  metrics: { scrapes: number; failures: Record<string, number>; peaks: Record<string, number> };
  /** Epoch milliseconds: the job's start, the batch's submission, the report. */
  timings: { startedAtMs: number; submittedAtMs: number; finishedAtMs: number };
  /** The checkpoint covering the run's audit events (waitForRunCheckpoint); null without a checkpointer. */
  checkpoint: MainJobCheckpoint | null;
}

/** Sample names the report keeps: the pipeline's own families and the process's memory. */
const REPORTED_METRIC =
  /^(grantstream_|process_resident_memory_bytes$|nodejs_heap_size_used_bytes$)/;

/** Findings the report lists; the rest are counted in the summary only. */
const REPORTED_FINDINGS = 20;

/** The nearest-rank percentile `p` of ascending `sorted`; 0 for none. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

const timeToTerminal = (list: readonly number[]): TimeToTerminal => {
  const sorted = [...list].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/**
 * Where `got` differs from the fixture's expectation, as a report line; null
 * when it agrees. A dead letter names one error code (the first problem's),
 * so only that one is compared; a routing or compliance decision names every
 * flag, so each expected code must be among them. The category is compared
 * when the fixture names one.
 */
export function mismatchOf(
  grantId: string,
  want: ExpectedGrant,
  got: GrantOutcome | undefined,
): string | null {
  const codesOk =
    want.destination === 'dlq'
      ? got?.codes[0] === want.codes[0]
      : want.codes.every((c) => got?.codes.includes(c));
  const categoryOk = want.category === undefined || got?.category === want.category;
  if (got && got.destination === want.destination && codesOk && categoryOk) return null;
  return `${grantId}: expected ${want.destination} ${want.codes.join(',')}, got ${got ? `${got.destination} ${got.codes.join(',')}` : 'nothing'}`;
}

/** A funder's row before any grant is counted. */
export const emptyFunderRow = (): MainJobFunderRow => ({
  expected: 0,
  routed: 0,
  blocked: 0,
  dlq: 0,
  accepted: 0,
  rejected: 0,
  deadLettered: 0,
  duplicate: 0,
  retries: 0,
  submitted: 0,
  timeToTerminalMs: { p50: 0, p99: 0 },
});

/**
 * The main job's report from what it read: per funder, where routing sent
 * each application and how the forwarded ones ended, with retries from the
 * audit trails and the time from submission to a terminal status; every
 * application unlike its fixture; the audit verdict, the sampled metrics and
 * the signed checkpoint covering the run's audit events.
 * `ok` only when no application is missing, duplicated, unfinished or unlike
 * its fixture and every audit chain verifies.
 */
export function buildMainJobReport(input: MainJobReadings): MainJobReport {
  const { expected, routing, finals, audit, timings } = input;
  const mismatches: string[] = [];
  const byFunder = new Map<string, MainJobFunderRow>();
  const terminalMs = new Map<string, number[]>();
  for (const [id, want] of expected) {
    const got = routing.outcomes.get(id);
    const funder = funderPrefixOf(id);
    const row = byFunder.get(funder) ?? emptyFunderRow();
    row.expected += 1;
    if (got) {
      row[got.destination] += 1;
      if (got.destination === 'dlq') row.deadLettered += 1;
    }
    const final = finals.finals.get(id);
    if (final) {
      if (final.state === 'dead_letter') row.deadLettered += 1;
      else {
        row[final.state] += 1;
        const list = terminalMs.get(funder) ?? [];
        list.push(final.atMs - timings.submittedAtMs);
        terminalMs.set(funder, list);
      }
    }
    row.retries += (audit.events.get(id) ?? []).filter((e) => e.action === 'RETRY').length;
    byFunder.set(funder, row);
    const mismatch = mismatchOf(id, want, got);
    if (mismatch !== null) mismatches.push(mismatch);
  }
  const ok =
    mismatches.length === 0 &&
    routing.missing.length === 0 &&
    routing.duplicates.length === 0 &&
    finals.missing.length === 0 &&
    audit.report.ok;
  // Key order below is the order `--json` has always printed.
  return {
    runTag: input.runTag,
    ok,
    applications: expected.size,
    decided: routing.outcomes.size,
    missing: [...routing.missing],
    duplicates: [...routing.duplicates],
    unfinished: [...finals.missing],
    mismatches,
    byFunder: Object.fromEntries(
      [...byFunder].map(([funder, row]) => [
        funder,
        {
          ...row,
          submitted: row.routed,
          timeToTerminalMs: timeToTerminal(terminalMs.get(funder) ?? []),
        },
      ]),
    ),
    outcomes: Object.fromEntries(
      [...routing.outcomes].map(([id, o]) => [
        id,
        { ...o, defect: expected.get(id)?.defect ?? null, final: finals.finals.get(id) ?? null },
      ]),
    ),
    audit: {
      grants: audit.report.grants,
      events: [...audit.events.values()].reduce((n, e) => n + e.length, 0),
      ok: audit.report.ok,
      findings: audit.report.findings.slice(0, REPORTED_FINDINGS),
    },
    notificationsDelivered: input.notificationsDelivered,
    metrics: {
      scrapes: input.metrics.scrapes,
      failures: input.metrics.failures,
      peaks: Object.fromEntries(
        Object.entries(input.metrics.peaks)
          .filter(([name]) => REPORTED_METRIC.test(name))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    },
    timeToTerminalMs: timeToTerminal([...terminalMs.values()].flat()),
    totalMs: timings.finishedAtMs - timings.startedAtMs,
    checkpoint: input.checkpoint,
  };
}
