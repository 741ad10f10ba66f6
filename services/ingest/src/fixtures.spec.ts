import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GrantSubmissionV2Schema,
  type GrantSubmissionV2,
  type MetadataValue,
} from '@grantstream/contracts';
import { loadRulePacks } from '@grantstream/rules';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { submissionProblems } from './domain/submission-problems';
import { FIXTURE_LIMITS } from './domain/ingest-limits.fixture';

// The ingest fixtures (test/fixtures/ingest/{ok,not-ok}) run against the pure
// submission checks with the funders of the example rule packs, so a fixture
// documents what ingest accepts and refuses, and why.

const ROOT = join(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/ingest');
const PACKS = join(ROOT, 'examples/rule-packs');

/** The instant fixture deadlines are judged at. */
const NOW = Date.UTC(2026, 10, 1);

const limits = FIXTURE_LIMITS;

const knownFunders: ReadonlySet<string> = new Set(
  existsSync(PACKS) ? loadRulePacks(PACKS).funderIds : ['NSF', 'BCF', 'SCDA'],
);

/** Metadata too large to commit, built by the spec from a short description. */
const generateSchema = z.strictObject({
  metadataKeys: z.int().positive().optional(),
  keyOfLength: z.int().positive().optional(),
  values: z.array(z.strictObject({ key: z.string(), chars: z.int().positive() })).optional(),
  arrayItems: z.strictObject({ key: z.string(), count: z.int().positive() }).optional(),
});

const fixtureSchema = z.strictObject({
  description: z.string().min(1),
  generate: generateSchema.optional(),
  submission: z.record(z.string(), z.unknown()),
  expect: z.union([
    z.strictObject({ ok: z.literal(true) }),
    z.strictObject({
      category: z.enum(['SCHEMA_VIOLATION', 'UNKNOWN_FUNDER']),
      codes: z.array(z.string()).min(1),
    }),
  ]),
});
type Fixture = z.infer<typeof fixtureSchema>;

function generatedMetadata(generate: Fixture['generate']): Record<string, MetadataValue> {
  const out: Record<string, MetadataValue> = {};
  if (!generate) return out;
  for (let i = 0; i < (generate.metadataKeys ?? 0); i += 1) out[`generated_${i}`] = null;
  if (generate.keyOfLength) out['k'.repeat(generate.keyOfLength)] = 'value';
  for (const { key, chars } of generate.values ?? []) out[key] = 'x'.repeat(chars);
  if (generate.arrayItems) {
    const { key, count } = generate.arrayItems;
    out[key] = Array.from({ length: count }, (_, i) => `item ${i}`);
  }
  return out;
}

/** The submission as the handler would see it: attachments and nullable fields defaulted. */
function submissionOf(fixture: Fixture): GrantSubmissionV2 {
  const raw = fixture.submission as Partial<GrantSubmissionV2>;
  return {
    attachments: [],
    program_code: null,
    applicant_ein: null,
    ...raw,
    metadata: { ...raw.metadata, ...generatedMetadata(fixture.generate) },
  } as GrantSubmissionV2;
}

function load(kind: 'ok' | 'not-ok'): [string, Fixture][] {
  const dir = join(FIXTURES, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, fixtureSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8')))]);
}

const ok = load('ok');
const notOk = load('not-ok');

describe('ingest fixtures', () => {
  it('has enough of each kind to mean something', () => {
    expect(ok.length).toBeGreaterThanOrEqual(4);
    expect(notOk.length).toBeGreaterThanOrEqual(8);
    expect(knownFunders.has('NSF')).toBe(true);
  });

  it.each(ok)('accepts ok/%s', (_file, fixture) => {
    expect(fixture.expect).toEqual({ ok: true });
    const submission = submissionOf(fixture);
    // An ok fixture must also be a valid record, or it proves nothing about ingest.
    expect(GrantSubmissionV2Schema.safeParse(submission).success).toBe(true);
    expect(submissionProblems(submission, { limits, knownFunders, now: NOW })).toBeNull();
  });

  it.each(notOk)('refuses not-ok/%s as expected', (_file, fixture) => {
    const verdict = submissionProblems(submissionOf(fixture), { limits, knownFunders, now: NOW });
    expect(
      verdict && { category: verdict.category, codes: verdict.problems.map((p) => p.code) },
    ).toEqual(fixture.expect);
  });
});
