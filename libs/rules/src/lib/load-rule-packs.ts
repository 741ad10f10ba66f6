import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '@grantstream/errors';
import { type RulePack, rulePackSchema } from './rule-pack';
import { RulePackSet } from './rule-pack-set';
import { isCalendarDate } from './business-days';

const PACK_FILE = /\.ya?ml$/i;

/**
 * Problems the schema cannot see because they span fields: a holiday that is
 * no calendar date, a required attachment type the funder does not accept,
 * bounds on a type that has no numbers. Each line is `path: message`.
 */
export function rulePackProblems(pack: RulePack): string[] {
  const problems: string[] = [];
  pack.deadline.holidays.forEach((h, i) => {
    if (!isCalendarDate(h)) problems.push(`deadline.holidays.${i}: ${h} is not a calendar date`);
  });
  const allowed = new Set(pack.attachments.allowed_media_types.map((t) => t.toLowerCase()));
  pack.attachments.required.forEach((r, i) => {
    if (!allowed.has(r.media_type.toLowerCase())) {
      problems.push(
        `attachments.required.${i}.media_type: ${r.media_type} is not in allowed_media_types, so it could never be satisfied`,
      );
    }
  });
  for (const [name, field] of Object.entries(pack.fields)) {
    if (
      (field.min !== undefined || field.max !== undefined) &&
      field.type !== 'amount' &&
      field.type !== 'integer'
    ) {
      problems.push(
        `fields.${name}: min/max apply only to amount and integer fields, not ${field.type}`,
      );
    }
  }
  return problems;
}

/**
 * Loads every `*.yaml` / `*.yml` rule pack in a directory, validates each with
 * {@link rulePackSchema} and {@link rulePackProblems}, and returns them as a
 * {@link RulePackSet}. Every problem of every file (YAML syntax, schema,
 * cross-field, a funder id defined twice, no packs at all) is reported at
 * once in one {@link ConfigError}, each line `<file>: <path>: <message>`, so a
 * bad deployment is fixed in one pass.
 */
export function loadRulePacks(dir: string): RulePackSet {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && PACK_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new ConfigError([`${dir}: cannot read rule-pack directory (${(err as Error).message})`]);
  }
  if (names.length === 0) throw new ConfigError([`${dir}: no rule packs (*.yaml, *.yml) found`]);

  const problems: string[] = [];
  const packs: RulePack[] = [];
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${file}: cannot read (${(err as Error).message})`);
      continue;
    }
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${file}: YAML ${e.message.split('\n')[0]}`);
      continue;
    }
    const result = rulePackSchema.safeParse(doc.toJS());
    if (!result.success) {
      for (const issue of result.error.issues) {
        problems.push(`${file}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
      }
      continue;
    }
    const pack = result.data;
    const fileProblems = rulePackProblems(pack);
    for (const p of fileProblems) problems.push(`${file}: ${p}`);
    const other = fileOf.get(pack.funder_id);
    if (other !== undefined) {
      problems.push(`${file}: funder_id: ${pack.funder_id} is already defined in ${other}`);
    } else {
      fileOf.set(pack.funder_id, file);
    }
    if (fileProblems.length === 0) packs.push(pack);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return RulePackSet.of(packs);
}
