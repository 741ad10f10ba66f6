import type { GrantSubmissionV2, MetadataValue } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import { submissionProblems, type SubmissionContext } from './submission-problems';
import { FIXTURE_LIMITS } from './ingest-limits.fixture';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const DAY = 86_400_000;

const limits = FIXTURE_LIMITS;
const ctx: SubmissionContext = { limits, knownFunders: new Set(['NSF', 'BCF']), now: NOW };

function submission(overrides: Partial<GrantSubmissionV2> = {}): GrantSubmissionV2 {
  return {
    grant_id: 'NSF-2026-00042',
    funder_portal: 'grants-gov',
    submission_deadline: NOW + 30 * DAY,
    metadata: {
      project_title: 'Watershed sensing for rural schools',
      requested_amount: 249_500,
      human_subjects: false,
      co_investigators: ['A. Rivera', 'M. Chen'],
      program_officer: null,
    },
    attachments: [],
    audit_timestamp: NOW,
    program_code: null,
    applicant_ein: null,
    ...overrides,
  };
}

/** Metadata the contract's type forbids but a broken producer's JSON can still carry. */
const loose = (metadata: Record<string, unknown>): Record<string, MetadataValue> =>
  metadata as Record<string, MetadataValue>;

const codesOf = (overrides: Partial<GrantSubmissionV2>, context = ctx) => {
  const verdict = submissionProblems(submission(overrides), context);
  return verdict && { category: verdict.category, codes: verdict.problems.map((p) => p.code) };
};

describe('submissionProblems', () => {
  it.each<[string, Partial<GrantSubmissionV2>]>([
    ['a typical submission', {}],
    ['a resubmission suffix', { grant_id: 'BCF-2026-00117-R2' }],
    ['a deadline that has passed (routing flags it)', { submission_deadline: NOW - 90 * DAY }],
    ['the earliest deadline accepted', { submission_deadline: limits.earliestDeadline }],
    ['the furthest deadline accepted', { submission_deadline: NOW + 1095 * DAY }],
    ['empty metadata', { metadata: {} }],
    [
      'exactly the key limit',
      { metadata: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])) },
    ],
    ['a value of exactly the length limit', { metadata: { abstract: 'x'.repeat(20_000) } }],
    [
      'an array of exactly the item limit',
      { metadata: { tags: new Array<string>(200).fill('t') } },
    ],
  ])('accepts %s', (_what, overrides) => {
    expect(submissionProblems(submission(overrides), ctx)).toBeNull();
  });

  it.each<[string, Partial<GrantSubmissionV2>, string[]]>([
    ['a lower-case funder', { grant_id: 'nsf-2026-00042' }, ['GRANT_ID_FORMAT']],
    ['no funder prefix', { grant_id: 'NSF202600042' }, ['GRANT_ID_FORMAT']],
    ['a short sequence number', { grant_id: 'NSF-2026-42' }, ['GRANT_ID_FORMAT']],
    ['a trailing newline', { grant_id: 'NSF-2026-00042\n' }, ['GRANT_ID_FORMAT']],
    [
      'a deadline in seconds',
      { submission_deadline: Math.floor((NOW + DAY) / 1000) },
      ['DEADLINE_UNPARSEABLE'],
    ],
    ['an unset deadline', { submission_deadline: 0 }, ['DEADLINE_UNPARSEABLE']],
    [
      'a deadline in microseconds',
      { submission_deadline: (NOW + DAY) * 1000 },
      ['DEADLINE_UNPARSEABLE'],
    ],
    ['a fractional deadline', { submission_deadline: NOW + 0.5 }, ['DEADLINE_UNPARSEABLE']],
    [
      'a deadline just past the horizon',
      { submission_deadline: NOW + 1095 * DAY + 1 },
      ['DEADLINE_UNPARSEABLE'],
    ],
    ['an empty portal', { funder_portal: '  ' }, ['FUNDER_PORTAL_EMPTY']],
    [
      '501 keys',
      { metadata: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`k${i}`, null])) },
      ['METADATA_TOO_MANY_KEYS'],
    ],
    ['a 129-character key', { metadata: { ['k'.repeat(129)]: 1 } }, ['METADATA_KEY_TOO_LONG']],
    [
      'a 20,001-character value',
      { metadata: { abstract: 'x'.repeat(20_001) } },
      ['METADATA_VALUE_TOO_LONG'],
    ],
    [
      'a 20,001-character array item',
      { metadata: { tags: ['ok', 'x'.repeat(20_001)] } },
      ['METADATA_VALUE_TOO_LONG'],
    ],
    [
      '201 array items',
      { metadata: { tags: new Array<string>(201).fill('t') } },
      ['METADATA_ARRAY_TOO_LONG'],
    ],
    ['an array in an array', { metadata: loose({ matrix: [['a']] }) }, ['METADATA_TOO_DEEP']],
    [
      'an object value',
      { metadata: loose({ pi: { name: { first: 'A' } } }) },
      ['METADATA_TOO_DEEP'],
    ],
    [
      '200,001 characters in all',
      {
        metadata: Object.fromEntries(
          Array.from({ length: 11 }, (_, i) => [`v${i}`, 'x'.repeat(18_182)]),
        ),
      },
      ['METADATA_TOO_LARGE'],
    ],
    [
      'several problems at once',
      {
        grant_id: 'NSF-26',
        submission_deadline: 0,
        funder_portal: '',
        metadata: { ['k'.repeat(200)]: 'x'.repeat(30_000) },
      },
      [
        'GRANT_ID_FORMAT',
        'DEADLINE_UNPARSEABLE',
        'FUNDER_PORTAL_EMPTY',
        'METADATA_KEY_TOO_LONG',
        'METADATA_VALUE_TOO_LONG',
      ],
    ],
  ])('refuses %s as a schema violation', (_what, overrides, codes) => {
    expect(codesOf(overrides)).toEqual({ category: 'SCHEMA_VIOLATION', codes });
  });

  it('refuses a well-formed grant for a funder without a rule pack as UNKNOWN_FUNDER alone', () => {
    const verdict = submissionProblems(submission({ grant_id: 'GATES-2026-00117' }), ctx);
    expect(verdict?.category).toBe('UNKNOWN_FUNDER');
    expect(verdict?.problems).toEqual([
      {
        code: 'UNKNOWN_FUNDER',
        message: 'grant id "GATES-2026-00117" names funder "GATES", which has no rule pack',
        field: 'grant_id',
      },
    ]);
  });

  it('lets a schema problem decide the category and lists the unknown funder last', () => {
    expect(codesOf({ grant_id: 'GATES-2026-00117', funder_portal: '' })).toEqual({
      category: 'SCHEMA_VIOLATION',
      codes: ['FUNDER_PORTAL_EMPTY', 'UNKNOWN_FUNDER'],
    });
  });

  it('does not look up the funder of a malformed grant id', () => {
    expect(codesOf({ grant_id: 'gates-2026-00117' })).toEqual({
      category: 'SCHEMA_VIOLATION',
      codes: ['GRANT_ID_FORMAT'],
    });
  });

  it('reports 10,000 keys once, quickly', () => {
    const metadata = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [`key_${i}`, `v${i}`]),
    );
    const started = performance.now();
    const verdict = submissionProblems(submission({ metadata }), ctx);
    expect(performance.now() - started).toBeLessThan(500);
    expect(verdict?.problems).toEqual([
      {
        code: 'METADATA_TOO_MANY_KEYS',
        message: 'metadata has 10,000 keys; at most 500 are accepted',
        field: 'metadata',
      },
    ]);
  });

  it('reports many long keys as one problem with a count and examples', () => {
    const metadata = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`${i}`.padEnd(130, 'k'), 1]),
    );
    const problems = submissionProblems(submission({ metadata }), ctx)?.problems ?? [];
    expect(problems.map((p) => p.code)).toEqual(['METADATA_KEY_TOO_LONG']);
    expect(problems[0]?.message).toMatch(
      /^300 metadata keys are longer than 128 characters \(longest 130\): "0k+…", "1k+…", "2k+…" and 297 more$/,
    );
  });

  it('puts numbers in its messages', () => {
    const problems =
      submissionProblems(
        submission({
          submission_deadline: 1_790_000_000,
          metadata: { tags: new Array<string>(250).fill('t') },
        }),
        ctx,
      )?.problems ?? [];
    expect(problems.map((p) => p.message)).toEqual([
      'submission_deadline 1790000000 (1970-01-21T17:13:20.000Z) is before 2000-01-01T00:00:00.000Z, the earliest deadline accepted; it is unset or not in milliseconds',
      '1 metadata array has more than 200 items (largest 250), under "tags"',
    ]);
  });

  it('survives hostile nesting without exhausting the stack', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(codesOf({ metadata: loose({ deep }) })?.codes).toEqual(['METADATA_TOO_DEEP']);
  });

  it('counts nesting from the map: depth 1 admits scalars only', () => {
    const shallow = { ...ctx, limits: { ...limits, maxMetadataDepth: 1 } };
    expect(codesOf({ metadata: { title: 't' } }, shallow)).toBeNull();
    expect(codesOf({ metadata: { tags: ['t'] } }, shallow)?.codes).toEqual(['METADATA_TOO_DEEP']);
  });
});
