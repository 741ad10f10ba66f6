import { mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ExampleApplication, ExpectedOutcomes, GeneratedExamples } from './model';

/** File names of a batch inside its output directory. */
export const OUTPUT_FILES = {
  applications: 'applications.jsonl',
  expected: 'expected-outcomes.json',
  attachments: 'attachments',
} as const;

/** The JSON-lines text of the applications (one line each, a final newline). */
export function applicationsJsonl(applications: readonly ExampleApplication[]): string {
  return applications.map((a) => `${JSON.stringify(a)}\n`).join('');
}

/**
 * The text of expected-outcomes.json, laid out the way Prettier lays out JSON
 * (short arrays on one line), so `prettier --check .` and `--check` agree.
 */
export function expectedJson(expected: ExpectedOutcomes): string {
  const text = JSON.stringify(expected, null, 2).replace(
    /\[\n\s*((?:"[^"\n]*",?\n\s*)+)\]/g,
    (_all, items: string) =>
      `[${items
        .split(/,?\n\s*/)
        .filter(Boolean)
        .join(', ')}]`,
  );
  return `${text}\n`;
}

/** What writeExamples wrote. */
export interface WrittenExamples {
  applicationsPath: string;
  expectedPath: string;
  attachmentsDir: string;
  /** Files, symlinks and sparse files written under attachmentsDir. */
  files: number;
}

/**
 * Writes a generated batch to `outDir`: applications.jsonl, expected-outcomes.json
 * and attachments/. The attachments directory is replaced as a whole, so files
 * of an earlier batch cannot satisfy references of this one. The oversize
 * attachment is made sparse with truncate: it costs no disk and no write time.
 */
export async function writeExamples(
  outDir: string,
  generated: GeneratedExamples,
): Promise<WrittenExamples> {
  const attachmentsDir = join(outDir, OUTPUT_FILES.attachments);
  await mkdir(outDir, { recursive: true });
  await rm(attachmentsDir, { recursive: true, force: true });
  const made = new Set<string>();
  for (const file of generated.files) {
    const target = join(outDir, ...file.path.split('/'));
    const dir = dirname(target);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    switch (file.kind) {
      case 'file':
        await writeFile(target, file.bytes);
        break;
      case 'symlink':
        await symlink(file.target, target);
        break;
      case 'sparse':
        await writeFile(target, file.header);
        await truncate(target, file.size);
        break;
    }
  }
  const applicationsPath = join(outDir, OUTPUT_FILES.applications);
  const expectedPath = join(outDir, OUTPUT_FILES.expected);
  await writeFile(applicationsPath, applicationsJsonl(generated.applications));
  await writeFile(expectedPath, expectedJson(generated.expected));
  return { applicationsPath, expectedPath, attachmentsDir, files: generated.files.length };
}

/** Result of checkExamples. */
export interface CheckResult {
  ok: boolean;
  /** One line per difference, for people. */
  differences: string[];
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const idOf = (line: string): string => {
  try {
    const id = (JSON.parse(line) as { grant_id?: unknown }).grant_id;
    return typeof id === 'string' ? id : '(no grant_id)';
  } catch {
    return '(not JSON)';
  }
};

const MAX_LISTED = 10;

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${shown}, ... (${items.length} in all)` : shown;
}

function diffApplications(committed: string, fresh: string): string[] {
  const oldLines = committed.split('\n').filter((l) => l !== '');
  const newLines = fresh.split('\n').filter((l) => l !== '');
  const oldById = new Map(oldLines.map((l, i) => [idOf(l), { line: l, n: i + 1 }]));
  const newById = new Map(newLines.map((l) => [idOf(l), l]));
  const changed: string[] = [];
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [id, line] of newById) {
    const old = oldById.get(id);
    if (!old) missing.push(id);
    else if (old.line !== line) changed.push(`${id} (line ${old.n})`);
  }
  for (const id of oldById.keys()) if (!newById.has(id)) extra.push(id);
  const out: string[] = [];
  if (changed.length) out.push(`${changed.length} application(s) differ: ${listed(changed)}`);
  if (missing.length) out.push(`${missing.length} application(s) missing: ${listed(missing)}`);
  if (extra.length)
    out.push(`${extra.length} application(s) not generated any more: ${listed(extra)}`);
  if (out.length === 0 && committed !== fresh)
    out.push('same applications in another order or layout');
  return out.map((d) => `${OUTPUT_FILES.applications}: ${d}`);
}

function diffExpected(committed: string, fresh: ExpectedOutcomes): string[] {
  let old: ExpectedOutcomes;
  try {
    old = JSON.parse(committed) as ExpectedOutcomes;
  } catch (err) {
    return [`${OUTPUT_FILES.expected}: not JSON (${(err as Error).message})`];
  }
  const out: string[] = [];
  if (old.generatedFor !== fresh.generatedFor) {
    out.push(`generatedFor is ${old.generatedFor}, regenerated for ${fresh.generatedFor}`);
  }
  if (JSON.stringify(old.totals) !== JSON.stringify(fresh.totals)) {
    out.push(`totals ${JSON.stringify(old.totals)} -> ${JSON.stringify(fresh.totals)}`);
  }
  if (JSON.stringify(old.byFunder) !== JSON.stringify(fresh.byFunder)) out.push('byFunder differs');
  const oldGrants = old.grants ?? {};
  const changed = Object.keys(fresh.grants).filter(
    (id) => JSON.stringify(oldGrants[id]) !== JSON.stringify(fresh.grants[id]),
  );
  const gone = Object.keys(oldGrants).filter((id) => !(id in fresh.grants));
  if (changed.length) out.push(`${changed.length} grant outcome(s) differ: ${listed(changed)}`);
  if (gone.length) out.push(`${gone.length} grant(s) not generated any more: ${listed(gone)}`);
  if (out.length === 0 && committed !== expectedJson(fresh))
    out.push('same outcomes, other layout');
  return out.map((d) => `${OUTPUT_FILES.expected}: ${d}`);
}

/**
 * Compares the committed applications.jsonl and expected-outcomes.json in `dir`
 * with a freshly generated batch (the attachments are not compared: they are
 * not committed). Used by `npm run examples -- --check` and its spec.
 */
export async function checkExamples(
  dir: string,
  generated: GeneratedExamples,
): Promise<CheckResult> {
  const differences: string[] = [];
  const jsonl = await readOrNull(join(dir, OUTPUT_FILES.applications));
  const fresh = applicationsJsonl(generated.applications);
  if (jsonl === null) differences.push(`${OUTPUT_FILES.applications}: missing`);
  else if (jsonl !== fresh) differences.push(...diffApplications(jsonl, fresh));
  const expected = await readOrNull(join(dir, OUTPUT_FILES.expected));
  if (expected === null) differences.push(`${OUTPUT_FILES.expected}: missing`);
  else if (expected !== expectedJson(generated.expected)) {
    differences.push(...diffExpected(expected, generated.expected));
  }
  return { ok: differences.length === 0, differences };
}
