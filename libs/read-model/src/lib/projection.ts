import { grantIdOfAuditKey } from '@grantstream/audit';
import type { AuditEventV1, GrantStatusV1 } from '@grantstream/contracts';
import { describeDeadLetter, type DeadLetterEntry } from '@grantstream/dead-letters';

/*
 * What one record of each projected topic contributes to the read model, as
 * pure functions of the record: rows to store and the grant summary they
 * update. The store (read-model-store.ts) writes them; the projector
 * (projector.ts) reads and decodes the topics.
 */

/** Where a record sits in its topic. */
export interface RecordPosition {
  partition: number;
  offset: string;
}

/** One record of the audit topic as stored: the event, a tombstone, or bytes that did not decode. */
export interface AuditRow extends RecordPosition {
  key: string;
  grantId: string;
  /** Null for a tombstone or an undecodable value. */
  event: AuditEventV1 | null;
  /** Why the value did not decode as an AuditEvent; null when it did or is a tombstone. */
  undecodable: string | null;
}

/** One record of the status topic as stored. */
export interface StatusRow extends RecordPosition {
  grantId: string;
  status: GrantStatusV1;
}

/** One header of a dead letter, its bytes as base64 (headers may hold any bytes). */
export interface StoredHeader {
  name: string;
  base64: string;
}

/** One record of the dead-letter topic as stored: its description and its bytes, unchanged. */
export interface DeadLetterRow extends RecordPosition {
  entry: DeadLetterEntry;
  /** failed_at as epoch milliseconds; null when the header is missing or unreadable. */
  failedAt: number | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: StoredHeader[];
}

/** What one record tells about its grant, merged into the grant's summary by {@link mergeGrantSummary}. */
export interface GrantContribution {
  grantId: string;
  funderId: string | null;
  /** When it happened (occurred_at, observed_at, failed_at); null when unknown. */
  at: number | null;
  action?: { action: string; stage: string };
  status?: string;
  trackingNumber?: string;
  deadline?: number;
  category?: string;
  /** An audit record (value, tombstone or undecodable). */
  auditRecord?: true;
  deadLetter?: true;
}

/** A grant as the search lists it: where it is and why, in a few columns. */
export interface GrantSummary {
  grantId: string;
  funderId: string | null;
  /** The portal status when the grant has one, else the last decision's action. */
  state: string | null;
  status: string | null;
  statusAt: number | null;
  lastAction: string | null;
  lastStage: string | null;
  lastActionAt: number | null;
  firstAt: number | null;
  lastAt: number | null;
  deadline: number | null;
  /** When the deadline was recorded: a later record's deadline replaces an earlier one's. */
  deadlineAt: number | null;
  trackingNumber: string | null;
  /** When the tracking number was recorded: the latest wins, whatever order records arrive in. */
  trackingNumberAt: number | null;
  auditRecords: number;
  deadLetters: number;
}

/** The audit detail keys a stage may record the funder's deadline under. */
export const DEADLINE_DETAILS = ['submission_deadline', 'deadline'] as const;

/** Epoch milliseconds of a deadline detail: digits are milliseconds, anything else ISO 8601. */
export function deadlineOf(details: Readonly<Record<string, string>>): number | null {
  for (const name of DEADLINE_DETAILS) {
    const v = details[name];
    if (v === undefined || v === '') continue;
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  return null;
}

/** The row of an audit record whose value decoded (or was null: a tombstone). */
export function auditRowOf(
  at: RecordPosition,
  key: string,
  event: AuditEventV1 | null,
  undecodable: string | null = null,
): AuditRow {
  return {
    partition: at.partition,
    offset: at.offset,
    key,
    // A tombstone has no value: its key still names the grant (`grant_id:event_id`).
    grantId: event?.grant_id ?? grantIdOfAuditKey(key),
    event,
    undecodable,
  };
}

/** What an audit row tells about its grant. */
export function auditContribution(row: AuditRow): GrantContribution {
  const e = row.event;
  if (e === null) return { grantId: row.grantId, funderId: null, at: null, auditRecord: true };
  const c: GrantContribution = {
    grantId: row.grantId,
    funderId: e.funder_id,
    at: e.occurred_at,
    action: { action: e.action, stage: e.stage },
    auditRecord: true,
  };
  const tracking = e.details['tracking_number'];
  if (tracking !== undefined && tracking !== '') c.trackingNumber = tracking;
  const deadline = deadlineOf(e.details);
  if (deadline !== null) c.deadline = deadline;
  if (e.error_category !== null) c.category = e.error_category;
  return c;
}

/** What a status record tells about its grant. */
export function statusContribution(row: StatusRow): GrantContribution {
  const s = row.status;
  return {
    grantId: row.grantId,
    funderId: s.funder_id,
    at: s.observed_at,
    status: s.status,
    ...(s.tracking_number !== null ? { trackingNumber: s.tracking_number } : {}),
  };
}

/** The row of one dead letter, its bytes and headers kept as they are. */
export function deadLetterRowOf(m: {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  timestamp: string;
}): DeadLetterRow {
  const entry = describeDeadLetter(m);
  const failed = entry.failedAt === null ? Number.NaN : Date.parse(entry.failedAt);
  return {
    partition: m.partition,
    offset: m.offset,
    entry,
    failedAt: Number.isFinite(failed) ? failed : null,
    key: m.key,
    value: m.value,
    headers: Object.entries(m.headers).flatMap(([name, v]) =>
      v === undefined ? [] : [{ name, base64: v.toString('base64') }],
    ),
  };
}

/** What a dead letter tells about its grant. */
export function deadLetterContribution(row: DeadLetterRow): GrantContribution {
  return {
    grantId: row.entry.grantId,
    funderId: null,
    at: row.failedAt,
    deadLetter: true,
    ...(row.entry.category !== null ? { category: row.entry.category } : {}),
  };
}

const later = (a: number | null, b: number | null): boolean => b !== null && (a === null || b >= a);
/** Whether (at, value) comes after the current (at, value): time first, then the value, so ties never depend on arrival. */
function newer<V extends string | number>(
  currentAt: number | null,
  current: V | null,
  at: number | null,
  value: V,
): boolean {
  if (current === null) return true;
  const a = currentAt ?? Number.NEGATIVE_INFINITY;
  const b = at ?? Number.NEGATIVE_INFINITY;
  return b > a || (b === a && value > current);
}
const min = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);
const max = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/**
 * The grant's summary after one more record. Records arrive partition by
 * partition, not in time order, so the latest status and action are chosen
 * by their own time, never by arrival: the summary is the same whatever
 * order the topics are read in.
 */
export function mergeGrantSummary(
  current: GrantSummary | null,
  c: GrantContribution,
): GrantSummary {
  const s: GrantSummary = current
    ? { ...current }
    : {
        grantId: c.grantId,
        funderId: null,
        state: null,
        status: null,
        statusAt: null,
        lastAction: null,
        lastStage: null,
        lastActionAt: null,
        firstAt: null,
        lastAt: null,
        deadline: null,
        deadlineAt: null,
        trackingNumber: null,
        trackingNumberAt: null,
        auditRecords: 0,
        deadLetters: 0,
      };
  s.funderId ??= c.funderId;
  s.firstAt = min(s.firstAt, c.at);
  s.lastAt = max(s.lastAt, c.at);
  if (c.auditRecord) s.auditRecords += 1;
  if (c.deadLetter) s.deadLetters += 1;
  if (c.action && (s.lastAction === null || later(s.lastActionAt, c.at))) {
    s.lastAction = c.action.action;
    s.lastStage = c.action.stage;
    s.lastActionAt = c.at;
  }
  if (c.status !== undefined && (s.status === null || later(s.statusAt, c.at))) {
    s.status = c.status;
    s.statusAt = c.at;
  }
  if (
    c.trackingNumber !== undefined &&
    newer(s.trackingNumberAt, s.trackingNumber, c.at, c.trackingNumber)
  ) {
    s.trackingNumber = c.trackingNumber;
    s.trackingNumberAt = c.at;
  }
  if (c.deadline !== undefined && newer(s.deadlineAt, s.deadline, c.at, c.deadline)) {
    s.deadline = c.deadline;
    s.deadlineAt = c.at;
  }
  s.state = s.status ?? s.lastAction;
  return s;
}
