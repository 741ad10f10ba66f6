import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { AttachmentRefV1, GrantSubmissionV2 } from '@grantstream/contracts';
import {
  AttachmentInvalidError,
  AttachmentStorageError,
  BusinessRuleViolationError,
  UnknownFunderError,
} from '@grantstream/errors';
import { rulePackSchema, type RulePack } from '@grantstream/rules';
import { AttachmentStores, FileAttachmentStore } from '@grantstream/storage';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  validateSubmission,
  validateSubmissionWithFlags,
  type SubmissionValidatorDeps,
} from './validate-submission';
import { FIXTURE_LIMITS } from '../domain/ingest-limits.fixture';
import { pdfBytes, zipBytes } from './attachment-bytes.fixture';
import { FIXTURE_STRUCTURE_LIMITS } from './structure-limits.fixture';

const NOW = Date.UTC(2026, 10, 1);
const PDF = 'application/pdf';
const MAX_FILE_BYTES = 4096;
const NARRATIVE = pdfBytes({ note: 'project narrative' });
const BIOSKETCH = pdfBytes({ note: 'biosketch' });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const limits = FIXTURE_LIMITS;

const pack: RulePack = rulePackSchema.parse({
  funder_id: 'NSF',
  name: 'National Science Foundation',
  kind: 'federal',
  version: 'test',
  time_zone: 'America/New_York',
  portal: 'grants-gov',
  deadline: { buffer_business_days: 5 },
  fields: {},
  attachments: {
    allowed_media_types: [PDF],
    max_file_bytes: MAX_FILE_BYTES,
    max_package_bytes: 1_000_000,
    max_count: 10,
    max_filename_length: 50,
    filename_pattern: '^[A-Za-z0-9_\\-. ]+$',
    required: [{ media_type: PDF, description: 'Project Description' }],
  },
});

describe('validateSubmission', () => {
  let base: string;
  let root: string;
  let deps: SubmissionValidatorDeps;
  const uri = (name: string) => `file://${path.join(root, name)}`;
  const attachment = (name: string, overrides: Partial<AttachmentRefV1> = {}): AttachmentRefV1 => ({
    uri: uri(name),
    media_type: null,
    size_bytes: null,
    sha256: null,
    filename: name,
    ...overrides,
  });
  const submission = (
    attachments: AttachmentRefV1[],
    overrides: Partial<GrantSubmissionV2> = {},
  ) => ({
    grant_id: 'NSF-2026-00042',
    funder_portal: 'grants-gov',
    submission_deadline: NOW + 30 * 86_400_000,
    metadata: { project_title: 'Watershed sensing' },
    attachments,
    audit_timestamp: NOW,
    program_code: null,
    applicant_ein: null,
    ...overrides,
  });

  async function failure(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected validateSubmission to throw');
  }

  beforeAll(async () => {
    base = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'validate-')));
    root = path.join(base, 'attachments');
    await fsp.mkdir(root);
    await fsp.mkdir(path.join(base, 'outside'));
    await fsp.writeFile(path.join(root, 'narrative.pdf'), NARRATIVE);
    await fsp.writeFile(path.join(root, 'biosketch.pdf'), BIOSKETCH);
    await fsp.writeFile(
      path.join(root, 'tool.pdf'),
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00', 'latin1'),
    );
    await fsp.writeFile(path.join(base, 'outside', 'secret.pdf'), '%PDF-1.7 secret');
    await fsp.symlink(path.join(base, 'outside', 'secret.pdf'), path.join(root, 'escape.pdf'));
    await fsp.writeFile(path.join(root, 'huge.pdf'), '%PDF-1.7\n');
    await fsp.truncate(path.join(root, 'huge.pdf'), MAX_FILE_BYTES + 1);
    deps = {
      stores: new AttachmentStores([new FileAttachmentStore({ roots: [root] })]),
      packs: { get: (id) => (id === 'NSF' ? pack : undefined) },
      limits,
      sniffBytes: 64 * 1024,
      inspect: FIXTURE_STRUCTURE_LIMITS,
      now: () => NOW,
    };
  });

  afterAll(async () => {
    await fsp.rm(base, { recursive: true, force: true });
  });

  it('resolves with what it measured for a good package', async () => {
    const verified = await validateSubmission(
      submission([
        attachment('narrative.pdf', {
          media_type: PDF,
          size_bytes: NARRATIVE.length,
          sha256: sha256(NARRATIVE),
        }),
        attachment('biosketch.pdf'),
      ]),
      deps,
    );
    expect(verified).toEqual([
      {
        uri: uri('narrative.pdf'),
        filename: 'narrative.pdf',
        media_type: PDF,
        declared_media_type: PDF,
        size_bytes: NARRATIVE.length,
        sha256: sha256(NARRATIVE),
      },
      expect.objectContaining({
        filename: 'biosketch.pdf',
        media_type: PDF,
        declared_media_type: null,
        size_bytes: BIOSKETCH.length,
      }),
    ]);
  });

  it('accepts a submission without attachments (whether they are required is routing’s call)', async () => {
    expect(await validateSubmission(submission([]), deps)).toEqual([]);
  });

  it.each<[string, Partial<GrantSubmissionV2>, new (...args: never[]) => Error, string[]]>([
    ['an unknown funder', { grant_id: 'GATES-2026-00117' }, UnknownFunderError, ['UNKNOWN_FUNDER']],
    [
      'a malformed grant id',
      { grant_id: 'NSF2026' },
      BusinessRuleViolationError,
      ['GRANT_ID_FORMAT'],
    ],
    [
      'an unknown funder and an unset deadline',
      { grant_id: 'GATES-2026-00117', submission_deadline: 0 },
      BusinessRuleViolationError,
      ['DEADLINE_UNPARSEABLE', 'UNKNOWN_FUNDER'],
    ],
  ])('refuses %s before touching storage', async (_what, overrides, kind, codes) => {
    const open = vi.fn();
    const err = await failure(
      validateSubmission(submission([attachment('narrative.pdf')], overrides), {
        ...deps,
        stores: { open },
      }),
    );
    expect(err).toBeInstanceOf(kind);
    expect((err as UnknownFunderError).problems.map((p) => p.code)).toEqual(codes);
    expect(open).not.toHaveBeenCalled();
  });

  it('refuses bad references before reading any byte', async () => {
    const open = vi.fn();
    const err = await failure(
      validateSubmission(
        submission([
          attachment('narrative.pdf'),
          attachment('narrative.pdf'),
          attachment('biosketch.pdf', { sha256: 'ABC' }),
        ]),
        { ...deps, stores: { open } },
      ),
    );
    expect(err).toBeInstanceOf(AttachmentInvalidError);
    expect((err as AttachmentInvalidError).problems.map((p) => `${p.field}:${p.code}`)).toEqual([
      'attachments[1]:ATTACHMENT_FILENAME_INVALID',
      'attachments[2]:ATTACHMENT_CHECKSUM_FORMAT',
    ]);
    expect(open).not.toHaveBeenCalled();
  });

  it('reports every problem of the package together', async () => {
    const err = await failure(
      validateSubmission(
        submission([
          attachment('narrative.pdf', { sha256: 'f'.repeat(64) }),
          attachment('tool.pdf'),
          attachment('missing.pdf'),
          attachment('escape.pdf'),
          attachment('huge.pdf'),
          attachment('biosketch.pdf', { size_bytes: 20 }),
        ]),
        deps,
      ),
    );
    expect(err).toBeInstanceOf(AttachmentInvalidError);
    expect((err as AttachmentInvalidError).problems.map((p) => `${p.field}:${p.code}`)).toEqual([
      'attachments[0]:ATTACHMENT_CHECKSUM_MISMATCH',
      'attachments[1]:ATTACHMENT_TYPE_MISMATCH',
      'attachments[1]:ATTACHMENT_TYPE_NOT_ALLOWED',
      'attachments[2]:ATTACHMENT_NOT_FOUND',
      'attachments[3]:ATTACHMENT_PATH_OUTSIDE_ROOT',
      'attachments[4]:ATTACHMENT_TOO_LARGE',
      'attachments[5]:ATTACHMENT_SIZE_MISMATCH',
    ]);
    expect(err.message).toContain('reading stopped after 4,097 bytes');
    expect((err as AttachmentInvalidError).retriable).toBe(false);
  });

  it('reads attachments one at a time', async () => {
    const opened: Readable[] = [];
    const open = vi.fn(async (u: string) => {
      expect(opened.every((s) => s.destroyed)).toBe(true);
      const stream = await deps.stores.open(u);
      opened.push(stream);
      return stream;
    });
    await validateSubmission(
      submission([
        attachment('narrative.pdf'),
        attachment('biosketch.pdf'),
        attachment('huge.pdf', { filename: 'h.pdf' }),
      ]),
      { ...deps, stores: { open } },
    ).catch(() => undefined);
    expect(open).toHaveBeenCalledTimes(3);
    expect(opened.every((s) => s.destroyed)).toBe(true);
  });

  it('lets a storage failure propagate as retriable', async () => {
    const open = vi.fn().mockRejectedValue(new AttachmentStorageError('object store answered 503'));
    const err = await failure(
      validateSubmission(submission([attachment('narrative.pdf')]), { ...deps, stores: { open } }),
    );
    expect(err).toBeInstanceOf(AttachmentStorageError);
    expect((err as AttachmentStorageError).retriable).toBe(true);
  });

  it('turns a stream that fails mid-read into a retriable storage error', async () => {
    const open = vi.fn().mockResolvedValue(
      new Readable({
        read() {
          this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        },
      }),
    );
    const err = await failure(
      validateSubmission(submission([attachment('narrative.pdf')]), { ...deps, stores: { open } }),
    );
    expect(err).toBeInstanceOf(AttachmentStorageError);
    expect(err.message).toMatch(/attachments\[0\].*EIO/);
  });

  it('stops at the next attachment once aborted', async () => {
    const controller = new AbortController();
    const open = vi.fn(async (u: string) => {
      controller.abort();
      return deps.stores.open(u);
    });
    const err = await failure(
      validateSubmission(
        submission([attachment('narrative.pdf'), attachment('biosketch.pdf')]),
        { ...deps, stores: { open } },
        controller.signal,
      ),
    );
    expect(err.name).toBe('AbortError');
    expect(open).toHaveBeenCalledTimes(1);
  });

  describe('structure by type', () => {
    const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const lenient = rulePackSchema.parse({
      ...pack,
      funder_id: 'BCF',
      attachments: { ...pack.attachments, allowed_media_types: [PDF, XLSX] },
      severities: { PDF_ACTIVE_CONTENT: 'WARNING' },
    });
    const withPacks = (): SubmissionValidatorDeps => ({
      ...deps,
      packs: { get: (id) => (id === 'NSF' ? pack : id === 'BCF' ? lenient : undefined) },
    });
    const scripted = pdfBytes({ catalog: '/OpenAction << /S /JavaScript /JS (app.alert(1)) >>' });
    const cut = NARRATIVE.subarray(0, NARRATIVE.length - 40);

    beforeAll(async () => {
      await fsp.writeFile(path.join(root, 'scripted.pdf'), scripted);
      await fsp.writeFile(path.join(root, 'cut.pdf'), cut);
      await fsp.writeFile(
        path.join(root, 'budget.xlsx'),
        zipBytes(['[Content_Types].xml', 'xl/workbook.xml', '../../evil.txt']),
      );
      await fsp.writeFile(path.join(root, 'plain.xlsx'), zipBytes(['xl/workbook.xml']));
    });

    it('rejects a truncated PDF with its code, whatever its checksum says', async () => {
      const err = await failure(
        validateSubmission(
          submission([attachment('cut.pdf', { sha256: sha256(cut), size_bytes: cut.length })]),
          withPacks(),
        ),
      );
      expect(err).toBeInstanceOf(AttachmentInvalidError);
      expect((err as AttachmentInvalidError).code).toBe('PDF_TRUNCATED');
      expect(err.message).toMatch(/attachments\[0\]: "cut.pdf": it has no %%EOF/);
    });

    it('ranks active content by the funder: an error for one, a flag for another', async () => {
      const strict = await failure(
        validateSubmission(submission([attachment('scripted.pdf')]), withPacks()),
      );
      expect((strict as AttachmentInvalidError).code).toBe('PDF_ACTIVE_CONTENT');
      const passed = await validateSubmissionWithFlags(
        submission([attachment('scripted.pdf')], { grant_id: 'BCF-2026-00042' }),
        withPacks(),
      );
      expect(passed.verified.map((v) => v.filename)).toEqual(['scripted.pdf']);
      expect(passed.flags).toEqual([
        expect.objectContaining({
          code: 'PDF_ACTIVE_CONTENT',
          severity: 'WARNING',
          field: 'attachments[0]',
        }),
      ]);
    });

    it('rejects a workbook with a traversal entry name or without its content types', async () => {
      const err = (await failure(
        validateSubmission(
          submission(
            [attachment('narrative.pdf'), attachment('budget.xlsx'), attachment('plain.xlsx')],
            { grant_id: 'BCF-2026-00042' },
          ),
          withPacks(),
        ),
      )) as AttachmentInvalidError;
      expect(err.problems.map((p) => `${p.field}:${p.code}`)).toEqual([
        'attachments[1]:ZIP_PATH_TRAVERSAL',
        'attachments[2]:OOXML_PART_MISSING',
      ]);
    });
  });
});
