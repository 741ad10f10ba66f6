/**
 * Version of the store's tables. A store written by a newer version is
 * refused (its rows may mean something this code does not know); a store of
 * an older version is migrated in place on open ({@link STORE_MIGRATIONS}).
 *
 * 2: `grant_categories` carries each grant's last activity, indexed with the
 * category, so a category search reads its matches most recent first.
 */
export const STORE_SCHEMA_VERSION = 2;

/**
 * The read model's tables and indexes. Every page query is one indexed
 * lookup or range: grants by id, id prefix (a range on the primary key),
 * funder, state, deadline and last activity, counts by funder and state,
 * a funder's deadlines in a range, error category through its own
 * table (with the grant's last activity copied beside it, so one index
 * yields a category's grants most recent first); audit and status records by grant; dead letters by category, code,
 * stage, source topic, grant and time. Topic positions live beside the rows
 * and are written in the same transaction, so a restart resumes exactly
 * where the last committed batch ended.
 *
 * Plain SQL with no SQLite-only types, so the same tables can be created in
 * a shared server database (PostgreSQL) for a console run by several replicas.
 */
export const STORE_DDL = `
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset TEXT NOT NULL,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS grants (
  grant_id TEXT PRIMARY KEY,
  funder_id TEXT,
  state TEXT,
  status TEXT,
  status_at INTEGER,
  last_action TEXT,
  last_stage TEXT,
  last_action_at INTEGER,
  first_at INTEGER,
  last_at INTEGER,
  deadline INTEGER,
  deadline_at INTEGER,
  tracking_number TEXT,
  tracking_number_at INTEGER,
  audit_records INTEGER NOT NULL,
  dead_letters INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS grants_by_funder ON grants (funder_id, last_at);
CREATE INDEX IF NOT EXISTS grants_by_state ON grants (state, last_at);
CREATE INDEX IF NOT EXISTS grants_by_deadline ON grants (deadline);
CREATE INDEX IF NOT EXISTS grants_by_last_at ON grants (last_at);
CREATE INDEX IF NOT EXISTS grants_by_funder_state ON grants (funder_id, state);
CREATE INDEX IF NOT EXISTS grants_by_funder_deadline ON grants (funder_id, deadline);
CREATE TABLE IF NOT EXISTS grant_categories (
  category TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  last_at INTEGER,
  PRIMARY KEY (category, grant_id)
);
CREATE TABLE IF NOT EXISTS audit_records (
  partition INTEGER NOT NULL,
  record_offset INTEGER NOT NULL,
  record_key TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  occurred_at INTEGER,
  action TEXT,
  event_json TEXT,
  undecodable TEXT,
  PRIMARY KEY (partition, record_offset)
);
CREATE INDEX IF NOT EXISTS audit_by_grant ON audit_records (grant_id);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit_records (action);
CREATE TABLE IF NOT EXISTS status_records (
  partition INTEGER NOT NULL,
  record_offset INTEGER NOT NULL,
  grant_id TEXT NOT NULL,
  observed_at INTEGER NOT NULL,
  status_json TEXT NOT NULL,
  PRIMARY KEY (partition, record_offset)
);
CREATE INDEX IF NOT EXISTS status_by_grant ON status_records (grant_id, observed_at);
CREATE TABLE IF NOT EXISTS dead_letters (
  partition INTEGER NOT NULL,
  record_offset INTEGER NOT NULL,
  grant_id TEXT NOT NULL,
  stage TEXT,
  category TEXT,
  code TEXT,
  source_topic TEXT,
  failed_at INTEGER,
  entry_json TEXT NOT NULL,
  record_key BLOB,
  record_value BLOB,
  headers_json TEXT NOT NULL,
  PRIMARY KEY (partition, record_offset)
);
CREATE INDEX IF NOT EXISTS dead_letters_by_time ON dead_letters (failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_category ON dead_letters (category, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_code ON dead_letters (code, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_stage ON dead_letters (stage, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_source ON dead_letters (source_topic, failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_grant ON dead_letters (grant_id);
`;

/**
 * Indexes on columns an older version lacks: created after the migrations,
 * since a store of that version still has its old tables when {@link STORE_DDL}
 * runs (`CREATE TABLE IF NOT EXISTS` leaves them as they are).
 */
export const STORE_LATE_DDL = `
CREATE INDEX IF NOT EXISTS grant_categories_by_recency
  ON grant_categories (category, last_at DESC, grant_id);
CREATE INDEX IF NOT EXISTS grant_categories_by_grant ON grant_categories (grant_id);
`;

/**
 * The steps from each older version to the next, by the version they start
 * from; each runs in one transaction with the version bump.
 */
export const STORE_MIGRATIONS: Readonly<Record<number, string>> = {
  // The last activity of a grant already known is its summary's.
  1: `
ALTER TABLE grant_categories ADD COLUMN last_at INTEGER;
UPDATE grant_categories
  SET last_at = (SELECT g.last_at FROM grants g WHERE g.grant_id = grant_categories.grant_id);
`,
};
