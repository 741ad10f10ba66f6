// Guarantee: the README's main-job command carries the example batch (real
// PDF/XLSX attachments, compliant and broken applications of three funders)
// from ingest through validation, normalization and compliance routing; every
// application ends in exactly one of grants.routed.v1,
// grants.compliance-blocked.v1 or grants.dlq.v1, where the fixtures say it
// should, with the category they name, and every application's audit trail
// is one hash chain across the stages that verifies.
import { describe, expect, it } from 'vitest';
import { ENTRY, runTs } from '@grantstream/testing';

interface MainJobReport {
  ok: boolean;
  applications: number;
  decided: number;
  missing: string[];
  duplicates: string[];
  mismatches: string[];
  byFunder: Record<string, { routed: number; blocked: number; dlq: number; expected: number }>;
  outcomes: Record<string, { destination: string; codes: string[]; category: string | null }>;
  audit: { grants: number; events: number; ok: boolean; findings: unknown[] };
}

describe('pipeline end to end (main job)', () => {
  it('routes, blocks or dead-letters every example application as its fixture says', async () => {
    const r = await runTs(ENTRY.mainJob, ['--json'], { timeoutMs: 420_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as MainJobReport;

    expect(report.applications).toBeGreaterThanOrEqual(200);
    expect(report.missing).toEqual([]);
    expect(report.duplicates).toEqual([]);
    expect(report.mismatches).toEqual([]);
    expect(report.decided).toBe(report.applications);

    // Three funders, and all three destinations used.
    const funders = Object.keys(report.byFunder);
    for (const f of ['NSF', 'BCF', 'SCDA']) expect(funders).toContain(f);
    const destinations = new Set(Object.values(report.outcomes).map((o) => o.destination));
    expect([...destinations].sort()).toEqual(['blocked', 'dlq', 'routed']);
    for (const row of Object.values(report.byFunder))
      expect(row.routed + row.blocked + row.dlq).toBe(row.expected);

    // Every dead letter and block carries its category.
    for (const o of Object.values(report.outcomes)) {
      if (o.destination === 'dlq')
        expect(['SCHEMA_VIOLATION', 'UNKNOWN_FUNDER', 'ATTACHMENT_INVALID']).toContain(o.category);
      if (o.destination === 'blocked')
        expect(o.category).toMatch(/COMPLIANCE_BLOCK|UNKNOWN_FUNDER/);
    }

    // One chain per application: three events when it passed ingest, one when dead-lettered there.
    expect(report.audit.ok).toBe(true);
    expect(report.audit.findings).toEqual([]);
    expect(report.audit.grants).toBe(report.applications);
    const dlq = Object.values(report.outcomes).filter((o) => o.destination === 'dlq').length;
    expect(report.audit.events).toBe(dlq + 3 * (report.applications - dlq));
  });
});
