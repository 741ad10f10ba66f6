import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, buildAuditEvent, payloadHashOf } from '@grantstream/audit';
import { auditRowOf, ReadModelStore } from '@grantstream/read-model';
import { createLogger } from '@grantstream/logging';
import { ChartHistory } from '../charts/chart-history';
import { fundersPage } from '../pages/funders.page';
import { parsePrometheusText } from '../pipeline/prometheus-text';
import { FundersMonitor } from './funders-monitor';

const HOUR = 3_600_000;
// Friday 2026-11-06 15:00 in New York.
const NOW = Date.UTC(2026, 10, 6, 20, 0);

function storeWith(grants: { id: string; deadline: number; tracking?: string }[]): ReadModelStore {
  const store = ReadModelStore.open(':memory:');
  let offset = 0;
  store.apply({
    audit: grants.flatMap((g) => {
      const { event } = buildAuditEvent(
        {
          grantId: g.id,
          funderId: g.id.split('-')[0] ?? 'X',
          auditTrailId: `trail-${g.id}`,
          stage: g.tracking ? 'submission' : 'ingest',
          action: g.tracking ? 'SUBMITTED' : 'VALIDATED',
          payloadHash: payloadHashOf(Buffer.from(g.id)),
          service: { name: 'ingest', version: '1' },
          occurredAt: NOW - HOUR,
          source: { topic: 't', partition: 0, offset: offset },
          details: {
            submission_deadline: new Date(g.deadline).toISOString(),
            ...(g.tracking ? { tracking_number: g.tracking } : {}),
          },
        },
        AUDIT_GENESIS_HASH,
      );
      return [
        auditRowOf({ partition: 0, offset: String(offset++) }, `${g.id}:${event.event_id}`, event),
      ];
    }),
    statuses: [],
    deadLetters: [],
    positions: [],
  });
  return store;
}

const SCRAPE = parsePrometheusText(`
grantstream_funder_limiter_rate_per_second{funder="NSF"} 20
grantstream_funder_circuit_state{funder="NSF"} 2
grantstream_funder_circuit_next_probe_timestamp_seconds{funder="NSF"} ${(NOW + 5000) / 1000}
`);

describe('FundersMonitor', () => {
  const store = storeWith([
    { id: 'NSF-LATE', deadline: Date.UTC(2026, 10, 9, 22, 0) }, // Monday 17:00 EST: 1 business day
    { id: 'NSF-PASSED', deadline: NOW - 2 * HOUR },
    { id: 'NSF-FAR', deadline: Date.UTC(2026, 10, 30, 22, 0) },
    { id: 'NSF-FILED', deadline: Date.UTC(2026, 10, 9, 22, 0), tracking: 'TRK-1' },
    { id: 'XYZ-SOON', deadline: Date.UTC(2026, 10, 7, 12, 0) }, // Saturday, no pack: UTC
  ]);
  const history = new ChartHistory({ sampleIntervalMs: 1000, maxSamples: 10 });
  const monitor = new FundersMonitor({
    store,
    calendars: new Map([
      ['NSF', { timeZone: 'America/New_York', holidays: [], bufferBusinessDays: 3 }],
    ]),
    defaultCalendar: { timeZone: 'UTC', holidays: [], bufferBusinessDays: 0 },
    retryTopicPattern: /^grants\.submission\.retry\./,
    passedDeadlineWindowMs: 24 * HOUR,
    maxAtRisk: 10,
    history,
    logger: createLogger({ service: 'console-test', level: 'silent' }),
  });
  monitor.observe({
    snapshot: {
      at: NOW,
      stages: [
        {
          stage: 'submission',
          replicas: [],
          readyReplicas: 1,
          lag: [{ topic: 'grants.submission.retry.5s.v1', lag: 4, partitions: [] }],
          inPerSecond: 1,
          outPerSecond: 1,
          deadLettersPerSecond: 0,
          transactionsCommitted: 0,
          transactionsAborted: 0,
          pausedPartitions: 0,
          rssBytes: 0,
        },
      ],
    },
    samples: SCRAPE,
  });

  it("lists unfiled grants at risk in each funder's calendar, soonest first, and the tiers' backlog", () => {
    const view = monitor.view(NOW);
    expect(
      view.atRisk.map((g) => [g.grant.grantId, g.risk.passed, g.risk.businessDaysLeft]),
    ).toEqual([
      ['NSF-PASSED', true, 0],
      // Saturday in UTC is no business day away for a funder that needs none.
      ['XYZ-SOON', false, 0],
      ['NSF-LATE', false, 1],
    ]);
    expect(view.atRisk[2]?.risk.localDeadline).toBe('2026-11-09 17:00 EST');
    expect(view.funders.map((f) => [f.funderId, f.atRisk, f.calendar.fromPack])).toEqual([
      ['NSF', 2, true],
      ['XYZ', 1, false],
    ]);
    expect(view.funders[0]?.figures).toMatchObject({ circuit: 'open', nextProbeAt: NOW + 5000 });
    expect(view.tiers).toEqual([{ topic: 'grants.submission.retry.5s.v1', lag: 4 }]);
    expect(history.funderStates('NSF').map((s) => s.name)).toEqual(['SUBMITTED', 'VALIDATED']);
  });

  it('renders the page with the circuit, the deadline in the funder time and charts', () => {
    const view = monitor.view(NOW);
    const markup = fundersPage(
      { principal: { username: 'vera', role: 'viewer', provider: 'local' }, csrfToken: 't' },
      view,
      history,
      ['NSF'],
      null,
      NOW,
      2000,
    );
    expect(markup).toMatch(/<tr data-funder="NSF" data-circuit="open">/);
    expect(markup).toMatch(/data-field="probe">2026-11-06T20:00:05Z \(in 5 s\)/);
    expect(markup).toMatch(
      /data-grant="NSF-LATE"[\s\S]*?2026-11-09 17:00 EST[\s\S]*?1 business day</,
    );
    expect(markup).toContain('id="funder-calls-NSF"');
    expect(markup).toContain('id="funder-states-NSF"');
  });
});
