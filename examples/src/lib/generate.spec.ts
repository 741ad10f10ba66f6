import { createHash } from 'node:crypto';
import { unzipSync, strFromU8 } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MetadataValueSchema } from '@grantstream/contracts';
import {
  DEFAULT_COUNT,
  DEFECT_COUNT,
  DEFECT_PLAN,
  LONG_FILENAME_LENGTH,
  OVERSIZED_METADATA_KEYS,
  OVERSIZE_BYTES,
  funderPrefixOf,
  generateExamples,
} from './generate';
import { docxDocument, xlsxWorkbook } from './documents';
import { DEFECT_KINDS, type ExampleFile, type GeneratedExamples } from './model';

const NOW = Date.parse('2026-12-01T15:00:00Z');
const DAY = 86_400_000;

const digest = (files: readonly ExampleFile[]) =>
  files.map((f) =>
    f.kind === 'file'
      ? `${f.path} ${createHash('sha256').update(f.bytes).digest('hex')}`
      : f.kind === 'symlink'
        ? `${f.path} -> ${f.target}`
        : `${f.path} sparse ${f.size}`,
  );

let batch: GeneratedExamples;

beforeAll(async () => {
  batch = await generateExamples({ now: NOW });
}, 120_000);

const fileAt = (path: string) => batch.files.find((f) => f.path === path);
const defectOf = (grantId: string) => batch.expected.grants[grantId]?.defect ?? null;

// Generating the batch renders a few hundred PDFs: seconds on a busy machine.
describe('generateExamples', { timeout: 120_000 }, () => {
  it('is deterministic: the same now gives the same lines, outcomes and bytes', async () => {
    const again = await generateExamples({ now: NOW });
    expect(again.applications).toEqual(batch.applications);
    expect(again.expected).toEqual(batch.expected);
    expect(digest(again.files)).toEqual(digest(batch.files));
  });

  it('keeps grant ids and attachment bytes when only now changes, and moves the deadlines', async () => {
    const later = await generateExamples({ now: NOW + 10 * DAY, count: DEFECT_COUNT + 5 });
    const small = await generateExamples({ now: NOW, count: DEFECT_COUNT + 5 });
    expect(later.applications.map((a) => a.grant_id)).toEqual(
      small.applications.map((a) => a.grant_id),
    );
    expect(digest(later.files)).toEqual(digest(small.files));
    const shift = later.applications.map(
      (a, i) =>
        Date.parse(a.submission_deadline) - Date.parse(small.applications[i]!.submission_deadline),
    );
    // Compliant deadlines fall on local calendar days, so a DST change may move them by an hour.
    for (const s of shift) expect(Math.abs(s - 10 * DAY)).toBeLessThanOrEqual(3_600_000);
  });

  it('makes at least 210 applications with unique grant ids, ≈45/30/25 % NSF/BCF/SCDA', () => {
    const ids = batch.applications.map((a) => a.grant_id);
    expect(ids.length).toBe(DEFAULT_COUNT);
    expect(DEFAULT_COUNT).toBeGreaterThanOrEqual(210);
    expect(new Set(ids).size).toBe(ids.length);
    const count = (prefix: string) => ids.filter((id) => funderPrefixOf(id) === prefix).length;
    const known = count('NSF') + count('BCF') + count('SCDA');
    expect(count('NSF') / known).toBeCloseTo(0.45, 1);
    expect(count('BCF') / known).toBeCloseTo(0.3, 1);
    expect(count('SCDA') / known).toBeCloseTo(0.25, 1);
  });

  it('gives every well-formed grant id the <FUNDER>-<YYYY>-<5 digits> form', () => {
    for (const a of batch.applications) {
      if (defectOf(a.grant_id) === 'bad-grant-id') {
        expect(a.grant_id).not.toMatch(/^[A-Z]+-\d{4}-\d{5}$/);
      } else {
        expect(a.grant_id).toMatch(/^(NSF|BCF|SCDA|XYZF)-2026-\d{5}$/);
      }
    }
  });

  it('carries every defect at least twice, spread over funders, and ≈70 % compliant', () => {
    const grants = Object.entries(batch.expected.grants);
    for (const kind of DEFECT_KINDS) {
      const withIt = grants.filter(([, g]) => g.defect === kind);
      expect(withIt.length, kind).toBe(DEFECT_PLAN[kind].length);
      expect(withIt.length, kind).toBeGreaterThanOrEqual(2);
    }
    const funders = new Set(
      grants.filter(([, g]) => g.defect !== null).map(([id]) => funderPrefixOf(id)),
    );
    expect([...funders].sort()).toEqual(['BCF', 'NSF', 'SCDA', 'XYZF']);
    const compliant = grants.filter(([, g]) => g.defect === null).length;
    expect(compliant / grants.length).toBeGreaterThan(0.65);
    expect(compliant / grants.length).toBeLessThan(0.78);
  });

  it('lists one expected outcome per application, in file order, with consistent totals', () => {
    expect(Object.keys(batch.expected.grants)).toEqual(batch.applications.map((a) => a.grant_id));
    const { totals, byFunder } = batch.expected;
    expect(totals.routed + totals.blocked + totals.dlq).toBe(batch.applications.length);
    const sum = Object.values(byFunder).reduce((n, f) => n + f.total, 0);
    expect(sum).toBe(batch.applications.length);
    for (const f of Object.values(byFunder)) expect(f.routed + f.blocked + f.dlq).toBe(f.total);
    expect(batch.expected.generatedFor).toBe('2026-12-01T15:00:00.000Z');
  });

  it.each([
    ['unknown-funder', 'dlq', 'UNKNOWN_FUNDER', 'UNKNOWN_FUNDER'],
    ['bad-grant-id', 'dlq', 'SCHEMA_VIOLATION', 'GRANT_ID_FORMAT'],
    ['too-many-metadata-keys', 'dlq', 'SCHEMA_VIOLATION', 'METADATA_TOO_MANY_KEYS'],
    ['deadline-passed', 'blocked', 'COMPLIANCE_BLOCK', 'DEADLINE_PASSED'],
    ['missing-required-field', 'blocked', 'COMPLIANCE_BLOCK', 'MISSING_REQUIRED_FIELD'],
    ['title-too-long', 'blocked', 'COMPLIANCE_BLOCK', 'TRUNCATION_RISK'],
    ['amount-out-of-range', 'blocked', 'COMPLIANCE_BLOCK', 'AMOUNT_OUT_OF_RANGE'],
    ['value-not-allowed', 'blocked', 'COMPLIANCE_BLOCK', 'VALUE_NOT_ALLOWED'],
    ['budget-missing', 'blocked', 'COMPLIANCE_BLOCK', 'ATTACHMENT_REQUIRED_MISSING'],
    ['path-traversal', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_TRAVERSAL'],
    ['path-traversal-encoded', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_TRAVERSAL'],
    ['absolute-uri-outside-root', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['symlink-outside-root', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['attachment-not-found', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_NOT_FOUND'],
    ['checksum-mismatch', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_CHECKSUM_MISMATCH'],
    ['oversize-attachment', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_TOO_LARGE'],
    ['duplicate-filenames', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_FILENAME_INVALID'],
    ['filename-too-long', 'dlq', 'ATTACHMENT_INVALID', 'ATTACHMENT_FILENAME_INVALID'],
  ])('expects %s to end in %s (%s, %s)', (defect, destination, category, code) => {
    const outcomes = Object.values(batch.expected.grants).filter((g) => g.defect === defect);
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    for (const g of outcomes) expect(g).toEqual({ destination, category, codes: [code], defect });
  });

  it('expects an executable named .pdf to be both mistyped and of a type no funder accepts', () => {
    const outcomes = Object.values(batch.expected.grants).filter(
      (g) => g.defect === 'executable-as-pdf',
    );
    expect(outcomes).toHaveLength(3);
    for (const g of outcomes) {
      expect(g.codes).toEqual(['ATTACHMENT_TYPE_MISMATCH', 'ATTACHMENT_TYPE_NOT_ALLOWED']);
    }
  });

  it('routes an at-risk deadline with a warning for NSF and BCF and blocks it for SCDA', () => {
    const atRisk = Object.entries(batch.expected.grants).filter(
      ([, g]) => g.defect === 'deadline-at-risk',
    );
    for (const [id, g] of atRisk) {
      expect(g.codes).toEqual(['DEADLINE_AT_RISK']);
      expect(g.destination).toBe(funderPrefixOf(id) === 'SCDA' ? 'blocked' : 'routed');
    }
  });

  it('sets deadlines: passed 3 days ago, at risk tomorrow, otherwise at least 3 weeks out', () => {
    for (const a of batch.applications) {
      const deadline = Date.parse(a.submission_deadline);
      expect(a.submission_deadline).toMatch(/(Z|[+-]\d{2}:\d{2})$/);
      const defect = defectOf(a.grant_id);
      if (defect === 'deadline-passed') expect(deadline).toBe(NOW - 3 * DAY);
      else if (defect === 'deadline-at-risk') expect(deadline).toBe(NOW + DAY);
      else expect(deadline).toBeGreaterThan(NOW + 21 * DAY);
      expect(Date.parse(a.audit_timestamp)).toBeLessThan(NOW);
    }
  });

  it('keeps the milliseconds of now in the deadlines it derives from it', async () => {
    const now = NOW + 123;
    const small = await generateExamples({ now, count: DEFECT_COUNT });
    const deadlines = small.applications
      .filter((a) => small.expected.grants[a.grant_id]?.defect === 'deadline-at-risk')
      .map((a) => Date.parse(a.submission_deadline));
    expect(deadlines).toEqual(deadlines.map(() => now + DAY));
  });

  it('writes only plain metadata values, in several key styles', () => {
    const keys = new Set<string>();
    for (const a of batch.applications) {
      for (const [k, v] of Object.entries(a.metadata)) {
        expect(MetadataValueSchema.safeParse(v).success, `${a.grant_id} ${k}`).toBe(true);
        keys.add(k);
      }
    }
    for (const k of ['project_title', 'Project Title', 'projectTitle', 'Title']) {
      expect(keys.has(k), k).toBe(true);
    }
    const values = batch.applications.flatMap((a) => Object.values(a.metadata));
    expect(values.some((v) => typeof v === 'string' && /^\$\d{1,3}(,\d{3})*\.\d\d$/.test(v))).toBe(
      true,
    );
    expect(values.some((v) => typeof v === 'string' && /^\d\d\/\d\d\/\d{4}$/.test(v))).toBe(true);
    expect(values.some((v) => typeof v === 'string' && v !== v.normalize('NFC'))).toBe(true);
    expect(values.some((v) => typeof v === 'string' && v !== v.trim())).toBe(true);
    expect(values.some((v) => typeof v === 'string' && /^[a-z0-9]{4} [a-z0-9]{4} /.test(v))).toBe(
      true,
    );
  });

  it('gives the too-many-keys applications exactly 10,000 metadata keys', () => {
    const apps = batch.applications.filter(
      (a) => defectOf(a.grant_id) === 'too-many-metadata-keys',
    );
    expect(apps).toHaveLength(2);
    for (const a of apps) expect(Object.keys(a.metadata)).toHaveLength(OVERSIZED_METADATA_KEYS);
  });

  it('backs every claimed size and checksum with the file bytes, except the mismatch defect', () => {
    let claimed = 0;
    for (const a of batch.applications) {
      for (const ref of a.attachments) {
        const file = fileAt(ref.uri);
        if (file?.kind !== 'file') continue;
        if (ref.size_bytes !== undefined) expect(ref.size_bytes).toBe(file.bytes.length);
        if (ref.sha256 === undefined) continue;
        claimed += 1;
        const actual = createHash('sha256').update(file.bytes).digest('hex');
        if (
          defectOf(a.grant_id) === 'checksum-mismatch' &&
          ref.filename.includes('Supplementary')
        ) {
          expect(ref.sha256).not.toBe(actual);
        } else {
          expect(ref.sha256, `${a.grant_id} ${ref.filename}`).toBe(actual);
        }
      }
    }
    expect(claimed).toBeGreaterThan(batch.applications.length);
  });

  it('references attachments relative to the batch, except the deliberate bad URIs', () => {
    const special = new Map<string, string>([
      ['path-traversal', 'attachments/../../../etc/passwd'],
      ['path-traversal-encoded', '%2e%2e/%2e%2e/etc/hostname'],
      ['absolute-uri-outside-root', 'file:///etc/passwd'],
    ]);
    for (const a of batch.applications) {
      const defect = defectOf(a.grant_id) ?? '';
      for (const ref of a.attachments) {
        if (special.has(defect) && ref.filename.startsWith('Supplementary')) {
          expect(ref.uri).toBe(special.get(defect));
          continue;
        }
        expect(ref.uri.startsWith(`attachments/${a.grant_id}/`)).toBe(true);
        const file = fileAt(ref.uri);
        if (defect === 'attachment-not-found' && ref.filename.startsWith('Supplementary')) {
          expect(file).toBeUndefined();
        } else {
          expect(file, ref.uri).toBeDefined();
        }
      }
    }
  });

  it('makes the special files: symlinks to /etc/hostname, a sparse oversize PDF, an executable', () => {
    const byDefect = (kind: string) =>
      batch.applications
        .filter((a) => defectOf(a.grant_id) === kind)
        .flatMap((a) => a.attachments.map((r) => fileAt(r.uri)))
        .filter((f) => f !== undefined);
    const links = byDefect('symlink-outside-root').filter((f) => f.kind === 'symlink');
    expect(links).toHaveLength(2);
    for (const l of links) expect(l).toMatchObject({ target: '/etc/hostname' });
    const sparse = byDefect('oversize-attachment').filter((f) => f.kind === 'sparse');
    expect(sparse).toHaveLength(2);
    for (const s of sparse) {
      expect(s).toMatchObject({ size: OVERSIZE_BYTES });
      expect(OVERSIZE_BYTES).toBe(26 * 1024 * 1024 + 1);
    }
    const exes = byDefect('executable-as-pdf').filter(
      (f) =>
        f.kind === 'file' &&
        Buffer.from(f.bytes.subarray(0, 4)).equals(Buffer.from([0x4d, 0x5a, 0x90, 0])),
    );
    expect(exes).toHaveLength(3);
    const oversizeRefs = batch.applications
      .filter((a) => defectOf(a.grant_id) === 'oversize-attachment')
      .flatMap((a) => a.attachments)
      .filter((r) => fileAt(r.uri)?.kind === 'sparse');
    for (const r of oversizeRefs) expect(r.size_bytes).toBeUndefined();
  });

  it('names the long NSF attachment with exactly 63 characters and duplicates names on demand', () => {
    const long = batch.applications
      .filter((a) => defectOf(a.grant_id) === 'filename-too-long')
      .flatMap((a) => a.attachments.map((r) => r.filename))
      .filter((n) => n.length > 50);
    expect(long.map((n) => n.length)).toEqual([LONG_FILENAME_LENGTH, LONG_FILENAME_LENGTH]);
    for (const a of batch.applications.filter(
      (x) => defectOf(x.grant_id) === 'duplicate-filenames',
    )) {
      const names = a.attachments.map((r) => r.filename);
      expect(new Set(names).size).toBe(names.length - 1);
      expect(new Set(a.attachments.map((r) => r.uri)).size).toBe(names.length);
    }
  });

  it('makes real PDFs with fixed dates and the grant title', async () => {
    const app = batch.applications.find(
      (a) => funderPrefixOf(a.grant_id) === 'NSF' && defectOf(a.grant_id) === null,
    )!;
    const file = fileAt(app.attachments[0]!.uri);
    expect(file?.kind).toBe('file');
    if (file?.kind !== 'file') return;
    const text = Buffer.from(file.bytes).toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text).toContain('/CreationDate (D:20260115090000Z)');
    const doc = await PDFDocument.load(file.bytes, { updateMetadata: false });
    expect(doc.getPageCount()).toBe(1);
    expect(doc.getProducer()).toBe('grantstream examples generator');
    expect(doc.getTitle()?.length).toBeGreaterThan(10);
  });

  it('makes XLSX budgets with [Content_Types].xml first whose lines add up to the request', () => {
    const app = batch.applications.find(
      (a) => funderPrefixOf(a.grant_id) === 'SCDA' && defectOf(a.grant_id) === null,
    )!;
    const ref = app.attachments.find((r) => r.filename.endsWith('.xlsx'))!;
    const file = fileAt(ref.uri);
    if (file?.kind !== 'file') throw new Error('no workbook');
    // A local file header's name starts at byte 30.
    const firstName = Buffer.from(file.bytes.subarray(30, 30 + 19)).toString('latin1');
    expect(firstName).toBe('[Content_Types].xml');
    const parts = unzipSync(file.bytes);
    expect(Object.keys(parts)).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      'xl/worksheets/sheet1.xml',
    ]);
    const sheet = strFromU8(parts['xl/worksheets/sheet1.xml']!);
    const values = [...sheet.matchAll(/<c r="B(\d+)"><v>(\d+)<\/v><\/c>/g)].map((m) =>
      Number(m[2]),
    );
    const total = values.at(-1)!;
    expect(values.slice(0, -1).reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('makes XLSX and DOCX bytes that do not depend on the machine time zone', () => {
    const original = process.env['TZ'];
    try {
      process.env['TZ'] = 'UTC';
      const a = [xlsxWorkbook('Budget', [['x', 1]]), docxDocument(['Narrative'])];
      process.env['TZ'] = 'Pacific/Kiritimati';
      const b = [xlsxWorkbook('Budget', [['x', 1]]), docxDocument(['Narrative'])];
      expect(Buffer.from(b[0]!).equals(Buffer.from(a[0]!))).toBe(true);
      expect(Buffer.from(b[1]!).equals(Buffer.from(a[1]!))).toBe(true);
      expect(Object.keys(unzipSync(a[1]!))).toContain('word/document.xml');
    } finally {
      if (original === undefined) delete process.env['TZ'];
      else process.env['TZ'] = original;
    }
  });

  it('scales the compliant part with count and refuses fewer than the defects need', async () => {
    const small = await generateExamples({ now: NOW, count: DEFECT_COUNT + 3 });
    expect(small.applications).toHaveLength(DEFECT_COUNT + 3);
    expect(Object.values(small.expected.grants).filter((g) => g.defect !== null)).toHaveLength(
      DEFECT_COUNT,
    );
    await expect(generateExamples({ now: NOW, count: DEFECT_COUNT - 1 })).rejects.toThrow(
      /at least/,
    );
    const other = await generateExamples({ now: NOW, count: DEFECT_COUNT, seed: 7 });
    expect(other.applications[0]?.grant_id).not.toBe(small.applications[0]?.grant_id);
  });
});
