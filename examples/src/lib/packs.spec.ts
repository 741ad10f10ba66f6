/**
 * The generator does not read the rule packs (it is pure); this spec proves it
 * agrees with them. A small stand-in for normalization and compliance routing,
 * built on @grantstream/rules, judges every generated application against
 * examples/rule-packs: compliant ones must raise no finding, and each defect
 * exactly the finding its expected outcome names.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attachmentFindings,
  businessDaysBetween,
  canonicalKey,
  loadRulePacks,
  severityOf,
  type AttachmentFacts,
  type FieldRule,
  type FlagCode,
  type RulePack,
  type RulePackSet,
} from '@grantstream/rules';
import { FUNDERS, MEDIA, type FunderId } from './funders';
import { funderPrefixOf, generateExamples } from './generate';
import type { ExampleApplication, GeneratedExamples, MetadataValue } from './model';

const NOW = Date.parse('2026-12-01T15:00:00Z');
const packs: RulePackSet = loadRulePacks(join(__dirname, '../../rule-packs'));
let batch: GeneratedExamples;

beforeAll(async () => {
  batch = await generateExamples({ now: NOW });
}, 120_000);

const packOf = (id: FunderId): RulePack => {
  const pack = packs.get(id);
  if (!pack) throw new Error(`no pack for ${id}`);
  return pack;
};

const MONTH_DAY_YEAR = /^(\d{2})\/(\d{2})\/(\d{4})$/;

/** Canonical text of a value, or null when it does not parse as its type. */
function canonical(type: FieldRule['type'], value: MetadataValue): string | number | null {
  const text = Array.isArray(value) ? value.join('; ') : String(value).normalize('NFC').trim();
  switch (type) {
    case 'text':
      return text.replace(/\s+/g, ' ');
    case 'amount': {
      const n = typeof value === 'number' ? value : Number(text.replace(/[$,]/g, ''));
      return Number.isFinite(n) ? n : null;
    }
    case 'integer':
      return /^\d+$/.test(text) ? Number(text) : null;
    case 'date': {
      const us = MONTH_DAY_YEAR.exec(text);
      const iso = us ? `${us[3]}-${us[1]}-${us[2]}` : text;
      return /^\d{4}-\d{2}-\d{2}$/.test(iso) && !Number.isNaN(Date.parse(iso)) ? iso : null;
    }
    case 'ein': {
      const digits = text.replace('-', '');
      return /^\d{9}$/.test(digits) ? `${digits.slice(0, 2)}-${digits.slice(2)}` : null;
    }
    case 'uei': {
      const uei = text.replace(/\s+/g, '').toUpperCase();
      return /^[A-Z0-9]{12}$/.test(uei) ? uei : null;
    }
    case 'email':
      return /^[^@\s]+@[^@\s]+\.[a-z]+$/i.test(text) ? text : null;
    case 'code':
    case 'list':
      return text.toUpperCase();
  }
}

function mediaTypeOf(filename: string, claimed: string | undefined): string {
  if (claimed) return claimed;
  if (filename.endsWith('.xlsx')) return MEDIA.xlsx;
  if (filename.endsWith('.docx')) return MEDIA.docx;
  return MEDIA.pdf;
}

/** Findings (code and severity) of one application, as normalization + routing would raise them. */
function judge(app: ExampleApplication, pack: RulePack): Map<FlagCode, string> {
  const findings = new Map<FlagCode, string>();
  const add = (code: FlagCode, field?: FieldRule) =>
    findings.set(code, severityOf(pack, code, field));
  const byKey = new Map(Object.entries(app.metadata).map(([k, v]) => [canonicalKey(k), v]));
  for (const rule of Object.values(pack.fields)) {
    const key = rule.from.map(canonicalKey).find((k) => byKey.has(k));
    const raw = key === undefined ? undefined : byKey.get(key);
    if (raw === undefined || raw === null || String(raw).trim() === '') {
      if (rule.required) add('MISSING_REQUIRED_FIELD', rule);
      continue;
    }
    const value = canonical(rule.type, raw);
    if (value === null) {
      add('INVALID_FORMAT', rule);
      continue;
    }
    if (rule.max_length !== undefined && [...String(value)].length > rule.max_length) {
      add('TRUNCATION_RISK', rule);
    }
    if (rule.pattern && !new RegExp(`^(?:${rule.pattern})$`, 'u').test(String(value))) {
      add('PATTERN_MISMATCH', rule);
    }
    if (rule.allowed && !rule.allowed.includes(String(value))) add('VALUE_NOT_ALLOWED', rule);
    if (typeof value === 'number') {
      if (
        (rule.min !== undefined && value < rule.min) ||
        (rule.max !== undefined && value > rule.max)
      ) {
        add('AMOUNT_OUT_OF_RANGE', rule);
      }
    }
  }
  const deadline = Date.parse(app.submission_deadline);
  if (deadline <= NOW) add('DEADLINE_PASSED');
  else if (
    businessDaysBetween(NOW, deadline, pack.time_zone, pack.deadline.holidays) <
    pack.deadline.buffer_business_days
  ) {
    add('DEADLINE_AT_RISK');
  }
  if (app.funder_portal !== pack.portal) add('PORTAL_MISMATCH');
  const sizes = new Map(
    batch.files.map((f) => [
      f.path,
      f.kind === 'file' ? f.bytes.length : f.kind === 'sparse' ? f.size : null,
    ]),
  );
  const facts: AttachmentFacts[] = app.attachments.map((r) => ({
    filename: r.filename,
    media_type: mediaTypeOf(r.filename, r.media_type),
    size_bytes: r.size_bytes ?? sizes.get(r.uri) ?? null,
  }));
  for (const f of attachmentFindings(facts, pack.attachments)) add(f.code);
  return findings;
}

describe('the generator against examples/rule-packs', { timeout: 120_000 }, () => {
  it.each(['NSF', 'BCF', 'SCDA'] as const)('%s: the generator knows the pack limits', (id) => {
    const pack = packOf(id);
    const facts = FUNDERS[id];
    expect(facts.portal).toBe(pack.portal);
    expect(facts.timeZone).toBe(pack.time_zone);
    expect(facts.titleMax).toBe(pack.fields['title']?.max_length);
    expect(facts.amountMin).toBe(pack.fields['requested_amount']?.min);
    expect(facts.amountMax).toBe(pack.fields['requested_amount']?.max);
    expect(facts.maxFileBytes).toBe(pack.attachments.max_file_bytes);
    expect(facts.maxFilenameLength).toBe(pack.attachments.max_filename_length);
    expect(facts.atRiskBlocks).toBe(severityOf(pack, 'DEADLINE_AT_RISK') === 'CRITICAL');
  });

  it('raises no finding at all for the compliant applications', () => {
    let judged = 0;
    for (const app of batch.applications) {
      if (batch.expected.grants[app.grant_id]?.defect !== null) continue;
      const findings = judge(app, packOf(funderPrefixOf(app.grant_id) as FunderId));
      expect([...findings.keys()], app.grant_id).toEqual([]);
      judged += 1;
    }
    expect(judged).toBeGreaterThan(140);
  });

  it('raises exactly the expected compliance finding for each blocked or flagged application', () => {
    for (const app of batch.applications) {
      const expected = batch.expected.grants[app.grant_id]!;
      const isCompliance = expected.destination !== 'dlq' && expected.defect !== null;
      if (!isCompliance) continue;
      const findings = judge(app, packOf(funderPrefixOf(app.grant_id) as FunderId));
      expect([...findings.keys()], app.grant_id).toEqual(expected.codes);
      const severity = findings.get(expected.codes[0] as FlagCode);
      expect(severity, app.grant_id).toBe(
        expected.destination === 'blocked' ? 'CRITICAL' : 'WARNING',
      );
    }
  });

  it('breaks the funder file rules only where a filename or size defect is meant to', () => {
    for (const app of batch.applications) {
      const expected = batch.expected.grants[app.grant_id]!;
      const prefix = funderPrefixOf(app.grant_id);
      if (expected.destination !== 'dlq' || !(prefix in FUNDERS)) continue;
      if (expected.defect === 'bad-grant-id' || expected.defect === 'too-many-metadata-keys')
        continue;
      const findings = [...judge(app, packOf(prefix as FunderId)).keys()];
      const code = expected.codes[0];
      if (code === 'ATTACHMENT_FILENAME_INVALID' || code === 'ATTACHMENT_TOO_LARGE') {
        expect(findings, app.grant_id).toEqual([code]);
      } else {
        expect(findings, app.grant_id).toEqual([]);
      }
    }
  });

  it('keeps the malformed and oversized-metadata applications otherwise compliant', () => {
    const odd = batch.applications.filter((a) =>
      ['bad-grant-id', 'too-many-metadata-keys'].includes(
        batch.expected.grants[a.grant_id]!.defect ?? '',
      ),
    );
    expect(odd).toHaveLength(4);
    for (const app of odd) {
      const findings = judge(app, packOf(funderPrefixOf(app.grant_id) as FunderId));
      expect([...findings.keys()], app.grant_id).toEqual([]);
    }
  });

  it('sends unknown-funder applications to a funder no pack knows', () => {
    const unknown = batch.applications.filter(
      (a) => batch.expected.grants[a.grant_id]!.defect === 'unknown-funder',
    );
    expect(unknown.length).toBeGreaterThanOrEqual(2);
    for (const app of unknown) expect(packs.get(funderPrefixOf(app.grant_id))).toBeUndefined();
  });
});
