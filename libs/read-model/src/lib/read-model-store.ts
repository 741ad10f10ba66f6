import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditEventV1Schema, GrantStatusV1Schema } from '@grantstream/contracts';
import type { AuditEventV1, GrantStatusV1 } from '@grantstream/contracts';
import type { DeadLetterEntry } from '@grantstream/dead-letters';
import { ReadModelStoreError } from '@grantstream/errors';
import {
  auditContribution,
  deadLetterContribution,
  mergeGrantSummary,
  statusContribution,
  type AuditRow,
  type DeadLetterRow,
  type GrantContribution,
  type GrantSummary,
  type StatusRow,
  type StoredHeader,
} from './projection';
import { SqliteDatabase, type SqlRow, type SqlValue } from './sqlite-database';
import { SUMMARY_COLUMNS, grantSearchSql } from './grant-search-sql';
import { STORE_DDL, STORE_LATE_DDL, STORE_MIGRATIONS, STORE_SCHEMA_VERSION } from './store-schema';

/** Where the next read of one partition starts. */
export interface TopicPosition {
  topic: string;
  partition: number;
  nextOffset: string;
}

/** What one store transaction writes: rows of each topic and the positions they reach. */
export interface ProjectionBatch {
  audit: readonly AuditRow[];
  statuses: readonly StatusRow[];
  deadLetters: readonly DeadLetterRow[];
  positions: readonly TopicPosition[];
}

/** Grant search; every given field must match. Times are epoch milliseconds, `to` exclusive. */
export interface GrantQuery {
  grantId?: string;
  grantPrefix?: string;
  funder?: string;
  /** The grant's state: its portal status, else its last decision's action. */
  status?: string;
  /** Any error category the grant's audit events or dead letters carry. */
  category?: string;
  deadlineFrom?: number;
  deadlineTo?: number;
  /** Last activity at or after. */
  from?: number;
  /** Last activity before. */
  to?: number;
  limit: number;
}

/** Dead-letter search; every given field must match. Times are epoch milliseconds, `to` exclusive. */
export interface DeadLetterQuery {
  category?: string;
  code?: string;
  stage?: string;
  sourceTopic?: string;
  grant?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** A stored audit record: the decoded event, or a tombstone, or why the value did not decode. */
export interface StoredAuditRecord {
  partition: number;
  offset: string;
  key: string;
  event: AuditEventV1 | null;
  undecodable: string | null;
}

/** A stored status record. */
export interface StoredStatus {
  partition: number;
  offset: string;
  status: GrantStatusV1;
}

/** A stored dead letter with its original bytes. */
export interface StoredDeadLetter {
  partition: number;
  offset: string;
  entry: DeadLetterEntry;
  failedAt: number | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: StoredHeader[];
}

/** Everything the store holds about one grant. */
export interface GrantRecords {
  summary: GrantSummary | null;
  audit: StoredAuditRecord[];
  statuses: StoredStatus[];
  deadLetters: StoredDeadLetter[];
}

/** How many grants of one funder are in one state (a null funder or state: not known yet). */
export interface FunderStateCount {
  funderId: string | null;
  state: string | null;
  grants: number;
}

/** How many rows each table holds. */
export interface StoreCounts {
  grants: number;
  auditRecords: number;
  statusRecords: number;
  deadLetters: number;
}

const str = (v: SqlValue | undefined): string | null =>
  v === null || v === undefined ? null : String(v);
const num = (v: SqlValue | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);
const buf = (v: SqlValue | undefined): Buffer | null =>
  v instanceof Uint8Array ? Buffer.from(v) : null;

function summaryOf(r: SqlRow): GrantSummary {
  return {
    grantId: String(r['grant_id']),
    funderId: str(r['funder_id']),
    state: str(r['state']),
    status: str(r['status']),
    statusAt: num(r['status_at']),
    lastAction: str(r['last_action']),
    lastStage: str(r['last_stage']),
    lastActionAt: num(r['last_action_at']),
    firstAt: num(r['first_at']),
    lastAt: num(r['last_at']),
    deadline: num(r['deadline']),
    deadlineAt: num(r['deadline_at']),
    trackingNumber: str(r['tracking_number']),
    trackingNumberAt: num(r['tracking_number_at']),
    auditRecords: Number(r['audit_records']),
    deadLetters: Number(r['dead_letters']),
  };
}

function deadLetterOf(r: SqlRow): StoredDeadLetter {
  return {
    partition: Number(r['partition']),
    offset: String(r['record_offset']),
    entry: JSON.parse(String(r['entry_json'])) as DeadLetterEntry,
    failedAt: num(r['failed_at']),
    key: buf(r['record_key']),
    value: buf(r['record_value']),
    headers: JSON.parse(String(r['headers_json'])) as StoredHeader[],
  };
}

/**
 * The console's read model: an indexed SQLite file holding every audit,
 * status and dead-letter record read so far, a summary row per grant, and
 * the position reached in each partition. Pages query it instead of
 * scanning topics. Writes come from one projector; {@link apply} writes a
 * batch and its positions in one transaction, and a record already stored
 * (its topic position is the primary key) is skipped, so reading a record
 * twice never counts it twice.
 */
export class ReadModelStore {
  private constructor(private readonly db: SqliteDatabase) {}

  /**
   * Opens (creating when missing) the store at `path`; `:memory:` keeps it
   * in memory. A store of an older schema version is migrated in place
   * first. Throws {@link ReadModelStoreError} when the file cannot be opened
   * or migrated, or a newer schema version wrote it.
   */
  static open(path: string): ReadModelStore {
    let db: SqliteDatabase;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new SqliteDatabase(path);
      db.exec('PRAGMA journal_mode = TRUNCATE; PRAGMA synchronous = NORMAL;');
      db.exec(STORE_DDL);
    } catch (cause) {
      throw new ReadModelStoreError(`cannot open the read model store ${path}`, { cause });
    }
    const stored = db.get('SELECT value FROM meta WHERE name = ?', ['schema_version']);
    const version = stored === null ? null : Number(stored['value']);
    if (version === null) {
      db.run('INSERT INTO meta (name, value) VALUES (?, ?)', [
        'schema_version',
        String(STORE_SCHEMA_VERSION),
      ]);
    } else if (version > STORE_SCHEMA_VERSION) {
      db.close();
      throw new ReadModelStoreError(
        `the read model store ${path} has schema version ${version}, newer than this console's ${STORE_SCHEMA_VERSION}: delete it to rebuild it from the topics`,
        { metadata: { path, version } },
      );
    }
    try {
      for (let v = version ?? STORE_SCHEMA_VERSION; v < STORE_SCHEMA_VERSION; v += 1) {
        const step = STORE_MIGRATIONS[v];
        if (step === undefined) throw new Error(`no migration from schema version ${v}`);
        db.transaction(() => {
          db.exec(step);
          db.run('UPDATE meta SET value = ? WHERE name = ?', [String(v + 1), 'schema_version']);
        });
      }
      db.exec(STORE_LATE_DDL);
    } catch (cause) {
      db.close();
      throw new ReadModelStoreError(
        `cannot migrate the read model store ${path} from schema version ${version} to ${STORE_SCHEMA_VERSION}`,
        { cause, metadata: { path, version } },
      );
    }
    return new ReadModelStore(db);
  }

  /** Where the next read of each partition of `topic` starts (partitions never read are absent). */
  positions(topic: string): Map<number, string> {
    return new Map(
      this.db
        .all('SELECT partition, next_offset FROM positions WHERE topic = ?', [topic])
        .map((r) => [Number(r['partition']), String(r['next_offset'])] as const),
    );
  }

  /**
   * Writes a batch and the positions it reaches in one transaction. Returns
   * how many records were new (a record already stored is skipped).
   */
  apply(batch: ProjectionBatch): number {
    return this.db.transaction(() => {
      let added = 0;
      for (const row of batch.audit) {
        const inserted = this.db.run(
          `INSERT OR IGNORE INTO audit_records
             (partition, record_offset, record_key, grant_id, occurred_at, action, event_json, undecodable)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            row.partition,
            Number(row.offset),
            row.key,
            row.grantId,
            row.event?.occurred_at ?? null,
            row.event?.action ?? null,
            row.event === null ? null : JSON.stringify(row.event),
            row.undecodable,
          ],
        );
        if (inserted > 0) {
          added += 1;
          this.contribute(auditContribution(row));
        }
      }
      for (const row of batch.statuses) {
        const inserted = this.db.run(
          `INSERT OR IGNORE INTO status_records
             (partition, record_offset, grant_id, observed_at, status_json)
           VALUES (?, ?, ?, ?, ?)`,
          [
            row.partition,
            Number(row.offset),
            row.grantId,
            row.status.observed_at,
            JSON.stringify(row.status),
          ],
        );
        if (inserted > 0) {
          added += 1;
          this.contribute(statusContribution(row));
        }
      }
      for (const row of batch.deadLetters) {
        const e = row.entry;
        const inserted = this.db.run(
          `INSERT OR IGNORE INTO dead_letters
             (partition, record_offset, grant_id, stage, category, code, source_topic, failed_at,
              entry_json, record_key, record_value, headers_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            row.partition,
            Number(row.offset),
            e.grantId,
            e.stage,
            e.category,
            e.code,
            e.source?.topic ?? null,
            row.failedAt,
            JSON.stringify(e),
            row.key,
            row.value,
            JSON.stringify(row.headers),
          ],
        );
        if (inserted > 0) {
          added += 1;
          this.contribute(deadLetterContribution(row));
        }
      }
      for (const p of batch.positions) {
        this.db.run(
          `INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?)
           ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset`,
          [p.topic, p.partition, p.nextOffset],
        );
      }
      return added;
    });
  }

  private contribute(c: GrantContribution): void {
    const current = this.db.get(`SELECT ${SUMMARY_COLUMNS} FROM grants WHERE grant_id = ?`, [
      c.grantId,
    ]);
    const s = mergeGrantSummary(current === null ? null : summaryOf(current), c);
    this.db.run(
      `INSERT OR REPLACE INTO grants (${SUMMARY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        s.grantId,
        s.funderId,
        s.state,
        s.status,
        s.statusAt,
        s.lastAction,
        s.lastStage,
        s.lastActionAt,
        s.firstAt,
        s.lastAt,
        s.deadline,
        s.deadlineAt,
        s.trackingNumber,
        s.trackingNumberAt,
        s.auditRecords,
        s.deadLetters,
      ],
    );
    if (c.category !== undefined) {
      this.db.run(
        'INSERT OR IGNORE INTO grant_categories (category, grant_id, last_at) VALUES (?, ?, ?)',
        [c.category, c.grantId, s.lastAt],
      );
    }
    // A category search orders by the copy of the last activity beside the
    // category; it must move with the grant's (a grant without categories
    // matches no row).
    if (current !== null && s.lastAt !== num(current['last_at'])) {
      this.db.run('UPDATE grant_categories SET last_at = ? WHERE grant_id = ?', [
        s.lastAt,
        c.grantId,
      ]);
    }
  }

  /**
   * Grants matching `q`, in the order {@link grantOrderOf} names: each is
   * read off one index in that order and stops at `limit`, so a search costs
   * about `limit` rows whatever the store holds. Sorting every match by
   * recency instead costs a row per match: a short id prefix or a month of
   * deadlines over a million events matches tens of thousands of grants.
   */
  searchGrants(q: GrantQuery): GrantSummary[] {
    const { sql, values } = grantSearchSql(q);
    return this.db.all(sql, values).map(summaryOf);
  }

  /**
   * The plan SQLite picks for {@link searchGrants} of `q` (the `detail`
   * lines of EXPLAIN QUERY PLAN): which index a search walks.
   */
  searchPlan(q: GrantQuery): string[] {
    const { sql, values } = grantSearchSql(q);
    return this.db.all(`EXPLAIN QUERY PLAN ${sql}`, values).map((r) => String(r['detail']));
  }

  /** Everything stored about one grant: its summary, audit records, statuses and dead letters. */
  grant(grantId: string): GrantRecords {
    const summary = this.db.get(`SELECT ${SUMMARY_COLUMNS} FROM grants WHERE grant_id = ?`, [
      grantId,
    ]);
    const audit = this.db
      .all(
        `SELECT partition, record_offset, record_key, event_json, undecodable
         FROM audit_records WHERE grant_id = ? ORDER BY partition, record_offset`,
        [grantId],
      )
      .map((r) => ({
        partition: Number(r['partition']),
        offset: String(r['record_offset']),
        key: String(r['record_key']),
        event:
          r['event_json'] === null
            ? null
            : AuditEventV1Schema.parse(JSON.parse(String(r['event_json']))),
        undecodable: str(r['undecodable']),
      }));
    const statuses = this.db
      .all(
        `SELECT partition, record_offset, status_json FROM status_records
         WHERE grant_id = ? ORDER BY observed_at, partition, record_offset`,
        [grantId],
      )
      .map((r) => ({
        partition: Number(r['partition']),
        offset: String(r['record_offset']),
        status: GrantStatusV1Schema.parse(JSON.parse(String(r['status_json']))),
      }));
    const deadLetters = this.db
      .all('SELECT * FROM dead_letters WHERE grant_id = ? ORDER BY failed_at', [grantId])
      .map(deadLetterOf);
    return { summary: summary === null ? null : summaryOf(summary), audit, statuses, deadLetters };
  }

  /** Dead letters matching `q`, the latest first. */
  searchDeadLetters(q: DeadLetterQuery): StoredDeadLetter[] {
    const where: string[] = [];
    const values: SqlValue[] = [];
    const add = (clause: string, v: SqlValue) => {
      where.push(clause);
      values.push(v);
    };
    if (q.category !== undefined) add('category = ?', q.category);
    if (q.code !== undefined) add('code = ?', q.code);
    if (q.stage !== undefined) add('stage = ?', q.stage);
    if (q.sourceTopic !== undefined) add('source_topic = ?', q.sourceTopic);
    if (q.grant !== undefined) add('grant_id = ?', q.grant);
    if (q.from !== undefined) add('failed_at >= ?', q.from);
    if (q.to !== undefined) add('failed_at < ?', q.to);
    const sql = `SELECT * FROM dead_letters
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY failed_at DESC, partition, record_offset LIMIT ?`;
    return this.db.all(sql, [...values, q.limit]).map(deadLetterOf);
  }

  /** Grants per funder and state (one indexed pass over the grant summaries, no topic read). */
  funderStateCounts(): FunderStateCount[] {
    return this.db
      .all(
        `SELECT funder_id, state, COUNT(*) AS n FROM grants
         GROUP BY funder_id, state ORDER BY funder_id, state`,
      )
      .map((r) => ({
        funderId: str(r['funder_id']),
        state: str(r['state']),
        grants: Number(r['n']),
      }));
  }

  /**
   * Grants of `funderId` the portal has not received (no tracking number)
   * whose deadline is in [`from`, `to`), the soonest first: the candidates
   * for "at risk of missing the deadline", judged in the funder's calendar
   * by the caller.
   */
  unfiledByDeadline(funderId: string, from: number, to: number, limit: number): GrantSummary[] {
    return this.db
      .all(
        `SELECT ${SUMMARY_COLUMNS} FROM grants
         WHERE funder_id = ? AND deadline >= ? AND deadline < ? AND tracking_number IS NULL
         ORDER BY deadline, grant_id LIMIT ?`,
        [funderId, from, to, limit],
      )
      .map(summaryOf);
  }

  /** One dead letter by its position in the dead-letter topic, or null. */
  deadLetter(partition: number, offset: string): StoredDeadLetter | null {
    const r = this.db.get('SELECT * FROM dead_letters WHERE partition = ? AND record_offset = ?', [
      partition,
      Number(offset),
    ]);
    return r === null ? null : deadLetterOf(r);
  }

  /**
   * Positions (`partition:offset`) of `deadLetterTopic` that a REDRIVEN
   * audit event of `stage` names as its source: the dead letters already
   * sent back, which a redrive must not send again.
   */
  redrivenPositions(deadLetterTopic: string, stage: string): Set<string> {
    const out = new Set<string>();
    for (const r of this.db.all(
      "SELECT event_json FROM audit_records WHERE action = 'REDRIVEN' AND event_json IS NOT NULL",
    )) {
      const e = JSON.parse(String(r['event_json'])) as AuditEventV1;
      if (e.stage === stage && e.source?.topic === deadLetterTopic) {
        out.add(`${e.source.partition}:${e.source.offset}`);
      }
    }
    return out;
  }

  /** Rows per table. */
  counts(): StoreCounts {
    const count = (table: string) =>
      Number(this.db.get(`SELECT COUNT(*) AS n FROM ${table}`)?.['n'] ?? 0);
    return {
      grants: count('grants'),
      auditRecords: count('audit_records'),
      statusRecords: count('status_records'),
      deadLetters: count('dead_letters'),
    };
  }

  close(): void {
    this.db.close();
  }
}
