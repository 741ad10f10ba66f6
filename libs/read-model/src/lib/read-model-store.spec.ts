import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, type AuditEventV1, type GrantStatusV1 } from '@grantstream/contracts';
import { ReadModelStoreError } from '@grantstream/errors';
import { auditTrail, type TrailStep } from './audit-trail.fixture';
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
import { grantOrderOf } from './grant-search-sql';
import { ReadModelStore, type GrantQuery, type ProjectionBatch } from './read-model-store';
import { topicLag } from './lag';

const T0 = Date.UTC(2026, 2, 1, 9, 0);
const DAY = 86_400_000;

/** A trail of events for one grant, chained from genesis. */
const trail = (grantId: string, steps: TrailStep[], from = T0) => auditTrail(grantId, steps, from);

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

describe('ReadModelStore category search', () => {
  const CATEGORIES = ['COMPLIANCE_BLOCK', 'API_RATE_LIMIT', 'NETWORK_TIMEOUT'];
  const STEPS: TrailStep[] = [
    { stage: 'ingest', action: 'VALIDATED' },
    { stage: 'routing', action: 'FORWARD' },
    { stage: 'submission', action: 'RETRY' },
    { stage: 'routing', action: 'REJECT' },
  ];

  /**
   * 300 grants of two funders, each with 1 to 4 events in two batches; some
   * events carry an error category, and events arriving in the second batch
   * move a categorized grant's last activity after its category was stored.
   */
  function generatedBatches(): ProjectionBatch[] {
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
      return (seed >>> 16) % n;
    };
    const first: AuditRow[] = [];
    const second: AuditRow[] = [];
    for (let g = 0; g < 300; g += 1) {
      const id = `${g % 3 === 0 ? 'DOE' : 'NSF'}-2026-${String(g).padStart(3, '0')}`;
      const steps = STEPS.slice(0, 1 + rand(4)).map((step) => {
        const category = rand(3) === 0 ? CATEGORIES[rand(CATEGORIES.length)] : undefined;
        return category === undefined ? step : { ...step, errorCategory: category };
      });
      // Grants start at shuffled times, several at the same minute (ties on last activity).
      const rows = rowsOf(trail(id, steps, T0 + rand(200) * 60_000));
      const split = rand(rows.length + 1);
      first.push(...rows.slice(0, split));
      second.push(...rows.slice(split));
    }
    return [batch({ audit: first }), batch({ audit: second })];
  }

  /** The search before the category column: every match of `grants`, sorted by recency. */
  function previousSearch(db: SqliteDatabase, q: GrantQuery): string[] {
    const where = ['grant_id IN (SELECT grant_id FROM grant_categories WHERE category = ?)'];
    const values: (string | number)[] = [q.category ?? ''];
    const add = (clause: string, v: string | number | undefined) => {
      if (v === undefined) return;
      where.push(clause);
      values.push(v);
    };
    add('funder_id = ?', q.funder);
    add('state = ?', q.status);
    add('last_at >= ?', q.from);
    add('last_at < ?', q.to);
    return db
      .all(
        `SELECT grant_id FROM grants WHERE ${where.join(' AND ')}
         ORDER BY last_at DESC, grant_id LIMIT ?`,
        [...values, q.limit],
      )
      .map((r) => String(r['grant_id']));
  }

  const queries: GrantQuery[] = CATEGORIES.flatMap((category) => [
    { category, limit: 10 },
    { category, limit: 1000 },
    { category, funder: 'DOE', limit: 7 },
    { category, status: 'REJECT', limit: 5 },
    { category, funder: 'NSF', status: 'FORWARD', limit: 1000 },
    { category, from: T0 + 60 * 60_000, to: T0 + 150 * 60_000, limit: 1000 },
    { category, from: T0 + 100 * 60_000, limit: 4 },
  ]);

  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('walks the category index in result order, without a sort', () => {
    const store = ReadModelStore.open(':memory:');
    for (const b of generatedBatches()) store.apply(b);
    for (const q of [
      { category: 'API_RATE_LIMIT', limit: 10 },
      {
        category: 'API_RATE_LIMIT',
        funder: 'NSF',
        status: 'RETRY',
        from: T0,
        to: T0 + DAY,
        limit: 3,
      },
    ]) {
      const plan = store.searchPlan(q);
      expect(plan[0]).toMatch(/^SEARCH c USING (COVERING )?INDEX grant_categories_by_recency/);
      expect(plan[1]).toMatch(/^SEARCH g USING INDEX sqlite_autoindex_grants_1 \(grant_id=\?\)/);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
    }
    store.close();
  });

  it('returns what the search over every match returned, in the same order', () => {
    dir = mkdtempSync(join(tmpdir(), 'read-model-category-'));
    const path = join(dir, 'store.sqlite');
    const store = ReadModelStore.open(path);
    for (const b of generatedBatches()) store.apply(b);
    const found = queries.map((q) => store.searchGrants(q).map((g) => g.grantId));
    store.close();
    const db = new SqliteDatabase(path);
    const expected = queries.map((q) => previousSearch(db, q));
    db.close();
    // The data set exercises every query: each finds something, some fill their page.
    expect(expected.every((ids) => ids.length > 0)).toBe(true);
    expect(expected.some((ids, i) => ids.length === queries[i]?.limit)).toBe(true);
    expect(found).toEqual(expected);
  });

  it('upgrades a version 1 store in place on open, its last activity from the grant summaries', () => {
    dir = mkdtempSync(join(tmpdir(), 'read-model-v1-'));
    const path = join(dir, 'store.sqlite');
    const [first, second] = generatedBatches();
    // A version 1 store: its tables written by the version 1 DDL, its rows as
    // version 1 wrote them (categories without a last activity).
    const v1Store = ReadModelStore.open(path);
    v1Store.apply(first!);
    v1Store.close();
    const v1Rows = new SqliteDatabase(path);
    const grantsRows = v1Rows.all('SELECT * FROM grants');
    const categoryRows = v1Rows.all('SELECT category, grant_id FROM grant_categories');
    const auditRows = v1Rows.all('SELECT * FROM audit_records');
    v1Rows.close();
    rmSync(path);
    const db = new SqliteDatabase(path);
    db.exec(STORE_DDL_V1);
    db.run("INSERT INTO meta (name, value) VALUES ('schema_version', '1')");
    const insert = (table: string, rows: Record<string, unknown>[]) => {
      for (const r of rows) {
        const cols = Object.keys(r);
        db.run(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
          Object.values(r) as (string | number | null)[],
        );
      }
    };
    db.transaction(() => {
      insert('grants', grantsRows);
      insert('grant_categories', categoryRows);
      insert('audit_records', auditRows);
    });
    expect(db.all('PRAGMA table_info(grant_categories)').map((r) => r['name'])).not.toContain(
      'last_at',
    );
    db.close();
    expect(categoryRows.length).toBeGreaterThan(0);

    const store = ReadModelStore.open(path);
    expect(store.searchPlan({ category: 'API_RATE_LIMIT', limit: 10 })[0]).toMatch(
      /grant_categories_by_recency/,
    );
    // Later events move the migrated rows' last activity as they do a new store's.
    store.apply(second!);
    const found = queries.map((q) => store.searchGrants(q).map((g) => g.grantId));
    store.close();
    const migrated = new SqliteDatabase(path);
    expect(migrated.get("SELECT value FROM meta WHERE name = 'schema_version'")).toEqual({
      value: '2',
    });
    expect(
      migrated.get(
        `SELECT COUNT(*) AS n FROM grant_categories c JOIN grants g ON g.grant_id = c.grant_id
         WHERE c.last_at IS NOT g.last_at`,
      ),
    ).toEqual({ n: 0 });
    expect(found).toEqual(queries.map((q) => previousSearch(migrated, q)));
    migrated.close();
    // Opening it again migrates nothing more.
    ReadModelStore.open(path).close();
  });
});

/** The version 1 tables, as that version's code created them. */
const STORE_DDL_V1 = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset TEXT NOT NULL,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS grants (
  grant_id TEXT PRIMARY KEY, funder_id TEXT, state TEXT, status TEXT, status_at INTEGER,
  last_action TEXT, last_stage TEXT, last_action_at INTEGER, first_at INTEGER, last_at INTEGER,
  deadline INTEGER, deadline_at INTEGER, tracking_number TEXT, tracking_number_at INTEGER,
  audit_records INTEGER NOT NULL, dead_letters INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS grants_by_funder ON grants (funder_id, last_at);
CREATE INDEX IF NOT EXISTS grants_by_state ON grants (state, last_at);
CREATE INDEX IF NOT EXISTS grants_by_deadline ON grants (deadline);
CREATE INDEX IF NOT EXISTS grants_by_last_at ON grants (last_at);
CREATE INDEX IF NOT EXISTS grants_by_funder_state ON grants (funder_id, state);
CREATE INDEX IF NOT EXISTS grants_by_funder_deadline ON grants (funder_id, deadline);
CREATE TABLE IF NOT EXISTS grant_categories (
  category TEXT NOT NULL, grant_id TEXT NOT NULL, PRIMARY KEY (category, grant_id)
);
CREATE TABLE IF NOT EXISTS audit_records (
  partition INTEGER NOT NULL, record_offset INTEGER NOT NULL, record_key TEXT NOT NULL,
  grant_id TEXT NOT NULL, occurred_at INTEGER, action TEXT, event_json TEXT, undecodable TEXT,
  PRIMARY KEY (partition, record_offset)
);
CREATE INDEX IF NOT EXISTS audit_by_grant ON audit_records (grant_id);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit_records (action);
CREATE TABLE IF NOT EXISTS status_records (
  partition INTEGER NOT NULL, record_offset INTEGER NOT NULL, grant_id TEXT NOT NULL,
  observed_at INTEGER NOT NULL, status_json TEXT NOT NULL, PRIMARY KEY (partition, record_offset)
);
CREATE INDEX IF NOT EXISTS status_by_grant ON status_records (grant_id, observed_at);
CREATE TABLE IF NOT EXISTS dead_letters (
  partition INTEGER NOT NULL, record_offset INTEGER NOT NULL, grant_id TEXT NOT NULL,
  stage TEXT, category TEXT, code TEXT, source_topic TEXT, failed_at INTEGER,
  entry_json TEXT NOT NULL, record_key BLOB, record_value BLOB, headers_json TEXT NOT NULL,
  PRIMARY KEY (partition, record_offset)
);
CREATE INDEX IF NOT EXISTS dead_letters_by_time ON dead_letters (failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_category ON dead_letters (category, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_code ON dead_letters (code, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_stage ON dead_letters (stage, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_source ON dead_letters (source_topic, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_grant ON dead_letters (grant_id);
`;
