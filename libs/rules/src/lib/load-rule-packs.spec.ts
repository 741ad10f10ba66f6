import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '@grantstream/errors';
import { loadRulePacks } from './load-rule-packs';

function validPack(funder_id: string): Record<string, unknown> {
  return {
    funder_id,
    name: `${funder_id} Foundation`,
    kind: 'foundation',
    version: '1.0.0',
    time_zone: 'America/Chicago',
    portal: 'portal',
    deadline: { buffer_business_days: 2, holidays: ['2026-12-25'] },
    fields: {
      title: { type: 'text', from: ['project_title', 'title'], required: true, max_length: 100 },
      amount: { type: 'amount', from: ['amount'], min: 10, max: 20 },
    },
    attachments: {
      allowed_media_types: ['application/pdf'],
      max_file_bytes: 100,
      max_package_bytes: 200,
      max_count: 2,
      max_filename_length: 50,
      filename_pattern: '^[A-Za-z0-9. ]+$',
      required: [{ media_type: 'application/pdf', description: 'Narrative' }],
    },
  };
}

function dirWith(files: Record<string, string | Record<string, unknown>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gs-rules-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
  }
  return dir;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const withField = (path: string[], value: unknown) => {
  const pack = validPack('TST');
  let node = pack;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return pack;
};

describe('loadRulePacks', () => {
  it('loads every .yaml and .yml file, ignoring other files, with defaults filled', () => {
    const dir = dirWith({
      'a.yaml': validPack('AAA'),
      'b.yml': validPack('BBB'),
      'README.md': '# not a pack',
    });
    mkdirSync(join(dir, 'nested.yaml'));
    const set = loadRulePacks(dir);
    expect([...set.funderIds].sort()).toEqual(['AAA', 'BBB']);
    const pack = set.get('AAA');
    expect(pack?.severities).toEqual({});
    expect(pack?.attachments.unique_filenames).toBe(true);
    expect(pack?.attachments.required[0]?.min_count).toBe(1);
    expect(pack?.fields['amount']?.required).toBe(false);
  });

  it('does not tie the file name to the funder id', () => {
    expect(loadRulePacks(dirWith({ 'whatever.yaml': validPack('NSF') })).funderIds).toEqual([
      'NSF',
    ]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a negative max_length',
      withField(['fields', 'title', 'max_length'], -1),
      /fields\.title\.max_length: /,
    ],
    [
      'an unknown field type',
      withField(['fields', 'title', 'type'], 'money'),
      /fields\.title\.type: /,
    ],
    ['an unknown key', withField(['fields', 'title', 'maxlen'], 3), /fields\.title: .*maxlen/],
    [
      'min above max',
      withField(['fields', 'amount', 'min'], 30),
      /fields\.amount: min is greater than max/,
    ],
    [
      'a bad field regex',
      withField(['fields', 'title', 'pattern'], '(unclosed'),
      /fields\.title\.pattern: not a valid regular expression/,
    ],
    [
      'a bad filename regex',
      withField(['attachments', 'filename_pattern'], '[a-'),
      /attachments\.filename_pattern: not a valid regular expression/,
    ],
    [
      'a bad time zone',
      withField(['time_zone'], 'Mars/Olympus_Mons'),
      /time_zone: not an IANA time zone/,
    ],
    ['a lower-case funder id', withField(['funder_id'], 'nsf'), /funder_id: expected 2-16/],
    [
      'a malformed holiday',
      withField(['deadline', 'holidays'], ['12/25/2026']),
      /deadline\.holidays\.0: expected YYYY-MM-DD/,
    ],
    [
      'a holiday that is no date',
      withField(['deadline', 'holidays'], ['2026-02-30']),
      /deadline\.holidays\.0: 2026-02-30 is not a calendar date/,
    ],
    [
      'a required attachment type that is not allowed',
      withField(['attachments', 'required'], [{ media_type: 'image/png', description: 'Logo' }]),
      /attachments\.required\.0\.media_type: image\/png is not in allowed_media_types/,
    ],
    [
      'bounds on a text field',
      withField(['fields', 'title', 'min'], 1),
      /fields\.title: min\/max apply only to amount and integer/,
    ],
    ['an unknown severity code', withField(['severities'], { NOT_A_CODE: 'INFO' }), /severities/],
  ])('reports %s with file and path', (_name, pack, expected) => {
    const dir = dirWith({ 'tst.yaml': pack });
    const problems = problemsOf(() => loadRulePacks(dir));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
    expect(problems[0]!.startsWith(`${join(dir, 'tst.yaml')}: `)).toBe(true);
  });

  it('reports all problems of all files at once', () => {
    const bad = validPack('BAD');
    (bad['fields'] as Record<string, Record<string, unknown>>)['title']!['max_length'] = 0;
    bad['time_zone'] = 'Nowhere/Else';
    const dir = dirWith({
      '1-ok.yaml': validPack('NSF'),
      '2-bad.yaml': bad,
      '3-dup.yaml': validPack('NSF'),
      '4-syntax.yaml': 'funder_id: [unclosed\n',
      '5-scalar.yml': 'just a string\n',
    });
    const problems = problemsOf(() => loadRulePacks(dir));
    expect(problems).toEqual([
      expect.stringMatching(/2-bad\.yaml: time_zone: not an IANA time zone$/),
      expect.stringMatching(/2-bad\.yaml: fields\.title\.max_length: /),
      expect.stringMatching(/3-dup\.yaml: funder_id: NSF is already defined in .*1-ok\.yaml$/),
      expect.stringMatching(/4-syntax\.yaml: YAML /),
      expect.stringMatching(/5-scalar\.yml: \(root\): /),
    ]);
  });

  it('refuses an empty directory', () => {
    const dir = dirWith({ 'notes.txt': 'nothing here' });
    expect(problemsOf(() => loadRulePacks(dir))).toEqual([
      `${dir}: no rule packs (*.yaml, *.yml) found`,
    ]);
  });

  it('refuses a directory that does not exist', () => {
    const dir = join(tmpdir(), 'gs-rules-does-not-exist');
    expect(problemsOf(() => loadRulePacks(dir))[0]).toMatch(/cannot read rule-pack directory/);
  });
});
