import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  buildAuditEvent,
  payloadHashOf,
  type AuditDecision,
} from '@grantstream/audit';
import { DLQ_HEADERS, type AuditEventV1, type GrantStatusV1 } from '@grantstream/contracts';
import { ReadModelStoreError } from '@grantstream/errors';
import { SqliteDatabase } from './sqlite-database';
import {
  auditRowOf,
  deadLetterRowOf,
  mergeGrantSummary,
  auditContribution,
  statusContribution,
  type AuditRow,
  type StatusRow,
} from './projection';
import { ReadModelStore, grantOrderOf, type ProjectionBatch } from './read-model-store';
import { topicLag } from './lag';

const T0 = Date.UTC(2026, 2, 1, 9, 0);
const DAY = 86_400_000;

/** A trail of events for one grant, chained from genesis. */
function trail(
  grantId: string,
  steps: (Pick<AuditDecision, 'stage' | 'action'> & Partial<AuditDecision>)[],
  from = T0,
): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return steps.map((step, i) => {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: grantId.split('-')[0] ?? 'X',
        auditTrailId: `trail-${grantId}`,
        payloadHash: payloadHashOf(Buffer.from(`${grantId}:${i}`)),
        service: { name: step.stage, version: '1.0.0' },
        occurredAt: from + i * 60_000,
        source: { topic: `grants.${step.stage}.v1`, partition: 0, offset: i },
        ...step,
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

let offsets = 0;
const rowsOf = (events: AuditEventV1[]): AuditRow[] =>
  events.map((e) =>
    auditRowOf({ partition: 0, offset: String(offsets++) }, `${e.grant_id}:${e.event_id}`, e),
  );

function status(grantId: string, s: GrantStatusV1['status'], at: number): StatusRow {
  return {
    partition: 1,
    offset: String(offsets++),
    grantId,
    status: {
      grant_id: grantId,
      funder_id: grantId.split('-')[0] ?? 'X',
      funder_portal: 'portal',
      audit_trail_id: `trail-${grantId}`,
      idempotency_key: 'k',
      tracking_number: 'TRK-1',
      status: s,
      portal_messages: [],
      terminal: s === 'AGENCY_TRACKING_NUMBER_ASSIGNED',
      submitted_at: at,
      observed_at: at,
      next_poll_at: null,
      attempt: 0,
    },
  };
}

const batch = (b: Partial<ProjectionBatch>): ProjectionBatch => ({
  audit: [],
  statuses: [],
  deadLetters: [],
  positions: [],
  ...b,
});

function deadLetter(offset: number, grantId: string, headers: Record<string, string>) {
  return deadLetterRowOf({
    topic: 'grants.dlq.v1',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(grantId),
    value: Buffer.from([0, 0, 0, 0, 7, 0xff, 0x3c]),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestamp: String(T0),
  });
}

describe('ReadModelStore', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'read-model-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function filled(): ReadModelStore {
    const store = ReadModelStore.open(':memory:');
    store.apply(
      batch({
        audit: [
          ...rowsOf(
            trail('NSF-2026-001', [
              {
                stage: 'ingest',
                action: 'VALIDATED',
                details: { submission_deadline: String(T0 + 10 * DAY) },
              },
              { stage: 'routing', action: 'FORWARD', ruleSetVersion: 'nsf-3' },
              { stage: 'submission', action: 'SUBMITTED', details: { tracking_number: 'TRK-1' } },
            ]),
          ),
          ...rowsOf(
            trail(
              'NSF-2026-002',
              [
                { stage: 'ingest', action: 'VALIDATED' },
                {
                  stage: 'routing',
                  action: 'REJECT',
                  errorCategory: 'COMPLIANCE_BLOCK',
                  severity: 'HIGH',
                },
              ],
              T0 + DAY,
            ),
          ),
          ...rowsOf(
            trail(
              'DOE-2026-001',
              [
                {
                  stage: 'ingest',
                  action: 'VALIDATED',
                  details: { submission_deadline: new Date(T0 + 3 * DAY).toISOString() },
                },
              ],
              T0 + 2 * DAY,
            ),
          ),
        ],
        statuses: [status('NSF-2026-001', 'RECEIVED', T0 + 5 * 60_000)],
      }),
    );
    return store;
  }

  it('finds grants by exact id and by id prefix', () => {
    const store = filled();
    expect(
      store.searchGrants({ grantId: 'NSF-2026-001', limit: 10 }).map((g) => g.grantId),
    ).toEqual(['NSF-2026-001']);
    expect(
      store
        .searchGrants({ grantPrefix: 'NSF-', limit: 10 })
        .map((g) => g.grantId)
        .sort(),
    ).toEqual(['NSF-2026-001', 'NSF-2026-002']);
    expect(store.searchGrants({ grantPrefix: 'NSF-2026-00', limit: 1 })).toHaveLength(1);
  });

  it('finds grants by funder, state, error category, deadline range and last activity', () => {
    const store = filled();
    const ids = (q: Parameters<ReadModelStore['searchGrants']>[0]) =>
      store
        .searchGrants(q)
        .map((g) => g.grantId)
        .sort();
    expect(ids({ funder: 'DOE', limit: 10 })).toEqual(['DOE-2026-001']);
    // A grant with a portal status is in that status; one without is in its last decision.
    expect(ids({ status: 'RECEIVED', limit: 10 })).toEqual(['NSF-2026-001']);
    expect(ids({ status: 'REJECT', limit: 10 })).toEqual(['NSF-2026-002']);
    expect(ids({ category: 'COMPLIANCE_BLOCK', limit: 10 })).toEqual(['NSF-2026-002']);
    expect(ids({ deadlineFrom: T0, deadlineTo: T0 + 5 * DAY, limit: 10 })).toEqual([
      'DOE-2026-001',
    ]);
    expect(ids({ deadlineFrom: T0 + 5 * DAY, limit: 10 })).toEqual(['NSF-2026-001']);
    expect(ids({ from: T0 + DAY, to: T0 + 2 * DAY, limit: 10 })).toEqual(['NSF-2026-002']);
  });

  it('summarizes a grant: state, last decision, tracking number, deadline, record counts', () => {
    const g = filled().grant('NSF-2026-001');
    expect(g.summary).toMatchObject({
      funderId: 'NSF',
      state: 'RECEIVED',
      lastAction: 'SUBMITTED',
      lastStage: 'submission',
      trackingNumber: 'TRK-1',
      deadline: T0 + 10 * DAY,
      auditRecords: 3,
    });
    expect(g.audit.map((r) => r.event?.action)).toEqual(['VALIDATED', 'FORWARD', 'SUBMITTED']);
    expect(g.statuses.map((s) => s.status.status)).toEqual(['RECEIVED']);
  });

  it('stores an audit record once however often it is applied', () => {
    const store = ReadModelStore.open(':memory:');
    const rows = rowsOf(trail('NSF-2026-009', [{ stage: 'ingest', action: 'VALIDATED' }]));
    expect(store.apply(batch({ audit: rows }))).toBe(1);
    expect(store.apply(batch({ audit: rows }))).toBe(0);
    expect(store.counts()).toMatchObject({ grants: 1, auditRecords: 1 });
    expect(store.grant('NSF-2026-009').summary?.auditRecords).toBe(1);
  });

  it('keeps tombstones and undecodable records under the grant their key names', () => {
    const store = ReadModelStore.open(':memory:');
    store.apply(
      batch({
        audit: [
          auditRowOf({ partition: 2, offset: '7' }, 'NSF-2026-010:abc', null),
          auditRowOf({ partition: 2, offset: '8' }, 'NSF-2026-010:def', null, 'unknown magic byte'),
        ],
      }),
    );
    const g = store.grant('NSF-2026-010');
    expect(g.audit.map((r) => [r.offset, r.event, r.undecodable])).toEqual([
      ['7', null, null],
      ['8', null, 'unknown magic byte'],
    ]);
  });

  it('keeps positions with the rows and resumes from them after a reopen', () => {
    const path = join(tempDir(), 'model.sqlite');
    const first = ReadModelStore.open(path);
    first.apply(
      batch({
        audit: rowsOf(trail('NSF-2026-020', [{ stage: 'ingest', action: 'VALIDATED' }])),
        positions: [
          { topic: 'grants.audit.v1', partition: 0, nextOffset: '42' },
          { topic: 'grants.audit.v1', partition: 3, nextOffset: '7' },
        ],
      }),
    );
    first.close();
    const again = ReadModelStore.open(path);
    expect([...again.positions('grants.audit.v1')]).toEqual([
      [0, '42'],
      [3, '7'],
    ]);
    expect(again.positions('grants.status.v1').size).toBe(0);
    expect(again.counts().auditRecords).toBe(1);
    again.close();
  });

  it('writes nothing of a batch that fails, positions included', () => {
    const store = ReadModelStore.open(':memory:');
    const good = rowsOf(trail('NSF-2026-031', [{ stage: 'ingest', action: 'VALIDATED' }]));
    // A position the table refuses after good rows: the whole batch rolls back.
    expect(() =>
      store.apply(
        batch({
          audit: good,
          positions: [
            { topic: 't', partition: 0, nextOffset: '9' },
            { topic: 't', partition: 1, nextOffset: null as unknown as string },
          ],
        }),
      ),
    ).toThrow();
    expect(store.counts()).toMatchObject({ grants: 0, auditRecords: 0 });
    expect(store.positions('t').size).toBe(0);
  });

  it('refuses a store written by a newer schema version', () => {
    const path = join(tempDir(), 'model.sqlite');
    ReadModelStore.open(path).close();
    const db = new SqliteDatabase(path);
    db.run("UPDATE meta SET value = '999' WHERE name = 'schema_version'");
    db.close();
    expect(() => ReadModelStore.open(path)).toThrow(ReadModelStoreError);
  });

  it('finds dead letters by category, code, stage, source topic, grant and time, bytes kept', () => {
    const store = ReadModelStore.open(':memory:');
    const at = (ms: number) => new Date(ms).toISOString();
    store.apply(
      batch({
        deadLetters: [
          deadLetter(0, 'NSF-2026-040', {
            [DLQ_HEADERS.STAGE]: 'ingest',
            [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION',
            [DLQ_HEADERS.ERROR_CODE]: 'SCHEMA_UNKNOWN_ID',
            [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.ingest.v1',
            [DLQ_HEADERS.SOURCE_PARTITION]: '1',
            [DLQ_HEADERS.SOURCE_OFFSET]: '5',
            [DLQ_HEADERS.FAILED_AT]: at(T0),
          }),
          deadLetter(1, 'NSF-2026-041', {
            [DLQ_HEADERS.STAGE]: 'submission',
            [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
            [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
            [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.routed.v1',
            [DLQ_HEADERS.SOURCE_PARTITION]: '0',
            [DLQ_HEADERS.SOURCE_OFFSET]: '9',
            [DLQ_HEADERS.FAILED_AT]: at(T0 + DAY),
          }),
        ],
      }),
    );
    const positions = (q: Omit<Parameters<ReadModelStore['searchDeadLetters']>[0], 'limit'>) =>
      store.searchDeadLetters({ ...q, limit: 10 }).map((d) => d.entry.position);
    expect(positions({})).toEqual(['0:1', '0:0']);
    expect(positions({ category: 'SCHEMA_VIOLATION' })).toEqual(['0:0']);
    expect(positions({ code: 'RETRY_BUDGET_EXHAUSTED' })).toEqual(['0:1']);
    expect(positions({ stage: 'ingest' })).toEqual(['0:0']);
    expect(positions({ sourceTopic: 'grants.routed.v1' })).toEqual(['0:1']);
    expect(positions({ grant: 'NSF-2026-041' })).toEqual(['0:1']);
    expect(positions({ from: T0 + 1, to: T0 + 2 * DAY })).toEqual(['0:1']);
    const one = store.deadLetter(0, '0');
    expect(one?.value).toEqual(Buffer.from([0, 0, 0, 0, 7, 0xff, 0x3c]));
    expect(one?.headers.find((h) => h.name === DLQ_HEADERS.STAGE)?.base64).toBe(
      Buffer.from('ingest').toString('base64'),
    );
    // A dead letter counts on its grant, and its category finds the grant.
    expect(
      store.searchGrants({ category: 'NETWORK_TIMEOUT', limit: 5 }).map((g) => g.grantId),
    ).toEqual(['NSF-2026-041']);
  });
});

describe('ReadModelStore.searchGrants order', () => {
  // 60 grants: the higher the number, the more recent its activity; deadlines run
  // the other way round from number 30 down, so no order is another's by accident.
  const store = ReadModelStore.open(':memory:');
  const rows: AuditRow[] = [];
  for (let g = 0; g < 60; g += 1) {
    const id = `${g % 2 === 0 ? 'NSF' : 'DOE'}-2026-${String(g).padStart(3, '0')}`;
    const deadline = T0 + (10 + Math.abs(30 - g)) * DAY + g;
    rows.push(
      ...rowsOf(
        trail(
          id,
          [
            {
              stage: 'ingest',
              action: 'VALIDATED',
              details: { submission_deadline: String(deadline) },
            },
          ],
          T0 + g * 60_000,
        ),
      ).map((r, i) => ({ ...r, offset: String(g * 10 + i) })),
    );
  }
  store.apply(batch({ audit: rows }));
  const ids = (q: Parameters<ReadModelStore['searchGrants']>[0]) =>
    store.searchGrants(q).map((g) => g.grantId);

  it('lists an id prefix in grant id order, up to the limit', () => {
    expect(ids({ grantPrefix: 'NSF-2026-0', limit: 4 })).toEqual([
      'NSF-2026-000',
      'NSF-2026-002',
      'NSF-2026-004',
      'NSF-2026-006',
    ]);
    expect(ids({ grantPrefix: 'DOE-2026-05', status: 'VALIDATED', limit: 3 })).toEqual([
      'DOE-2026-051',
      'DOE-2026-053',
      'DOE-2026-055',
    ]);
  });

  it('lists a deadline range soonest deadline first, with other filters applied', () => {
    const from = T0 + 10 * DAY;
    expect(ids({ deadlineFrom: from, deadlineTo: from + 3 * DAY, limit: 3 })).toEqual([
      'NSF-2026-030',
      'DOE-2026-029',
      'DOE-2026-031',
    ]);
    expect(ids({ funder: 'NSF', deadlineFrom: from, limit: 3 })).toEqual([
      'NSF-2026-030',
      'NSF-2026-028',
      'NSF-2026-032',
    ]);
  });

  it('lists anything else the most recently active first', () => {
    expect(ids({ funder: 'DOE', limit: 3 })).toEqual([
      'DOE-2026-059',
      'DOE-2026-057',
      'DOE-2026-055',
    ]);
    expect(ids({ status: 'VALIDATED', to: T0 + 10 * 60_000, limit: 3 })).toEqual([
      'DOE-2026-009',
      'NSF-2026-008',
      'DOE-2026-007',
    ]);
  });

  it('names the order a query gets', () => {
    expect(grantOrderOf({ grantPrefix: 'N', deadlineFrom: 1, limit: 1 })).toBe('grant-id');
    expect(grantOrderOf({ deadlineTo: 1, funder: 'NSF', limit: 1 })).toBe('deadline');
    expect(grantOrderOf({ category: 'X', from: 1, limit: 1 })).toBe('recent');
  });
});

describe('ReadModelStore.redrivenPositions', () => {
  it('lists the dead letters a REDRIVEN event of the stage names, and no other', () => {
    const store = ReadModelStore.open(':memory:');
    const redriven = (stage: string, topic: string, offset: number) =>
      trail('NSF-2026-060', [
        { stage, action: 'REDRIVEN', source: { topic, partition: 1, offset } },
      ]);
    store.apply(
      batch({
        audit: rowsOf([
          ...redriven('grantctl', 'grants.dlq.v1', 5),
          ...redriven('grantctl', 'other.dlq', 6),
          ...redriven('submission', 'grants.dlq.v1', 7),
        ]),
      }),
    );
    expect([...store.redrivenPositions('grants.dlq.v1', 'grantctl')]).toEqual(['1:5']);
  });
});

describe('mergeGrantSummary', () => {
  it('gives the same summary whatever order the records arrive in', () => {
    const events = trail('NSF-2026-050', [
      { stage: 'ingest', action: 'VALIDATED' },
      { stage: 'routing', action: 'FORWARD' },
      { stage: 'submission', action: 'SUBMITTED', details: { tracking_number: 'T-9' } },
    ]);
    const contributions = [
      ...rowsOf(events).map(auditContribution),
      statusContribution(status('NSF-2026-050', 'RECEIVED', T0 + 10 * 60_000)),
      statusContribution(status('NSF-2026-050', 'VALIDATED', T0 + 20 * 60_000)),
    ];
    const forward = contributions.reduce(mergeGrantSummary, null as never);
    const backward = [...contributions].reverse().reduce(mergeGrantSummary, null as never);
    expect(backward).toEqual(forward);
    expect(forward).toMatchObject({
      state: 'VALIDATED',
      lastAction: 'SUBMITTED',
      lastAt: T0 + 20 * 60_000,
    });
  });
});

describe('topicLag', () => {
  it('is each partition end minus its stored position, the whole partition when never read', () => {
    const lag = topicLag(
      'grants.audit.v1',
      new Map([
        [0, '10'],
        [1, '5'],
      ]),
      new Map([[0, '7']]),
    );
    expect(lag.lag).toBe(8);
    expect(lag.partitions.map((p) => [p.partition, p.lag])).toEqual([
      [0, 3],
      [1, 5],
    ]);
  });
});
