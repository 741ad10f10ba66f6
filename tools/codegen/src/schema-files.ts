import { readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/** One `schemas/<domain>/<Record>.v<N>.avsc` file. */
export interface SchemaFile {
  readonly domain: string;
  readonly record: string;
  readonly version: number;
  /** Path relative to the schemas directory, with forward slashes. */
  readonly file: string;
}

const SCHEMA_FILE = /^([A-Z][A-Za-z0-9]*)\.v([1-9][0-9]*)\.avsc$/;

/**
 * Every versioned Avro schema under `schemasDir`, sorted by domain, record and
 * numeric version so generated output never depends on directory order.
 * A .avsc file that does not follow the naming rule is an error, not skipped:
 * a silently ignored schema is a contract CI never checks.
 */
export function listSchemaFiles(schemasDir: string): SchemaFile[] {
  const found: SchemaFile[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) {
        visit(full);
        continue;
      }
      if (!entry.endsWith('.avsc')) continue;
      const rel = relative(schemasDir, full).split(sep).join(posix.sep);
      const parts = rel.split('/');
      const match = SCHEMA_FILE.exec(entry);
      if (!match || parts.length !== 2) {
        throw new Error(`${rel}: schema files must be named <domain>/<Record>.v<N>.avsc`);
      }
      found.push({
        domain: parts[0] as string,
        record: match[1] as string,
        version: Number(match[2]),
        file: rel,
      });
    }
  };
  visit(schemasDir);
  return found.sort(
    (a, b) =>
      a.domain.localeCompare(b.domain) || a.record.localeCompare(b.record) || a.version - b.version,
  );
}
