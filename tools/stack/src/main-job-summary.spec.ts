import { describe, expect, it } from 'vitest';
import type { MainJobFunderRow, MainJobGrantOutcome, MainJobReport } from '@grantstream/harness';
import { emptyFunderRow } from './main-job-report';
import { renderMainJobSummary } from './main-job-summary';

const row = (counts: Partial<MainJobFunderRow>): MainJobFunderRow => ({
  ...emptyFunderRow(),
  ...counts,
});
const routed = (final: MainJobGrantOutcome['final']): MainJobGrantOutcome => ({
  destination: 'routed',
  codes: [],
  category: null,
  latencyMs: 10,
  defect: null,
  final,
});

function report(): MainJobReport {
  return {
    runTag: 'RT',
    ok: true,
    applications: 4,
    decided: 4,
    missing: [],
    duplicates: [],
    unfinished: [],
    mismatches: [],
    byFunder: {
      SCDA: row({ expected: 1, blocked: 1 }),
      NSF: row({
        expected: 3,
        routed: 2,
        dlq: 1,
        accepted: 1,
        rejected: 1,
        deadLettered: 1,
        retries: 4,
        submitted: 2,
        timeToTerminalMs: { p50: 1_250, p99: 12_340 },
      }),
    },
    outcomes: {
      'NSF-1-RT': routed({
        state: 'accepted',
        trackingNumber: 'T',
        category: null,
        stage: null,
        atMs: 1,
      }),
      'NSF-2-RT': routed({
        state: 'rejected',
        trackingNumber: null,
        category: null,
        stage: null,
        atMs: 2,
      }),
      'NSF-3-RT': {
        ...routed(null),
        destination: 'dlq',
        codes: ['X'],
        category: 'SCHEMA_VIOLATION',
      },
      'SCDA-1-RT': { ...routed(null), destination: 'blocked', category: 'COMPLIANCE_BLOCK' },
    },
    audit: { grants: 4, events: 11, ok: true, findings: [] },
    notificationsDelivered: 2,
    metrics: {
      scrapes: 9,
      failures: {},
      peaks: {
        grantstream_consumer_lag: 30,
        grantstream_funder_api_request_seconds_count: 7,
        process_resident_memory_bytes: 209715200,
      },
    },
    timeToTerminalMs: { p50: 1_250, p99: 12_340 },
    totalMs: 61_000,
    checkpoint: {
      origin: 'grantstream.local/audit',
      treeSize: 14_250,
      rootHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      signedAt: '2026-12-07T01:50:00.000Z',
      runEvents: 11,
      waitedMs: 1_400,
    },
  };
}

const context = { runDir: '/state/runs/RT', services: 6, auditFindings: 0 };

describe('renderMainJobSummary', () => {
  it('renders the counts, one row per funder in name order, the audit, metrics and timings', () => {
    expect(renderMainJobSummary(report(), context)).toEqual([
      '',
      'summary: 4/4 decided by routing, 2/2 forwarded grants final, 0 missing, 0 duplicated, 0 unlike the fixtures',
      '    funder   submitted  accepted  rejected  blocked  dead-lettered  retries  to terminal p50/p99',
      '    NSF              2         1         1        0              1        4  1.3 s / 12.3 s',
      '    SCDA             0         0         0        1              0        0  n/a (none filed)',
      "    audit: 4 trails, 11 events, hash chains verified; 2 notifications delivered to the compliance officer's webhook",
      '    metrics: 9 scrapes of 6 services; peaks: consumer lag 30, paused partitions 0, limiter queue 0, busiest portal series 7 calls, RSS 200 MB',
      '    time to a terminal status: p50 1.3 s, p99 12.3 s',
      "    merkle log: checkpoint of 14250 leaves, root 9f86d081884c…, signed 2026-12-07T01:50:00.000Z; 11 of the run's events are leaves under it (waited 1.4 s)",
      '    total 61000 ms; service logs in /state/runs/RT',
    ]);
  });

  it('says when the run started no checkpointer', () => {
    const r = report();
    r.checkpoint = null;
    expect(renderMainJobSummary(r, context)).toContain(
      '    merkle log: no checkpointer in this run',
    );
  });

  it('counts missing and unfinished grants together and lists up to 20 mismatches and unfinished grants', () => {
    const r = report();
    r.missing = ['NSF-9-RT'];
    r.unfinished = Array.from({ length: 25 }, (_, i) => `NSF-U${i}-RT`);
    r.mismatches = Array.from(
      { length: 22 },
      (_, i) => `NSF-M${i}-RT: expected routed , got nothing`,
    );
    r.outcomes['NSF-2-RT'] = routed(null);
    const lines = renderMainJobSummary(r, context);
    expect(lines[1]).toBe(
      'summary: 4/4 decided by routing, 1/2 forwarded grants final, 26 missing, 0 duplicated, 22 unlike the fixtures',
    );
    expect(lines.filter((l) => l.startsWith('    mismatch '))).toHaveLength(20);
    expect(lines.filter((l) => l.startsWith('    no final status for '))).toHaveLength(20);
    expect(lines).toContain('    mismatch NSF-M0-RT: expected routed , got nothing');
    expect(lines.at(-1)).toBe('    total 61000 ms; service logs in /state/runs/RT');
  });

  it('says how many findings broke the chains, beyond the ones the report lists', () => {
    const r = report();
    r.audit = { ...r.audit, ok: false };
    r.notificationsDelivered = null;
    const audit = renderMainJobSummary(r, { ...context, auditFindings: 31 }).find((l) =>
      l.startsWith('    audit:'),
    );
    expect(audit).toBe(
      "    audit: 4 trails, 11 events, hash chains BROKEN (31 findings); null notifications delivered to the compliance officer's webhook",
    );
  });

  it('gives a time to a terminal status to a funder whose only final grants are duplicates', () => {
    const r = report();
    r.byFunder.SCDA = row({
      routed: 1,
      submitted: 1,
      duplicate: 1,
      timeToTerminalMs: { p50: 900, p99: 900 },
    });
    const scda = renderMainJobSummary(r, context).find((l) => l.startsWith('    SCDA'));
    expect(scda).toMatch(/0\.9 s \/ 0\.9 s$/);
  });
});
