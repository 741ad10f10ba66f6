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
// scraped while the batch ran, carried values for every metric family. The
// same run serves its console (--serve): in a real headless Chromium an
// operator signs in with the password the job printed, finds a forwarded grant
// of the batch by its id, and sees its timeline (validated, normalized,
// routed, submitted, status) under a verified chain badge; Ctrl-C (SIGINT)
// then ends the job cleanly.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MainJobReport } from '@grantstream/harness';
import { ENTRY, WORKSPACE_ROOT, freePort, spawnTs } from '@grantstream/testing';
import { README_VIEWPORT, launchChromium, signIn } from '../support/browser';

/** Where the screenshot of the sample grant's page is kept (dist/ is not committed). */
const SHOTS = join(WORKSPACE_ROOT, 'dist/test-output/console');
/** The decisions a forwarded, accepted grant's timeline shows, as "stage decision" (ingest validates). */
const LIFE_DECISIONS = [
  'ingest VALIDATED',
  'normalization NORMALIZED',
  'routing FORWARD',
  'submission SUBMITTED',
  'status-polling STATUS_CHANGED',
];

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
    { timeout: 600_000 },
    async () => {
      // A users file of the test's own: the job creates it and prints its
      // operator's one-time password (the state dir's file exists already).
      const dir = mkdtempSync(join(tmpdir(), 'main-job-console-'));
      const job = spawnTs(
        ENTRY.mainJob,
        ['--serve', '--json', '--console-users', join(dir, 'users.json')],
        { GRANTSTREAM__CONSOLE__PORT: String(await freePort()) },
      );
      try {
        const printed = await Promise.race([
          job.waitFor((e) => 'outcomes' in e && 'audit' in e, 420_000),
          job.exited.then((code) => {
            throw new Error(
              `main job exited ${code} before its report:\n${job.stderr().slice(-4000)}`,
            );
          }),
        ]);
        checkReport(printed as unknown as MainJobReport);
        // The console's summary lines follow the report, on stderr.
        await expect
          .poll(() => job.stderr(), { timeout: 30_000 })
          .toMatch(/sign in as \S+ with \S+ /);
        await checkConsole(printed as unknown as MainJobReport, job.stderr(), dir);
        job.child.kill('SIGINT');
        expect(await job.exited, job.stderr().slice(-4000)).toBe(0);
      } finally {
        if (job.child.exitCode === null) {
          job.child.kill('SIGINT');
          await job.exited;
        }
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

/** The report's assertions: every application where its fixture says, every forwarded one finished. */
function checkReport(report: MainJobReport): void {
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
    if (o.destination === 'blocked') expect(o.category).toMatch(/COMPLIANCE_BLOCK|UNKNOWN_FUNDER/);
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
  const atRisk = Object.entries(report.outcomes).filter(([, o]) => o.defect === 'deadline-at-risk');
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
    expect(row.accepted + row.rejected + (row.deadLettered - row.dlq), funder).toBe(row.submitted);
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
  const blocked = Object.values(report.outcomes).filter((o) => o.destination === 'blocked').length;
  expect(report.notificationsDelivered).toBeGreaterThanOrEqual(blocked + dlq);

  // Every service answered its scrapes, and every metric family carried values.
  expect(report.metrics.scrapes).toBeGreaterThan(5);
  expect(report.metrics.failures).toEqual({});
  const idle = ACTIVE_FAMILIES.filter((name) => !((report.metrics.peaks[name] ?? 0) > 0));
  expect(idle).toEqual([]);
  for (const name of FAILURE_FAMILIES) expect(report.metrics.peaks[name], name).toBeDefined();
}

/**
 * The console the job serves, in Chromium: sign in with the printed password,
 * find an accepted grant of the batch by its id, check its page, and keep a
 * 1280x800 picture of it (the README's).
 */
async function checkConsole(report: MainJobReport, stderr: string, dir: string): Promise<void> {
  const url = /^console (http\S+)$/m.exec(stderr)?.[1];
  const signInLine = /sign in as (\S+) with (\S+) /.exec(stderr);
  expect(url, 'console URL in the summary').toBeDefined();
  expect(signInLine, 'one-time password in the summary').not.toBeNull();
  const [, username, password] = signInLine!;
  const grant = Object.entries(report.outcomes).find(
    ([, o]) =>
      o.destination === 'routed' && o.final?.state === 'accepted' && o.final.trackingNumber,
  );
  expect(grant, 'an accepted grant with a tracking number').toBeDefined();
  const [grantId, outcome] = grant!;
  const tracking = outcome.final!.trackingNumber!;

  mkdirSync(SHOTS, { recursive: true });
  const context = await launchChromium(join(dir, 'profile'), README_VIEWPORT);
  try {
    const page = await context.newPage();
    await page.goto(`${url}/grants`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await signIn(page, username!, password!);
    // The read model follows the topics; search until it has the grant's whole life.
    await expect
      .poll(
        async () => {
          await page.goto(`${url}/grants`);
          await page.getByLabel('Grant id').fill(grantId);
          await page.getByLabel('Match').selectOption('exact');
          await page.getByRole('button', { name: 'Search' }).click();
          if ((await page.getByRole('link', { name: grantId }).count()) !== 1) return [];
          await page.getByRole('link', { name: grantId }).click();
          await page.waitForURL(new RegExp(`/grants/${grantId}$`));
          const rows = page.locator('section[aria-labelledby=timeline] tbody tr');
          const stages = await rows.locator('td:nth-child(3)').allInnerTexts();
          const decisions = await rows.locator('td:nth-child(4)').allInnerTexts();
          return stages.map((stage, i) => `${stage} ${decisions[i]}`);
        },
        { timeout: 120_000, interval: 1_000 },
      )
      .toEqual(expect.arrayContaining(LIFE_DECISIONS));
    expect(await page.locator('#chain-badge').getAttribute('data-verdict')).toBe('VERIFIED');
    expect(await page.locator('#chain-badge').innerText()).toBe('Chain verified');
    expect(await page.locator('section[aria-labelledby=timeline]').innerText()).toContain(tracking);
    await page.screenshot({ path: join(SHOTS, 'sample-grant-page.png') });
  } finally {
    await context.close();
  }
}
