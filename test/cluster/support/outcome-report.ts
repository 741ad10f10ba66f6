import type { MainJobReport } from '@grantstream/harness';

/** One grant's outcome in a main job's report, without its run tag, timings or ids. */
export interface GrantOutcomeShape {
  destination: string;
  category: string | null;
  codes: string[];
  defect: string | null;
  final: { state: string; category: string | null; stage: string | null } | null;
}

/**
 * What a main job's `--json` report says about the batch's outcome, with
 * everything a run may vary in left out: timings, latencies, tracking
 * numbers, metrics, the checkpoint's position, the retries a portal's
 * seeded server errors cause. Two runs of the batch with one run tag (so one
 * set of grant ids, and one set of the simulator's per-grant decisions) have
 * equal shapes when the pipeline decided every grant alike.
 */
export interface OutcomeShape {
  ok: boolean;
  applications: number;
  decided: number;
  missing: number;
  duplicates: number;
  unfinished: number;
  mismatches: number;
  /** Per funder: where routing sent its applications and how the forwarded ones ended. */
  byFunder: Record<
    string,
    Pick<
      MainJobReport['byFunder'][string],
      | 'expected'
      | 'routed'
      | 'blocked'
      | 'dlq'
      | 'accepted'
      | 'rejected'
      | 'deadLettered'
      | 'duplicate'
      | 'submitted'
    >
  >;
  /** Routing destinations and final states, each with its category, counted. */
  byCategory: Record<string, number>;
  /** Every grant, by its id without the run tag. */
  grants: Record<string, GrantOutcomeShape>;
  audit: { ok: boolean; grants: number; findings: number };
  /** A signed checkpoint covered every audit event of the run. */
  checkpointed: boolean;
}

/** The outcome shape of a main job's report (see {@link OutcomeShape}). */
export function outcomeShape(report: MainJobReport): OutcomeShape {
  const suffix = `-${report.runTag}`;
  const untagged = (id: string) => (id.endsWith(suffix) ? id.slice(0, -suffix.length) : id);
  const byCategory: Record<string, number> = {};
  const count = (key: string) => (byCategory[key] = (byCategory[key] ?? 0) + 1);
  const grants: Record<string, GrantOutcomeShape> = {};
  for (const [id, o] of Object.entries(report.outcomes).sort(([a], [b]) => a.localeCompare(b))) {
    count(`${o.destination}:${o.category ?? '-'}`);
    if (o.final) count(`final:${o.final.state}:${o.final.category ?? '-'}`);
    grants[untagged(id)] = {
      destination: o.destination,
      category: o.category,
      codes: [...o.codes].sort(),
      defect: o.defect,
      final: o.final
        ? { state: o.final.state, category: o.final.category, stage: o.final.stage }
        : null,
    };
  }
  return {
    ok: report.ok,
    applications: report.applications,
    decided: report.decided,
    missing: report.missing.length,
    duplicates: report.duplicates.length,
    unfinished: report.unfinished.length,
    mismatches: report.mismatches.length,
    byFunder: Object.fromEntries(
      Object.entries(report.byFunder).map(([funder, r]) => [
        funder,
        {
          expected: r.expected,
          routed: r.routed,
          blocked: r.blocked,
          dlq: r.dlq,
          accepted: r.accepted,
          rejected: r.rejected,
          deadLettered: r.deadLettered,
          duplicate: r.duplicate,
          submitted: r.submitted,
        },
      ]),
    ),
    byCategory: Object.fromEntries(
      Object.entries(byCategory).sort(([a], [b]) => a.localeCompare(b)),
    ),
    grants,
    audit: {
      ok: report.audit.ok,
      grants: report.audit.grants,
      findings: report.audit.findings.length,
    },
    checkpointed: report.checkpoint !== null && report.checkpoint.runEvents > 0,
  };
}
