import { Database, type SQLiteValue, type Statement } from 'node-sqlite3-wasm';

/** A value SQLite stores or returns: what the read model binds and reads. */
export type SqlValue = SQLiteValue;

/** One row as SQLite returns it, columns by name. */
export type SqlRow = Record<string, SqlValue>;

/**
 * The embedded SQLite database of the read model: SQLite compiled to
 * WebAssembly (node-sqlite3-wasm), reading and writing an ordinary database
 * file through Node's fs. It has no native addon, so it installs from the
 * npm registry alone on any machine and Node version; a native binding
 * (better-sqlite3) needs a prebuilt binary from GitHub or a compiler plus
 * Node's headers from nodejs.org. The price is speed (about half of native)
 * and no cross-process locking: one process owns a store file.
 *
 * node-sqlite3-wasm frees statements only when told (WebAssembly memory is
 * not garbage collected), so statements are prepared once, cached by their
 * SQL, and finalized on {@link close}.
 */
export class SqliteDatabase {
  private readonly db: Database;
  private readonly statements = new Map<string, Statement>();

  constructor(path: string) {
    this.db = new Database(path);
  }

  /** Runs statements that bind nothing and return nothing (DDL, pragmas). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs one statement; returns how many rows it changed. */
  run(sql: string, values: readonly SqlValue[] = []): number {
    return this.statement(sql).run([...values]).changes;
  }

  /** Every row a query returns. */
  all<T extends SqlRow = SqlRow>(sql: string, values: readonly SqlValue[] = []): T[] {
    return this.statement(sql).all([...values]) as T[];
  }

  /** The first row a query returns, or null. */
  get<T extends SqlRow = SqlRow>(sql: string, values: readonly SqlValue[] = []): T | null {
    return this.statement(sql).get([...values]) as T | null;
  }

  /**
   * Runs `work` in one transaction: everything it wrote is on disk together
   * or, when it throws, none of it is.
   */
  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  /** Finalizes every cached statement and closes the file. */
  close(): void {
    if (!this.db.isOpen) return;
    for (const s of this.statements.values()) if (!s.isFinalized) s.finalize();
    this.statements.clear();
    this.db.close();
  }
}
