import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidatedGrantV3Schema } from '@grantstream/contracts';
import { loadRulePacks } from '@grantstream/rules';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { normalizeGrant } from './domain/normalize';

// The normalization fixtures (test/fixtures/normalization/{ok,not-ok}) run the
// pure normalizer with the example rule packs. ok/ inputs reach canonical form
// for every required field; not-ok/ inputs leave something for routing to
// flag: a value that is NOT_PARSEABLE, a required field missing, or no pack.

const ROOT = join(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/normalization');
const packs = loadRulePacks(join(ROOT, 'examples/rule-packs'));

const fixtureSchema = z.strictObject({
  description: z.string().min(1),
  funder: z.string().min(1),
  now: z.iso.datetime(),
  input: ValidatedGrantV3Schema,
  expect: z.strictObject({
    /** Fields that must be present with exactly these values (others may exist too). */
    normalized_fields: z.record(z.string(), z.string()),
    /** Fields that must not be present. */
    absent: z.array(z.string()).default([]),
    /** Reasons that must each appear among the field changes. */
    reasons: z.array(z.string()).min(1),
    /** Changes that must each match one recorded change (a subset of its properties). */
    changes: z
      .array(
        z.strictObject({
          field: z.string(),
          reason: z.string(),
          before: z.string().nullable().optional(),
          after: z.string().nullable().optional(),
        }),
      )
      .default([]),
    normalizer_version_suffix: z.string().optional(),
  }),
});

function load(kind: 'ok' | 'not-ok') {
  const dir = join(FIXTURES, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, fixtureSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8')))] as const);
}

const NORMALIZER_VERSION = '0.0.0-fixtures';

describe.each(['ok', 'not-ok'] as const)('normalization fixtures: %s', (kind) => {
  const fixtures = load(kind);

  it('has at least four fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(kind === 'ok' ? 4 : 6);
  });

  it.each(fixtures)('%s', (_file, fixture) => {
    const pack = packs.get(fixture.funder);
    expect(fixture.input.funder_id).toBe(fixture.funder);
    const out = normalizeGrant(fixture.input, pack, {
      normalizerVersion: NORMALIZER_VERSION,
      now: Date.parse(fixture.now),
    });

    expect(out.normalized_fields).toMatchObject(fixture.expect.normalized_fields);
    for (const name of fixture.expect.absent)
      expect(out.normalized_fields).not.toHaveProperty(name);
    const reasons = new Set(out.field_changes.map((c) => c.reason));
    for (const reason of fixture.expect.reasons) expect(reasons, reason).toContain(reason);
    for (const change of fixture.expect.changes) {
      expect(out.field_changes).toContainEqual(expect.objectContaining(change));
    }
    if (fixture.expect.normalizer_version_suffix !== undefined) {
      expect(out.normalizer_version).toBe(
        `${NORMALIZER_VERSION}${fixture.expect.normalizer_version_suffix}`,
      );
    }
    expect(out.attachments).toEqual(fixture.input.verified_attachments);

    const missingRequired = Object.entries(pack?.fields ?? {})
      .filter(([name, rule]) => rule.required && !out.normalized_fields[name]?.trim())
      .map(([name]) => name);
    const unparseable = reasons.has('NOT_PARSEABLE');
    if (kind === 'ok') {
      expect(pack, 'an ok fixture names a configured funder').toBeDefined();
      expect(missingRequired).toEqual([]);
      expect(unparseable).toBe(false);
    } else {
      expect(pack === undefined || unparseable || missingRequired.length > 0).toBe(true);
    }
  });
});
