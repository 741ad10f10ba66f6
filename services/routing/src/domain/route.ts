import type { ComplianceFlagV1, NormalizedGrantV1 } from '@grantstream/contracts';
import {
  type FieldRule,
  type FieldType,
  type FlagCode,
  type RulePack,
  attachmentFindings,
  businessDaysBetween,
  localDateTimeOf,
  isCalendarDate,
  severityOf,
} from '@grantstream/rules';

/** What compliance routing decided about one grant. */
export interface RoutingOutcome {
  /** REJECT when any flag is CRITICAL; FORWARD otherwise (WARNING and INFO travel with the grant). */
  decision: 'FORWARD' | 'REJECT';
  /** Every finding, in rule order: deadline, portal, fields in pack order, attachments. */
  flags: ComplianceFlagV1[];
  /** Version of the rule pack that decided; "none" for an unknown funder. */
  rulePackVersion: string;
}

/** What routing needs besides the grant and its funder's pack. */
export interface RouteContext {
  /** When routing runs, epoch milliseconds UTC; deadlines are judged against it. */
  now: number;
}

/** Canonical forms normalization produces; a value without one was not parseable. */
const CANONICAL: Partial<Record<FieldType, (v: string) => boolean>> = {
  amount: (v) => /^-?\d+$/.test(v),
  integer: (v) => /^-?\d+$/.test(v),
  date: isCalendarDate,
  ein: (v) => /^\d{2}-\d{7}$/.test(v),
  uei: (v) => /^[A-Z0-9]{12}$/.test(v),
  email: (v) => /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/.test(v),
};

const FORMAT_NAMES: Readonly<Record<FieldType, string>> = {
  text: 'text',
  code: 'a code',
  list: 'a list',
  amount: 'a dollar amount',
  integer: 'a whole number',
  date: 'a calendar date',
  ein: 'an EIN (NN-NNNNNNN)',
  uei: 'a 12-character UEI',
  email: 'an email address',
};

/** Integer cents as dollars for messages ("125050" -> "$1,250.50"). */
function dollars(cents: number): string {
  return (cents / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

class Flags {
  readonly list: ComplianceFlagV1[] = [];
  constructor(private readonly pack: RulePack) {}

  add(
    code: FlagCode,
    ruleId: string,
    message: string,
    field: string | null = null,
    rule?: FieldRule,
  ) {
    this.list.push({
      rule_id: ruleId,
      code,
      severity: severityOf(this.pack, code, rule),
      field,
      message,
    });
  }
}

function checkDeadline(grant: NormalizedGrantV1, pack: RulePack, now: number, flags: Flags) {
  const deadline = grant.submission_deadline;
  // Formatting a zoned time is costly; only a flag needs it.
  const local = () => `${localDateTimeOf(deadline, pack.time_zone)} (${pack.time_zone})`;
  if (deadline <= now) {
    flags.add('DEADLINE_PASSED', 'deadline.passed', `the deadline ${local()} has passed`);
    return;
  }
  const { buffer_business_days: buffer, holidays } = pack.deadline;
  const left = businessDaysBetween(now, deadline, pack.time_zone, holidays);
  if (left < buffer) {
    flags.add(
      'DEADLINE_AT_RISK',
      'deadline.buffer',
      `the deadline ${local()} is ${plural(left, 'business day')} away; ${pack.funder_id} needs at least ${plural(buffer, 'business day')} for review and submission`,
    );
  }
}

function checkField(
  name: string,
  rule: FieldRule,
  grant: NormalizedGrantV1,
  pack: RulePack,
  flags: Flags,
) {
  const value = grant.normalized_fields[name];
  if (value === undefined || value.trim() === '') {
    if (rule.required) {
      flags.add(
        'MISSING_REQUIRED_FIELD',
        `${name}.required`,
        `${name} is required by ${pack.funder_id} but ${value === undefined ? 'missing' : 'empty'} (read from ${rule.from.join(', ')})`,
        name,
        rule,
      );
    }
    return;
  }

  const canonical = CANONICAL[rule.type];
  const unparseable = grant.field_changes.some(
    (c) => c.field === name && c.reason === 'NOT_PARSEABLE',
  );
  if (unparseable || (canonical !== undefined && !canonical(value))) {
    flags.add(
      'INVALID_FORMAT',
      `${name}.format`,
      `${name} '${value}' is not ${FORMAT_NAMES[rule.type]}`,
      name,
      rule,
    );
    return;
  }

  const length = [...value].length;
  if (rule.max_length !== undefined && length > rule.max_length) {
    flags.add(
      'TRUNCATION_RISK',
      `${name}.max_length`,
      `${name} is ${length} characters; ${pack.funder_id} keeps ${rule.max_length} — the portal would truncate it`,
      name,
      rule,
    );
  }
  if (rule.pattern !== undefined && !new RegExp(`^(?:${rule.pattern})$`, 'u').test(value)) {
    flags.add(
      'PATTERN_MISMATCH',
      `${name}.pattern`,
      `${name} '${value}' does not have the form ${pack.funder_id} requires (${rule.pattern})`,
      name,
      rule,
    );
  }
  if (rule.allowed !== undefined && !rule.allowed.includes(value)) {
    flags.add(
      'VALUE_NOT_ALLOWED',
      `${name}.allowed`,
      `${name} '${value}' is not one of the values ${pack.funder_id} accepts: ${rule.allowed.join(', ')}`,
      name,
      rule,
    );
  }
  if (rule.type === 'amount' || rule.type === 'integer') checkRange(name, rule, value, pack, flags);
}

function checkRange(name: string, rule: FieldRule, value: string, pack: RulePack, flags: Flags) {
  const isAmount = rule.type === 'amount';
  // Amount bounds are dollars and values are cents; compare in cents so $0.01 matters.
  const scale = isAmount ? 100 : 1;
  const n = Number(value);
  const show = (x: number) => (isAmount ? dollars(x) : String(x));
  const min = rule.min === undefined ? undefined : Math.round(rule.min * scale);
  const max = rule.max === undefined ? undefined : Math.round(rule.max * scale);
  if (min !== undefined && n < min) {
    flags.add(
      'AMOUNT_OUT_OF_RANGE',
      `${name}.range`,
      `${name} ${show(n)} is below ${pack.funder_id}'s minimum of ${show(min)}`,
      name,
      rule,
    );
  } else if (max !== undefined && n > max) {
    flags.add(
      'AMOUNT_OUT_OF_RANGE',
      `${name}.range`,
      `${name} ${show(n)} is above ${pack.funder_id}'s maximum of ${show(max)}`,
      name,
      rule,
    );
  }
}

/**
 * Applies a funder's rule pack to a normalized grant and decides: every rule
 * runs (so the compliance officer sees all findings at once, not the first),
 * each finding gets the pack's severity, and any CRITICAL finding rejects.
 * A grant of a funder with no pack is rejected with UNKNOWN_FUNDER: nothing
 * could check or submit it. A field that is missing or unparseable gets that
 * one flag only; further checks on a value that is not there would be noise.
 */
export function routeGrant(
  grant: NormalizedGrantV1,
  pack: RulePack | undefined,
  ctx: RouteContext,
): RoutingOutcome {
  if (pack === undefined) {
    return {
      decision: 'REJECT',
      flags: [
        {
          rule_id: 'funder.known',
          code: 'UNKNOWN_FUNDER',
          severity: 'CRITICAL',
          field: null,
          message: `no rule pack is configured for funder ${grant.funder_id}; the grant cannot be checked or submitted`,
        },
      ],
      rulePackVersion: 'none',
    };
  }

  const flags = new Flags(pack);
  checkDeadline(grant, pack, ctx.now, flags);
  if (grant.funder_portal !== pack.portal) {
    flags.add(
      'PORTAL_MISMATCH',
      'portal.match',
      `the grant names portal '${grant.funder_portal}'; ${pack.funder_id} submits through '${pack.portal}'`,
    );
  }
  for (const [name, rule] of Object.entries(pack.fields))
    checkField(name, rule, grant, pack, flags);
  const findings = attachmentFindings(
    grant.attachments.map((a) => ({
      filename: a.filename,
      media_type: a.media_type,
      size_bytes: a.size_bytes,
    })),
    pack.attachments,
  );
  for (const f of findings) {
    const at = f.index === null ? '' : `attachments[${f.index}]`;
    const message = at === '' || f.message.includes(at) ? f.message : `${at}: ${f.message}`;
    flags.add(f.code, `attachments.${f.code.toLowerCase()}`, message);
  }

  return {
    decision: flags.list.some((f) => f.severity === 'CRITICAL') ? 'REJECT' : 'FORWARD',
    flags: flags.list,
    rulePackVersion: pack.version,
  };
}
