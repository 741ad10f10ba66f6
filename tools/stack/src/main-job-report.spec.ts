import { describe, expect, it } from 'vitest';
import type { VerificationReport } from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';
import type { Destination, FinalState, GrantOutcome } from '@grantstream/harness';
import {
  buildMainJobReport,
  mismatchOf,
  percentile,
  type ExpectedGrant,
  type MainJobReadings,
} from './main-job-report';

const SUBMITTED_AT = 1_000_000;

const expect_ = (
  destination: Destination,
  codes: string[],
  category?: string,
  defect: string | null = null,
): ExpectedGrant => ({ destination, codes, ...(category ? { category } : {}), defect });
const outcome = (
  destination: Destination,
  codes: string[],
  category: string | null,
): GrantOutcome => ({
  destination,
  codes,
  category,
  latencyMs: 40,
});
const final = (state: FinalState['state'], afterMs: number): FinalState => ({
  state,
  trackingNumber: state === 'accepted' ? 'NSF-TN-1' : null,
  category: state === 'dead_letter' ? 'FUNDER_API' : null,
  stage: state === 'dead_letter' ? 'submission' : null,
  atMs: SUBMITTED_AT + afterMs,
});
const events = (...actions: AuditEventV1['action'][]) => actions.map((action) => ({ action }));
const verified = (ok = true, findings = 0): VerificationReport =>
  ({
    grants: 6,
    ok,
    findings: Array.from({ length: findings }, (_, i) => ({ grantId: `G-${i}`, kind: 'GAP' })),
  }) as unknown as VerificationReport;

const CHECKPOINT = {
  origin: 'grantstream.local/audit',
  treeSize: 120,
  rootHash: 'ab'.repeat(32),
  signedAt: '2026-12-07T00:00:00.000Z',
  runEvents: 7,
  waitedMs: 900,
};

/** Two funders: accepted, rejected, dead-lettered at ingest; blocked, dead-lettered at submission, duplicate. */
function readings(): MainJobReadings {
  return {
    runTag: 'RT',
    expected: new Map([
      ['NSF-1-RT', expect_('routed', [])],
      ['NSF-2-RT', expect_('routed', ['DEADLINE_AT_RISK'], undefined, 'deadline-at-risk')],
      [
        'NSF-3-RT',
        expect_('dlq', ['ATTACHMENT_NOT_FOUND'], 'ATTACHMENT_INVALID', 'attachment-not-found'),
      ],
      ['BCF-1-RT', expect_('blocked', ['DEADLINE_PASSED'], 'COMPLIANCE_BLOCK', 'deadline-passed')],
      ['BCF-2-RT', expect_('routed', [])],
      ['BCF-3-RT', expect_('routed', [])],
    ]),
    routing: {
      outcomes: new Map([
        ['NSF-1-RT', outcome('routed', [], null)],
        ['NSF-3-RT', outcome('dlq', ['ATTACHMENT_NOT_FOUND'], 'ATTACHMENT_INVALID')],
        ['NSF-2-RT', outcome('routed', ['DEADLINE_AT_RISK'], null)],
        ['BCF-1-RT', outcome('blocked', ['DEADLINE_PASSED'], 'COMPLIANCE_BLOCK')],
        ['BCF-2-RT', outcome('routed', [], null)],
        ['BCF-3-RT', outcome('routed', [], null)],
      ]),
      duplicates: [],
      missing: [],
    },
    finals: {
      finals: new Map([
        ['NSF-1-RT', final('accepted', 1_500)],
        ['NSF-2-RT', final('rejected', 3_000)],
        ['BCF-2-RT', final('dead_letter', 9_000)],
        ['BCF-3-RT', final('duplicate', 2_000)],
      ]),
      missing: [],
    },
    audit: {
      report: verified(),
      events: new Map([
        ['NSF-1-RT', events('INGESTED', 'RETRY', 'RETRY', 'SUBMITTED')],
        ['NSF-3-RT', events('DEAD_LETTER')],
        ['BCF-2-RT', events('INGESTED', 'RETRY')],
      ]),
    },
    notificationsDelivered: 3,
    metrics: {
      scrapes: 5,
      failures: {},
      peaks: {
        process_resident_memory_bytes: 104857600,
        grantstream_consumer_lag: 12,
        process_cpu_seconds_total: 4,
        nodejs_heap_size_used_bytes: 2048,
        grantstream_funder_limiter_queued: 1,
      },
    },
    timings: {
      startedAtMs: SUBMITTED_AT - 30_000,
      submittedAtMs: SUBMITTED_AT,
      finishedAtMs: SUBMITTED_AT + 10_000,
    },
    checkpoint: CHECKPOINT,
  };
}

/** The report as `--json` prints it, field order included. */
const PINNED = {
  runTag: 'RT',
  ok: true,
  applications: 6,
  decided: 6,
  missing: [],
  duplicates: [],
  unfinished: [],
  mismatches: [],
  byFunder: {
    NSF: {
      expected: 3,
      routed: 2,
      blocked: 0,
      dlq: 1,
      accepted: 1,
      rejected: 1,
      deadLettered: 1,
      duplicate: 0,
      retries: 2,
      submitted: 2,
      timeToTerminalMs: { p50: 1_500, p99: 3_000 },
    },
    BCF: {
      expected: 3,
      routed: 2,
      blocked: 1,
      dlq: 0,
      accepted: 0,
      rejected: 0,
      deadLettered: 1,
      duplicate: 1,
      retries: 1,
      submitted: 2,
      timeToTerminalMs: { p50: 2_000, p99: 2_000 },
    },
  },
  outcomes: {
    'NSF-1-RT': {
      destination: 'routed',
      codes: [],
      category: null,
      latencyMs: 40,
      defect: null,
      final: {
        state: 'accepted',
        trackingNumber: 'NSF-TN-1',
        category: null,
        stage: null,
        atMs: 1_001_500,
      },
    },
    'NSF-3-RT': {
      destination: 'dlq',
      codes: ['ATTACHMENT_NOT_FOUND'],
      category: 'ATTACHMENT_INVALID',
      latencyMs: 40,
      defect: 'attachment-not-found',
      final: null,
    },
    'NSF-2-RT': {
      destination: 'routed',
      codes: ['DEADLINE_AT_RISK'],
      category: null,
      latencyMs: 40,
      defect: 'deadline-at-risk',
      final: {
        state: 'rejected',
        trackingNumber: null,
        category: null,
        stage: null,
        atMs: 1_003_000,
      },
    },
    'BCF-1-RT': {
      destination: 'blocked',
      codes: ['DEADLINE_PASSED'],
      category: 'COMPLIANCE_BLOCK',
      latencyMs: 40,
      defect: 'deadline-passed',
      final: null,
    },
    'BCF-2-RT': {
      destination: 'routed',
      codes: [],
      category: null,
      latencyMs: 40,
      defect: null,
      final: {
        state: 'dead_letter',
        trackingNumber: null,
        category: 'FUNDER_API',
        stage: 'submission',
        atMs: 1_009_000,
      },
    },
    'BCF-3-RT': {
      destination: 'routed',
      codes: [],
      category: null,
      latencyMs: 40,
      defect: null,
      final: {
        state: 'duplicate',
        trackingNumber: null,
        category: null,
        stage: null,
        atMs: 1_002_000,
      },
    },
  },
  audit: { grants: 6, events: 7, ok: true, findings: [] },
  notificationsDelivered: 3,
  metrics: {
    scrapes: 5,
    failures: {},
    peaks: {
      grantstream_consumer_lag: 12,
      grantstream_funder_limiter_queued: 1,
      nodejs_heap_size_used_bytes: 2048,
      process_resident_memory_bytes: 104857600,
    },
  },
  timeToTerminalMs: { p50: 2_000, p99: 3_000 },
  totalMs: 40_000,
  checkpoint: CHECKPOINT,
};

describe('buildMainJobReport', () => {
  it('prints exactly the pinned JSON, field order included', () => {
    expect(JSON.stringify(buildMainJobReport(readings()))).toBe(JSON.stringify(PINNED));
  });

  it('counts per funder where routing sent each grant and how the forwarded ones ended', () => {
    const { byFunder } = buildMainJobReport(readings());
    // A dead letter at ingest and one at submission both count as dead-lettered.
    expect(byFunder.NSF).toMatchObject({
      submitted: 2,
      accepted: 1,
      rejected: 1,
      dlq: 1,
      deadLettered: 1,
    });
    expect(byFunder.BCF).toMatchObject({
      submitted: 2,
      blocked: 1,
      deadLettered: 1,
      duplicate: 1,
      retries: 1,
    });
    // Only accepted, rejected and duplicate grants have a time to a terminal status.
    expect(byFunder.BCF?.timeToTerminalMs).toEqual({ p50: 2_000, p99: 2_000 });
  });

  it('gives zeros for a funder with no terminal grant, and keeps only the first 20 findings', () => {
    const input = readings();
    input.finals = { finals: new Map(), missing: ['NSF-1-RT', 'NSF-2-RT', 'BCF-2-RT', 'BCF-3-RT'] };
    input.audit.report = verified(false, 25);
    const report = buildMainJobReport(input);
    expect(report.byFunder.NSF?.timeToTerminalMs).toEqual({ p50: 0, p99: 0 });
    expect(report.timeToTerminalMs).toEqual({ p50: 0, p99: 0 });
    expect(report.audit.findings).toHaveLength(20);
  });

  it('is ok only with nothing missing, duplicated, unfinished or unlike the fixtures and a verified audit', () => {
    const breaks: [string, (r: MainJobReadings) => void][] = [
      [
        'a mismatch',
        (r) => {
          r.routing.outcomes = new Map([
            ...r.routing.outcomes,
            ['BCF-1-RT', outcome('routed', [], null)],
          ]);
        },
      ],
      [
        'a missing outcome',
        (r) => {
          r.routing.outcomes = new Map([...r.routing.outcomes].slice(1));
          r.routing.missing = ['NSF-1-RT'];
        },
      ],
      ['a duplicate outcome', (r) => (r.routing.duplicates = ['NSF-1-RT'])],
      ['an unfinished grant', (r) => (r.finals.missing = ['BCF-2-RT'])],
      ['a broken audit chain', (r) => (r.audit.report = verified(false, 1))],
    ];
    expect(buildMainJobReport(readings()).ok).toBe(true);
    for (const [what, breakIt] of breaks) {
      const input = readings();
      breakIt(input);
      expect(buildMainJobReport(input).ok, what).toBe(false);
    }
  });
});

describe('mismatchOf', () => {
  const cases: [string, ExpectedGrant, GrantOutcome | undefined, boolean][] = [
    [
      'dead letter: first code agrees',
      expect_('dlq', ['A', 'B']),
      outcome('dlq', ['A'], null),
      true,
    ],
    [
      'dead letter: first code differs',
      expect_('dlq', ['A']),
      outcome('dlq', ['B', 'A'], null),
      false,
    ],
    [
      'routed: every expected code present',
      expect_('routed', ['A', 'B']),
      outcome('routed', ['B', 'C', 'A'], null),
      true,
    ],
    [
      'routed: an expected code absent',
      expect_('routed', ['A', 'B']),
      outcome('routed', ['A'], null),
      false,
    ],
    [
      'blocked: every expected code present',
      expect_('blocked', ['A']),
      outcome('blocked', ['A', 'X'], 'COMPLIANCE_BLOCK'),
      true,
    ],
    [
      'blocked: an expected code absent',
      expect_('blocked', ['A', 'B']),
      outcome('blocked', ['B'], 'COMPLIANCE_BLOCK'),
      false,
    ],
    [
      'category compared when expected',
      expect_('dlq', ['A'], 'SCHEMA_VIOLATION'),
      outcome('dlq', ['A'], 'ATTACHMENT_INVALID'),
      false,
    ],
    [
      'category ignored when not expected',
      expect_('blocked', []),
      outcome('blocked', [], 'UNKNOWN_FUNDER'),
      true,
    ],
    [
      'another destination',
      expect_('routed', []),
      outcome('blocked', [], 'COMPLIANCE_BLOCK'),
      false,
    ],
    ['no outcome', expect_('routed', []), undefined, false],
  ];
  it.each(cases)('%s', (_, want, got, agrees) => {
    expect(mismatchOf('G-1', want, got) === null).toBe(agrees);
  });

  it('names what was expected and what came', () => {
    expect(mismatchOf('G-1', expect_('blocked', ['A', 'B']), outcome('routed', ['C'], null))).toBe(
      'G-1: expected blocked A,B, got routed C',
    );
    expect(mismatchOf('G-2', expect_('dlq', ['A']), undefined)).toBe(
      'G-2: expected dlq A, got nothing',
    );
  });
});

describe('percentile', () => {
  it('takes the nearest rank of an ascending list, 0 for none', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBe(0);
  });
});
