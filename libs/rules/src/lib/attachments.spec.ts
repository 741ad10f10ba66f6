import { describe, expect, it } from 'vitest';
import { type AttachmentFacts, attachmentFindings } from './attachments';
import { type AttachmentRules, attachmentRulesSchema } from './rule-pack';

const PDF = 'application/pdf';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const rules: AttachmentRules = attachmentRulesSchema.parse({
  allowed_media_types: [PDF, XLSX],
  max_file_bytes: 1000,
  max_package_bytes: 1500,
  max_count: 3,
  max_filename_length: 20,
  filename_pattern: '[A-Za-z0-9_\\-. ]+',
  required: [
    { media_type: PDF, description: 'Project Description' },
    { media_type: XLSX, min_count: 1, description: 'Budget' },
  ],
});

const pdf = (filename: string, size_bytes: number | null = 100): AttachmentFacts => ({
  filename,
  media_type: PDF,
  size_bytes,
});
const xlsx = (filename: string, size_bytes: number | null = 100): AttachmentFacts => ({
  filename,
  media_type: XLSX,
  size_bytes,
});

describe('attachmentFindings', () => {
  it.each<[string, AttachmentFacts[], Array<[string, number | null]>]>([
    ['a complete package', [pdf('narrative.pdf'), xlsx('budget.xlsx')], []],
    [
      'too many attachments',
      [pdf('a.pdf', 1), xlsx('b.xlsx', 1), pdf('c.pdf', 1), pdf('d.pdf', 1)],
      [['ATTACHMENT_COUNT_EXCEEDED', null]],
    ],
    [
      'a filename longer than allowed',
      [pdf('a-very-long-file-name.pdf'), xlsx('b.xlsx')],
      [['ATTACHMENT_FILENAME_INVALID', 0]],
    ],
    [
      'a filename with characters outside the pattern',
      [pdf('narrative#1.pdf'), xlsx('b.xlsx')],
      [['ATTACHMENT_FILENAME_INVALID', 0]],
    ],
    [
      'duplicate filenames ignoring case',
      [pdf('Narrative.pdf'), xlsx('b.xlsx'), pdf('narrative.PDF')],
      [['ATTACHMENT_FILENAME_INVALID', 2]],
    ],
    [
      'a media type the funder does not accept',
      [pdf('a.pdf'), xlsx('b.xlsx'), { filename: 'c.png', media_type: 'image/png', size_bytes: 1 }],
      [['ATTACHMENT_TYPE_NOT_ALLOWED', 2]],
    ],
    [
      'media types compare without case or parameters',
      [{ filename: 'a.pdf', media_type: 'Application/PDF; v=1', size_bytes: 1 }, xlsx('b.xlsx')],
      [],
    ],
    [
      'a file over the per-file limit (also over the package limit)',
      [pdf('a.pdf', 1001), xlsx('b.xlsx', 600)],
      [
        ['ATTACHMENT_TOO_LARGE', 0],
        ['ATTACHMENT_PACKAGE_TOO_LARGE', null],
      ],
    ],
    ['a file exactly at the per-file limit', [pdf('a.pdf', 1000), xlsx('b.xlsx', 500)], []],
    [
      'files within limits that together exceed the package limit',
      [pdf('a.pdf', 800), xlsx('b.xlsx', 800)],
      [['ATTACHMENT_PACKAGE_TOO_LARGE', null]],
    ],
    ['unknown sizes are not judged', [pdf('a.pdf', null), xlsx('b.xlsx', null)], []],
    [
      'a required type missing',
      [pdf('a.pdf'), pdf('b.pdf')],
      [['ATTACHMENT_REQUIRED_MISSING', null]],
    ],
    [
      'every required type missing in an empty package',
      [],
      [
        ['ATTACHMENT_REQUIRED_MISSING', null],
        ['ATTACHMENT_REQUIRED_MISSING', null],
      ],
    ],
    [
      'required check skipped while a media type is unknown',
      [pdf('a.pdf'), { filename: 'b.xlsx', media_type: null, size_bytes: 1 }],
      [],
    ],
  ])('%s', (_name, facts, expected) => {
    expect(attachmentFindings(facts, rules).map((f) => [f.code, f.index])).toEqual(expected);
  });

  it('honours min_count above one', () => {
    const two = { ...rules, required: [{ media_type: PDF, min_count: 2, description: 'Letters' }] };
    expect(attachmentFindings([pdf('a.pdf')], two)).toEqual([
      {
        code: 'ATTACHMENT_REQUIRED_MISSING',
        index: null,
        message:
          'Letters is missing: the funder requires 2 application/pdf attachments and the package has 1',
      },
    ]);
  });

  it('allows duplicate names when unique_filenames is off', () => {
    const lax = { ...rules, unique_filenames: false };
    expect(attachmentFindings([pdf('a.pdf'), pdf('A.pdf'), xlsx('b.xlsx')], lax)).toEqual([]);
  });

  it('counts code points, not UTF-16 units, in filename length', () => {
    const unicode = { ...rules, filename_pattern: '.+', max_filename_length: 6 };
    expect(attachmentFindings([pdf('😀😀.pdf'), xlsx('b.xlsx')], unicode)).toEqual([]);
    expect(attachmentFindings([pdf('😀😀😀.pdf'), xlsx('b.xlsx')], unicode)).toHaveLength(1);
  });

  it('says what is wrong with the numbers in each message', () => {
    const name = 'x'.repeat(59) + '.pdf';
    const findings = attachmentFindings(
      [
        pdf(name, 2000),
        pdf('a#b.pdf'),
        pdf('A#B.PDF'),
        { filename: 'c.png', media_type: 'image/png', size_bytes: 1 },
      ],
      { ...rules, max_filename_length: 50, max_count: 3 },
    );
    expect(findings.map((f) => f.message)).toEqual([
      'the package has 4 attachments; the funder allows at most 3',
      `filename '${name}' is 63 characters; the funder allows at most 50`,
      "'" + name + "' is 2,000 bytes; the funder allows at most 1,000 bytes per file",
      "filename 'a#b.pdf' contains '#', which the funder does not allow in filenames",
      "filename 'A#B.PDF' contains '#', which the funder does not allow in filenames",
      "filename 'A#B.PDF' of attachments[2] repeats the filename of attachments[1]; the funder requires unique filenames (ignoring case)",
      `'c.png' is image/png; the funder accepts only ${PDF}, ${XLSX}`,
      'the attachments total 2,201 bytes; the funder allows at most 1,500 bytes per package',
      `Budget is missing: the funder requires 1 ${XLSX} attachment and the package has 0`,
    ]);
  });

  it('falls back to naming the pattern when single characters cannot explain the failure', () => {
    const strict = { ...rules, filename_pattern: '[a-z]+\\.pdf' };
    expect(attachmentFindings([pdf('narrative.txt'), xlsx('b.pdf')], strict)[0]?.message).toBe(
      "filename 'narrative.txt' does not match the funder's filename rule [a-z]+\\.pdf",
    );
  });
});
