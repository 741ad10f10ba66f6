import type { MetadataValue } from '@grantstream/contracts';
import { type FieldType, localDateOf } from '@grantstream/rules';
import type { ChangeReason } from './field-change-reasons';

/** One step of a field's normalization, before the field name is attached. */
export interface ValueStep {
  reason: ChangeReason;
  before: string;
  after: string;
}

/** A field value in canonical text form and the steps that produced it, in order applied. */
export interface ParsedValue {
  value: string;
  steps: ValueStep[];
}

/** A source value that is present (null is handled before parsing). */
export type PresentValue = Exclude<MetadataValue, null>;

/** The submitted value as text, for the `before` of the first step. */
export function renderValue(raw: PresentValue): string {
  return Array.isArray(raw) ? JSON.stringify(raw) : String(raw);
}

/** Records each step that changes the value; `force` records a change of type that keeps the text. */
class Steps {
  readonly steps: ValueStep[] = [];
  constructor(public value: string) {}

  apply(reason: ChangeReason, next: string, force = false): this {
    if (force || next !== this.value) {
      this.steps.push({ reason, before: this.value, after: next });
      this.value = next;
    }
    return this;
  }

  /** Ends parsing as unparseable: the value stays as it is so routing flags INVALID_FORMAT. */
  unparseable(): ParsedValue {
    this.apply('NOT_PARSEABLE', this.value, true);
    return this.done();
  }

  done(): ParsedValue {
    return { value: this.value, steps: this.steps };
  }
}

const nfcTrim = (s: Steps) =>
  s.apply('UNICODE_NFC', s.value.normalize('NFC')).apply('TRIMMED_WHITESPACE', s.value.trim());

/**
 * Scalar types share their start: an array is joined (one item is then just
 * that item), a boolean is never a scalar value, and text is NFC'd and
 * trimmed. Returns the finished result when the value is already unparseable.
 */
function scalarText(raw: PresentValue): Steps | ParsedValue {
  const s = new Steps(renderValue(raw));
  if (typeof raw === 'boolean') return s.unparseable();
  if (Array.isArray(raw)) s.apply('LIST_JOINED', raw.join('; '), true);
  return nfcTrim(s);
}

function textSteps(raw: PresentValue): Steps | ParsedValue {
  const s = new Steps(renderValue(raw));
  if (typeof raw === 'boolean') return s.unparseable();
  if (typeof raw === 'number') s.apply('NUMBER_TO_TEXT', String(raw), true);
  if (Array.isArray(raw)) s.apply('LIST_JOINED', raw.join('; '), true);
  return nfcTrim(s).apply('COLLAPSED_WHITESPACE', s.value.replace(/\s+/gu, ' '));
}

function text(raw: PresentValue): ParsedValue {
  const s = textSteps(raw);
  return s instanceof Steps ? s.done() : s;
}

function code(raw: PresentValue): ParsedValue {
  const s = textSteps(raw);
  return s instanceof Steps ? s.apply('CODE_UPPERCASED', s.value.toUpperCase()).done() : s;
}

function list(raw: PresentValue): ParsedValue {
  const s = new Steps(renderValue(raw));
  if (typeof raw === 'boolean') return s.unparseable();
  if (typeof raw === 'number') return s.apply('NUMBER_TO_TEXT', String(raw), true).done();
  if (Array.isArray(raw)) {
    const nfc = raw.map((item) => item.normalize('NFC'));
    s.apply('UNICODE_NFC', JSON.stringify(nfc));
    const trimmed = nfc.map((item) => item.trim()).filter((item) => item !== '');
    s.apply('TRIMMED_WHITESPACE', JSON.stringify(trimmed));
    return s.apply('LIST_JOINED', trimmed.join('; '), true).done();
  }
  nfcTrim(s);
  const items = s.value
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return s.apply('LIST_JOINED', items.join('; ')).done();
}

const AMOUNT =
  /^(-)?\s*(?:(?:USD|US\$|\$)\s*)?(-)?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?(?:\s*USD)?$/i;

/** Dollars to integer cents with string arithmetic, so no amount is ever rounded by a float. */
function toCents(textValue: string): string | undefined {
  const m = AMOUNT.exec(textValue);
  if (!m || (m[1] && m[2])) return undefined;
  const decimals = m[4] ?? '';
  if (decimals.length > 2) return undefined;
  const digits = `${(m[3] ?? '').replace(/,/g, '')}${decimals.padEnd(2, '0')}`.replace(/^0+/, '');
  if (digits === '') return '0';
  return m[1] || m[2] ? `-${digits}` : digits;
}

function amount(raw: PresentValue): ParsedValue {
  if (typeof raw === 'number') {
    const s = new Steps(String(raw));
    const cents = Number.isFinite(raw) ? toCents(String(raw)) : undefined;
    return cents === undefined ? s.unparseable() : s.apply('CURRENCY_TO_CENTS', cents, true).done();
  }
  const s = scalarText(raw);
  if (!(s instanceof Steps)) return s;
  const cents = toCents(s.value);
  return cents === undefined ? s.unparseable() : s.apply('CURRENCY_TO_CENTS', cents, true).done();
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

/** YYYY-MM-DD when the parts name a real calendar date (no 2026-02-30), else undefined. */
export function calendarDate(year: number, month: number, day: number): string | undefined {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day))
    return undefined;
  const d = new Date(Date.UTC(year, month - 1, day));
  d.setUTCFullYear(year);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    return undefined;
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const NAMED_MONTH = /^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$/;

/**
 * A date text in any accepted form to YYYY-MM-DD. A timestamp with an offset
 * names an instant, so its date is the one in the funder's time zone; one
 * without an offset is already local, so its date part is the date.
 */
function isoDateOf(textValue: string, timeZone: string): string | undefined {
  let m = ISO_DATE.exec(textValue);
  if (m) return calendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = ISO_TIMESTAMP.exec(textValue);
  if (m) {
    const date = calendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
    if (date === undefined || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) {
      return undefined;
    }
    if (m[7] === undefined) return date;
    const instant = Date.parse(textValue.replace(' ', 'T'));
    return Number.isNaN(instant) ? undefined : localDateOf(instant, timeZone);
  }
  m = US_DATE.exec(textValue);
  if (m) return calendarDate(Number(m[3]), Number(m[1]), Number(m[2]));
  m = NAMED_MONTH.exec(textValue);
  if (m) {
    const month = MONTHS[(m[1] ?? '').toLowerCase()];
    return month === undefined ? undefined : calendarDate(Number(m[3]), month, Number(m[2]));
  }
  return undefined;
}

function date(raw: PresentValue, timeZone: string): ParsedValue {
  if (typeof raw === 'number') {
    const s = new Steps(String(raw));
    if (!Number.isSafeInteger(raw)) return s.unparseable();
    return s.apply('DATE_TO_ISO8601', localDateOf(raw, timeZone), true).done();
  }
  const s = scalarText(raw);
  if (!(s instanceof Steps)) return s;
  const iso = isoDateOf(s.value, timeZone);
  return iso === undefined ? s.unparseable() : s.apply('DATE_TO_ISO8601', iso).done();
}

function ein(raw: PresentValue): ParsedValue {
  const s = scalarText(typeof raw === 'number' ? String(raw) : raw);
  if (!(s instanceof Steps)) return s;
  const m = /^(\d{2})[- ]?(\d{7})$/.exec(s.value);
  return m ? s.apply('EIN_FORMATTED', `${m[1]}-${m[2]}`).done() : s.unparseable();
}

function uei(raw: PresentValue): ParsedValue {
  const s = scalarText(typeof raw === 'number' ? String(raw) : raw);
  if (!(s instanceof Steps)) return s;
  // SAM.gov prints UEIs in groups; separators and case are presentation only.
  const compact = s.value.replace(/[\s-]+/g, '').toUpperCase();
  return /^[A-Z0-9]{12}$/.test(compact)
    ? s.apply('UEI_UPPERCASED', compact).done()
    : s.unparseable();
}

function email(raw: PresentValue): ParsedValue {
  if (typeof raw === 'number') return new Steps(String(raw)).unparseable();
  const s = scalarText(raw);
  if (!(s instanceof Steps)) return s;
  const at = s.value.lastIndexOf('@');
  const local = s.value.slice(0, at);
  const domain = s.value.slice(at + 1);
  // The local part is case-sensitive by RFC 5321; only the domain is not.
  if (at <= 0 || domain === '' || /\s/.test(s.value)) return s.unparseable();
  return s.apply('EMAIL_DOMAIN_LOWERCASED', `${local}@${domain.toLowerCase()}`).done();
}

function integer(raw: PresentValue): ParsedValue {
  if (typeof raw === 'number') {
    const s = new Steps(String(raw));
    return Number.isSafeInteger(raw)
      ? s.apply('NUMBER_TO_TEXT', String(raw), true).done()
      : s.unparseable();
  }
  const s = scalarText(raw);
  if (!(s instanceof Steps)) return s;
  return /^-?\d+$/.test(s.value) ? s.done() : s.unparseable();
}

/**
 * Parses one present source value to its field type's canonical text (see
 * FIELD_TYPES in @grantstream/rules), recording every step that changed it.
 * A value that cannot reach the canonical form is kept as its trimmed text
 * with a NOT_PARSEABLE step, so compliance routing flags it rather than
 * normalization silently guessing.
 */
export function parseFieldValue(type: FieldType, raw: PresentValue, timeZone: string): ParsedValue {
  switch (type) {
    case 'text':
      return text(raw);
    case 'code':
      return code(raw);
    case 'list':
      return list(raw);
    case 'amount':
      return amount(raw);
    case 'date':
      return date(raw, timeZone);
    case 'ein':
      return ein(raw);
    case 'uei':
      return uei(raw);
    case 'email':
      return email(raw);
    case 'integer':
      return integer(raw);
  }
}
