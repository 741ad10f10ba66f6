// Guarantee: the README's main-job command carries the example batch (real
// PDF/XLSX attachments, compliant and broken applications of three funders)
// from ingest through validation, normalization and compliance routing to
// the funder portals (the simulator) and on to a terminal status: every
// application ends in exactly one of grants.routed.v1,
// grants.compliance-blocked.v1 or grants.dlq.v1 where the fixtures say it
// should, with the category they name; every forwarded grant then reaches the
// agency's tracking number, a portal rejection or a dead letter; the
// compliance officer is notified; every application's audit trail is one
// hash chain across the stages that verifies; and the services' /metrics,
// scraped while the batch ran, carried values for every metric family.
import { describe, expect, it } from 'vitest';
import type { MainJobReport } from '@grantstream/harness';
import { ENTRY, runTs } from '@grantstream/testing';

/** Metric families the batch must drive above zero on some service (histograms by their _count). */
const ACTIVE_FAMILIES = [
  'grantstream_consumer_lag',
  'grantstream_stage_messages_in_total',
  'grantstream_stage_records_out_total',
  'grantstream_stage_dead_letters_total',
  'grantstream_stage_handling_seconds_count',
  'grantstream_stage_latency_seconds_count',
  'grantstream_stage_transactions_committed_total',
  'grantstream_stage_paused_partitions',
  'grantstream_funder_api_request_seconds_count',
  'grantstream_funder_limiter_queued',
  'grantstream_funder_limiter_running',
  'grantstream_submission_attempts_total',
  'grantstream_submission_retries_total',
  'process_resident_memory_bytes',
  'nodejs_heap_size_used_bytes',
];
/**
 * Families that only move on a failure the sample batch does not cause: served
 * (so dashboards and alerts have a series), and driven above zero by the
 * scenarios that cause them (runner-broker-restart: aborts; submission-
 * rejection-circuit: an open circuit; runner-memory-pressure: the guard).
 */
const FAILURE_FAMILIES = [
  'grantstream_stage_transactions_aborted_total',
  'grantstream_funder_circuit_state',
  'grantstream_stage_memory_paused',
];

/** Each bad input the stages must catch: the example defect, where it must end, and why. */
const BAD_INPUTS: readonly [defect: string, destination: string, category: string, code: string][] =
  [
    ['unknown-funder', 'dlq', 'UNKNOWN_FUNDER', 'UNKNOWN_FUNDER'],
    ['deadline-passed', 'blocked', 'COMPLIANCE_BLOCK', 'DEADLINE_PASSED'],
    ['missing-required-field', 'blocked', 'COMPLIANCE_BLOCK', 'MISSING_REQUIRED_FIELD'],
    ['title-too-long', 'blocked', 'COMPLIANCE_BLOCK', 'TRUNCATION_RISK'],
    ['path-traversal', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_TRAVERSAL'],
    ['path-traversal-encoded', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_TRAVERSAL'],
    ['absolute-uri-outside-root', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['symlink-outside-root', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['attachment-not-found', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_NOT_FOUND'],
    ['checksum-mismatch', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_CHECKSUM_MISMATCH'],
    ['executable-as-pdf', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_TYPE_MISMATCH'],
    ['oversize-attachment', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_TOO_LARGE'],
    ['duplicate-filenames', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_FILENAME_INVALID'],
    ['too-many-metadata-keys', 'dlq', 'SCHEMA_VIOLATION', 'METADATA_TOO_MANY_KEYS'],
  ];

describe('pipeline end to end (main job)', () => {
  it(
    'routes, blocks or dead-letters every example application as its fixture says, and follows the forwarded ones to a terminal status',
    { timeout: 480_000 },
    async () => {
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
          expect(['SCHEMA_VIOLATION', 'UNKNOWN_FUNDER', 'ATTACHMENT_INVALID']).toContain(
            o.category,
          );
        if (o.destination === 'blocked')
          expect(o.category).toMatch(/COMPLIANCE_BLOCK|UNKNOWN_FUNDER/);
      }

      // Every kind of bad input is in the batch and ended where, and why, it must.
      for (const [defect, destination, category, code] of BAD_INPUTS) {
        const hits = Object.values(report.outcomes).filter((o) => o.defect === defect);
        expect(hits.length, defect).toBeGreaterThan(0);
        for (const o of hits) {
          expect(o.destination, defect).toBe(destination);
          expect(o.category, defect).toBe(category);
          expect(o.codes, defect).toContain(code);
        }
      }
      // A deadline inside the buffer: a warning for NSF and BCF, a block for SCDA.
      const atRisk = Object.entries(report.outcomes).filter(
        ([, o]) => o.defect === 'deadline-at-risk',
      );
      expect(atRisk.length).toBeGreaterThan(0);
      for (const [id, o] of atRisk) {
        expect(o.codes).toContain('DEADLINE_AT_RISK');
        expect(o.destination).toBe(id.startsWith('SCDA-') ? 'blocked' : 'routed');
      }

      // Every forwarded grant reached a final status at its funder.
      expect(report.unfinished).toEqual([]);
      let submitted = 0;
      for (const [funder, row] of Object.entries(report.byFunder)) {
        expect(row.submitted, funder).toBe(row.routed);
        expect(row.accepted + row.rejected + (row.deadLettered - row.dlq), funder).toBe(
          row.submitted,
        );
        submitted += row.submitted;
        if (row.submitted > 0) expect(row.timeToTerminalMs.p99, funder).toBeGreaterThan(0);
      }
      expect(submitted).toBeGreaterThan(100);
      const accepted = Object.values(report.byFunder).reduce((n, r) => n + r.accepted, 0);
      expect(accepted).toBeGreaterThan(submitted / 2);

      // One chain per application: three events when it passed ingest, one when
      // dead-lettered there, and for each forwarded grant its portal attempts and
      // status changes besides.
      expect(report.audit.ok).toBe(true);
      expect(report.audit.findings).toEqual([]);
      expect(report.audit.grants).toBe(report.applications);
      const dlq = Object.values(report.outcomes).filter((o) => o.destination === 'dlq').length;
      expect(report.audit.events).toBeGreaterThanOrEqual(
        dlq + 3 * (report.applications - dlq) + submitted,
      );
      // The compliance officer heard about every block and every dead letter at ingest.
      const blocked = Object.values(report.outcomes).filter(
        (o) => o.destination === 'blocked',
      ).length;
      expect(report.notificationsDelivered).toBeGreaterThanOrEqual(blocked + dlq);

      // Every service answered its scrapes, and every metric family carried values.
      expect(report.metrics.scrapes).toBeGreaterThan(5);
      expect(report.metrics.failures).toEqual({});
      const idle = ACTIVE_FAMILIES.filter((name) => !((report.metrics.peaks[name] ?? 0) > 0));
      expect(idle).toEqual([]);
      for (const name of FAILURE_FAMILIES) expect(report.metrics.peaks[name], name).toBeDefined();
    },
  );
});
