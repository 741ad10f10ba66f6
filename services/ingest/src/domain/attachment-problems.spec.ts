import type { AttachmentRefV1 } from '@grantstream/contracts';
import {
  attachmentRulesSchema,
  rulePackSchema,
  type AttachmentRules,
  type RulePack,
} from '@grantstream/rules';
import { STRUCTURE_CODES } from '@grantstream/storage';
import { describe, expect, it } from 'vitest';
import {
  attachmentFlagsDetail,
  attachmentReferenceProblems,
  inspectedAttachmentProblems,
  integrityVerdict,
  orderedByAttachment,
  verifiedAttachmentsOf,
  type InspectedAttachmentFacts,
} from './attachment-problems';
import type { IngestLimits } from './ingest-limits';

const PDF = 'application/pdf';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const EXE = 'application/x-msdownload';
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

const rules: AttachmentRules = attachmentRulesSchema.parse({
  allowed_media_types: [PDF, XLSX],
  max_file_bytes: 1000,
  max_package_bytes: 2500,
  max_count: 4,
  max_filename_length: 24,
  filename_pattern: '^[A-Za-z0-9_\\-. ]+$',
  required: [{ media_type: PDF, description: 'Project narrative' }],
});

const limits = { maxAttachments: 6 } as IngestLimits;

function ref(overrides: Partial<AttachmentRefV1> = {}): AttachmentRefV1 {
  return {
    uri: 'file:///attachments/narrative.pdf',
    media_type: null,
    size_bytes: null,
    sha256: null,
    filename: 'narrative.pdf',
    ...overrides,
  };
}

function facts(overrides: Partial<InspectedAttachmentFacts> = {}): InspectedAttachmentFacts {
  return { sha256: HASH_A, size_bytes: 500, media_type: PDF, exceeded_limit: false, ...overrides };
}

const codes = (problems: { code: string; field?: string }[]) =>
  problems.map((p) => `${p.field}:${p.code}`);

describe('attachmentReferenceProblems', () => {
  it.each<[string, AttachmentRefV1[], string[]]>([
    ['no attachments (required ones are routing’s business)', [], []],
    [
      'complete, well-formed claims',
      [ref({ media_type: PDF, size_bytes: 10, sha256: HASH_A })],
      [],
    ],
    [
      'a relative URI',
      [ref({ uri: 'attachments/narrative.pdf' })],
      ['attachments[0]:ATTACHMENT_URI_INVALID'],
    ],
    [
      'an upper-case checksum',
      [ref({ sha256: HASH_A.toUpperCase() })],
      ['attachments[0]:ATTACHMENT_CHECKSUM_FORMAT'],
    ],
    ['a short checksum', [ref({ sha256: 'abc' })], ['attachments[0]:ATTACHMENT_CHECKSUM_FORMAT']],
    ['a negative size', [ref({ size_bytes: -1 })], ['attachments[0]:ATTACHMENT_SIZE_INVALID']],
    [
      'a declared size over the limit',
      [ref({ size_bytes: 1001 })],
      ['attachments[0]:ATTACHMENT_TOO_LARGE'],
    ],
    [
      'declared sizes over the package limit',
      [
        ref({ size_bytes: 900 }),
        ref({ filename: 'b.pdf', size_bytes: 900 }),
        ref({ filename: 'c.pdf', size_bytes: 900 }),
      ],
      ['attachments:ATTACHMENT_PACKAGE_TOO_LARGE'],
    ],
    [
      'a long filename',
      [ref({ filename: 'a-very-long-project-narrative.pdf' })],
      ['attachments[0]:ATTACHMENT_FILENAME_INVALID'],
    ],
    [
      'a slash in a filename',
      [ref({ filename: '../narrative.pdf' })],
      ['attachments[0]:ATTACHMENT_FILENAME_INVALID'],
    ],
    [
      'duplicate filenames, ignoring case',
      [ref(), ref({ filename: 'NARRATIVE.pdf' })],
      ['attachments[1]:ATTACHMENT_FILENAME_INVALID'],
    ],
    [
      'more attachments than the funder allows',
      Array.from({ length: 5 }, (_, i) => ref({ filename: `f${i}.pdf` })),
      ['attachments:ATTACHMENT_COUNT_EXCEEDED'],
    ],
    [
      'problems of several attachments, in order',
      [ref({ sha256: 'x' }), ref({ uri: '::', filename: 'narrative.pdf' })],
      [
        'attachments[0]:ATTACHMENT_CHECKSUM_FORMAT',
        'attachments[1]:ATTACHMENT_URI_INVALID',
        'attachments[1]:ATTACHMENT_FILENAME_INVALID',
      ],
    ],
  ])('judges %s', (_what, refs, expected) => {
    expect(codes(attachmentReferenceProblems(refs, rules, limits))).toEqual(expected);
  });

  it('reports only the count when there are more references than ingest accepts', () => {
    const refs = Array.from({ length: 7 }, () => ref({ uri: 'bad', sha256: 'bad' }));
    expect(attachmentReferenceProblems(refs, rules, limits)).toEqual([
      {
        code: 'ATTACHMENT_COUNT_EXCEEDED',
        message: 'the submission references 7 attachments; ingest accepts at most 6',
        field: 'attachments',
      },
    ]);
  });
});

describe('inspectedAttachmentProblems', () => {
  it.each<[string, AttachmentRefV1[], (InspectedAttachmentFacts | undefined)[], string[]]>([
    [
      'a PDF whose claims hold',
      [ref({ media_type: PDF, size_bytes: 500, sha256: HASH_A })],
      [facts()],
      [],
    ],
    ['a PDF with no claims', [ref()], [facts()], []],
    [
      'a declared type with parameters',
      [ref({ media_type: 'Application/PDF; version=1.7' })],
      [facts()],
      [],
    ],
    ['an xlsx named .xlsx', [ref({ filename: 'budget.xlsx' })], [facts({ media_type: XLSX })], []],
    [
      'a cut-off read',
      [ref({ size_bytes: 500, sha256: HASH_B })],
      [facts({ size_bytes: 1001, exceeded_limit: true })],
      ['attachments[0]:ATTACHMENT_TOO_LARGE'],
    ],
    [
      'a checksum mismatch',
      [ref({ sha256: HASH_B })],
      [facts()],
      ['attachments[0]:ATTACHMENT_CHECKSUM_MISMATCH'],
    ],
    [
      'a size mismatch',
      [ref({ size_bytes: 499 })],
      [facts()],
      ['attachments[0]:ATTACHMENT_SIZE_MISMATCH'],
    ],
    [
      'a declared type the content contradicts',
      [ref({ filename: 'budget.xlsx', media_type: XLSX })],
      [facts({ media_type: PDF })],
      ['attachments[0]:ATTACHMENT_TYPE_MISMATCH', 'attachments[0]:ATTACHMENT_TYPE_MISMATCH'],
    ],
    [
      'a .pdf that is a spreadsheet',
      [ref()],
      [facts({ media_type: XLSX })],
      ['attachments[0]:ATTACHMENT_TYPE_MISMATCH'],
    ],
    [
      'a .docx that is allowed-type PDF',
      [ref({ filename: 'letter.docx' })],
      [facts({ media_type: PDF })],
      ['attachments[0]:ATTACHMENT_TYPE_MISMATCH'],
    ],
    [
      'an executable named .pdf',
      [ref({ media_type: PDF })],
      [facts({ media_type: EXE })],
      [
        'attachments[0]:ATTACHMENT_TYPE_MISMATCH',
        'attachments[0]:ATTACHMENT_TYPE_MISMATCH',
        'attachments[0]:ATTACHMENT_TYPE_NOT_ALLOWED',
      ],
    ],
    [
      'a script with no extension',
      [ref({ filename: 'setup' })],
      [facts({ media_type: 'application/x-sh' })],
      ['attachments[0]:ATTACHMENT_TYPE_MISMATCH', 'attachments[0]:ATTACHMENT_TYPE_NOT_ALLOWED'],
    ],
    [
      'a type the funder does not accept',
      [ref({ filename: 'letter.docx' })],
      [facts({ media_type: DOCX })],
      ['attachments[0]:ATTACHMENT_TYPE_NOT_ALLOWED'],
    ],
    [
      'measured sizes over the package limit',
      [ref(), ref({ filename: 'b.pdf' }), ref({ filename: 'c.pdf' })],
      [facts({ size_bytes: 900 }), facts({ size_bytes: 900 }), facts({ size_bytes: 900 })],
      ['attachments:ATTACHMENT_PACKAGE_TOO_LARGE'],
    ],
    [
      'an attachment that could not be opened next to a mismatch',
      [ref(), ref({ filename: 'b.pdf', sha256: HASH_B })],
      [undefined, facts()],
      ['attachments[1]:ATTACHMENT_CHECKSUM_MISMATCH'],
    ],
  ])('judges %s', (_what, refs, inspected, expected) => {
    expect(codes(inspectedAttachmentProblems(refs, inspected, rules))).toEqual(expected);
  });

  it('says what it measured', () => {
    const problems = inspectedAttachmentProblems(
      [ref({ size_bytes: 400, sha256: HASH_B, media_type: PDF }), ref({ filename: 'tool.pdf' })],
      [facts(), facts({ media_type: EXE, size_bytes: 1200, exceeded_limit: true })],
      rules,
    );
    expect(problems.map((p) => p.message)).toEqual([
      `"narrative.pdf" has SHA-256 ${HASH_A}, not the ${HASH_B} claimed`,
      '"narrative.pdf" is 500 bytes, not the 400 bytes claimed',
      `"tool.pdf" is larger than the funder's limit of 1,000 bytes per file (reading stopped after 1,200 bytes)`,
      `"tool.pdf" contains an executable program (${EXE}), not a document`,
      `'tool.pdf' is ${EXE}; the funder accepts only ${PDF}, ${XLSX}`,
    ]);
  });
});

describe('verifiedAttachmentsOf', () => {
  it('pairs measurements with references, keeping the declared type', () => {
    expect(
      verifiedAttachmentsOf([ref({ media_type: 'application/x-pdf' })], [facts({ size_bytes: 7 })]),
    ).toEqual([
      {
        uri: 'file:///attachments/narrative.pdf',
        filename: 'narrative.pdf',
        media_type: PDF,
        declared_media_type: 'application/x-pdf',
        size_bytes: 7,
        sha256: HASH_A,
      },
    ]);
  });

  it('refuses measurements that do not pair up', () => {
    expect(() => verifiedAttachmentsOf([ref(), ref()], [facts()])).toThrow(/2 attachment/);
  });
});

describe('orderedByAttachment', () => {
  it('puts package problems first, then attachments by index, stable within one', () => {
    const p = (field: string, code: string) => ({ field, code, message: '' });
    expect(
      orderedByAttachment([
        p('attachments[10]', 'A'),
        p('attachments[2]', 'B'),
        p('attachments', 'C'),
        p('attachments[2]', 'D'),
      ]).map((x) => x.code),
    ).toEqual(['C', 'B', 'D', 'A']);
  });
});

describe('integrityVerdict', () => {
  const packWith = (severities: Record<string, string> = {}): RulePack =>
    rulePackSchema.parse({
      funder_id: 'BCF',
      name: 'Test foundation',
      kind: 'foundation',
      version: 'test',
      time_zone: 'America/Chicago',
      portal: 'bcf-portal',
      deadline: { buffer_business_days: 1 },
      fields: {},
      attachments: rules,
      severities,
    });
  const scripted = { code: 'PDF_ACTIVE_CONTENT', message: 'it contains active content (/JS)' };
  const truncated = { code: 'PDF_TRUNCATED', message: 'it has no %%EOF marker' };

  it('knows every structural code storage reports as a rule-pack code', () => {
    const pack = packWith();
    for (const code of STRUCTURE_CODES) {
      const verdict = integrityVerdict(
        [ref()],
        [facts({ findings: [{ code, message: 'm' }] })],
        pack,
      );
      expect(verdict.blocking.map((p) => p.code)).toEqual([code]);
    }
  });

  it('blocks what the pack ranks CRITICAL and passes the rest as flags', () => {
    const strict = integrityVerdict(
      [ref(), ref({ filename: 'b.pdf' })],
      [facts({ findings: [scripted] }), facts({ findings: [truncated] })],
      packWith(),
    );
    expect(strict.flags).toEqual([]);
    expect(strict.blocking).toEqual([
      {
        code: 'PDF_ACTIVE_CONTENT',
        message: '"narrative.pdf": it contains active content (/JS)',
        field: 'attachments[0]',
      },
      {
        code: 'PDF_TRUNCATED',
        message: '"b.pdf": it has no %%EOF marker',
        field: 'attachments[1]',
      },
    ]);
    const lenient = integrityVerdict(
      [ref(), ref({ filename: 'b.pdf' })],
      [facts({ findings: [scripted] }), facts({ findings: [truncated] })],
      packWith({ PDF_ACTIVE_CONTENT: 'WARNING', PDF_TRUNCATED: 'INFO' }),
    );
    expect(lenient.blocking).toEqual([]);
    expect(attachmentFlagsDetail(lenient.flags)).toBe(
      'attachments[0]:PDF_ACTIVE_CONTENT:WARNING; attachments[1]:PDF_TRUNCATED:INFO',
    );
  });

  it('blocks a code the rule packs do not know', () => {
    const verdict = integrityVerdict(
      [ref()],
      [facts({ findings: [{ code: 'PDF_SOMETHING_NEW', message: 'm' }] })],
      packWith(),
    );
    expect(verdict.blocking.map((p) => p.code)).toEqual(['PDF_SOMETHING_NEW']);
  });

  it.each<[string, AttachmentRefV1, InspectedAttachmentFacts, string[]]>([
    [
      'a workbook without its workbook part',
      ref({ filename: 'budget.xlsx', media_type: XLSX }),
      facts({ media_type: XLSX, package_parts: ['[content_types].xml'] }),
      ['OOXML_PART_MISSING'],
    ],
    [
      'a document without content types or its main part',
      ref({ filename: 'plan.docx' }),
      facts({ media_type: DOCX, package_parts: [] }),
      ['OOXML_PART_MISSING', 'OOXML_PART_MISSING'],
    ],
    [
      'a document named .docx that holds a workbook',
      ref({ filename: 'plan.docx' }),
      facts({ media_type: XLSX, package_parts: ['[content_types].xml', 'xl/workbook.xml'] }),
      ['OOXML_PART_MISSING'],
    ],
    [
      'a sound workbook',
      ref({ filename: 'budget.xlsx', media_type: XLSX }),
      facts({ media_type: XLSX, package_parts: ['[content_types].xml', 'xl/workbook.xml'] }),
      [],
    ],
    [
      'a package whose directory could not be read (its finding says why)',
      ref({ filename: 'budget.xlsx' }),
      facts({ media_type: XLSX, package_parts: null }),
      [],
    ],
  ])('checks the parts of %s', (_, reference, measured, expected) => {
    const verdict = integrityVerdict([reference], [measured], packWith());
    expect(verdict.blocking.map((p) => p.code)).toEqual(expected);
  });

  it('judges no structure of an attachment cut off at the limit or not opened', () => {
    const verdict = integrityVerdict(
      [ref(), ref()],
      [facts({ exceeded_limit: true, findings: [truncated] }), undefined],
      packWith(),
    );
    expect(verdict).toEqual({ blocking: [], flags: [] });
  });
});
