import type { MainJobReport } from '@grantstream/harness';

/** What the summary says that the report does not carry. */
export interface SummaryContext {
  /** The run's directory, where the services' logs are. */
  runDir: string;
  /** Stage services the metrics sampler scraped. */
  services: number;
  /** Every audit finding, where the report lists only the first ones. */
  auditFindings: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The main job's summary for a person, one string per line: the counts, a
 * table per funder, the audit verdict, the metrics' peaks, time to a terminal
 * status, the signed checkpoint covering the run, and up to 20 mismatches and
 * unfinished grants.
 */
export function renderMainJobSummary(report: MainJobReport, context: SummaryContext): string[] {
  const outcomes = Object.values(report.outcomes);
  const forwarded = outcomes.filter((o) => o.destination === 'routed').length;
  const final = outcomes.filter((o) => o.final !== null).length;
  const lines = [
    '',
    `summary: ${report.decided}/${report.applications} decided by routing, ${final}/${forwarded} forwarded grants final, ${report.missing.length + report.unfinished.length} missing, ${report.duplicates.length} duplicated, ${report.mismatches.length} unlike the fixtures`,
    `    funder   submitted  accepted  rejected  blocked  dead-lettered  retries  to terminal p50/p99`,
  ];
  for (const funder of Object.keys(report.byFunder).sort()) {
    const r = report.byFunder[funder];
    if (!r) continue;
    // Accepted, rejected and duplicate grants are the ones with a time to a terminal status.
    const latency =
      r.accepted + r.rejected + r.duplicate > 0
        ? `${seconds(r.timeToTerminalMs.p50)} / ${seconds(r.timeToTerminalMs.p99)}`
        : 'n/a (none filed)';
    lines.push(
      `    ${funder.padEnd(8)} ${String(r.routed).padStart(9)}  ${String(r.accepted).padStart(8)}  ${String(r.rejected).padStart(8)}  ${String(r.blocked).padStart(7)}  ${String(r.deadLettered).padStart(13)}  ${String(r.retries).padStart(7)}  ${latency}`,
    );
  }
  const { audit, metrics } = report;
  const peak = (name: string) => metrics.peaks[name] ?? 0;
  lines.push(
    `    audit: ${audit.grants} trails, ${audit.events} events, hash chains ${audit.ok ? 'verified' : `BROKEN (${context.auditFindings} findings)`}; ${report.notificationsDelivered} notifications delivered to the compliance officer's webhook`,
    `    metrics: ${metrics.scrapes} scrapes of ${context.services} services; peaks: consumer lag ${peak('grantstream_consumer_lag')}, paused partitions ${peak('grantstream_stage_paused_partitions')}, limiter queue ${peak('grantstream_funder_limiter_queued')}, busiest portal series ${peak('grantstream_funder_api_request_seconds_count')} calls, RSS ${Math.round(peak('process_resident_memory_bytes') / 1048576)} MB`,
    `    time to a terminal status: p50 ${(report.timeToTerminalMs.p50 / 1000).toFixed(1)} s, p99 ${(report.timeToTerminalMs.p99 / 1000).toFixed(1)} s`,
  );
  const cp = report.checkpoint;
  lines.push(
    cp === null
      ? '    merkle log: no checkpointer in this run'
      : `    merkle log: checkpoint of ${cp.treeSize} leaves, root ${cp.rootHash.slice(0, 12)}…, signed ${cp.signedAt ?? '(no time)'}; ${cp.runEvents} of the run's events are leaves under it (waited ${seconds(cp.waitedMs)})`,
  );
  for (const m of report.mismatches.slice(0, 20)) lines.push(`    mismatch ${m}`);
  for (const id of report.unfinished.slice(0, 20)) lines.push(`    no final status for ${id}`);
  lines.push(`    total ${report.totalMs} ms; service logs in ${context.runDir}`);
  return lines;
}
