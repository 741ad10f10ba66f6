import type { AuditEventV1 } from '@grantstream/contracts';
import { canonicalJson } from './hashing';

/**
 * Header of the CSV export, one column per contract field in schema order, with
 * `source` flattened. Timestamps are ISO 8601 UTC for people and `occurred_at_ms`
 * keeps the exact value the hash covers.
 */
export const CSV_COLUMNS = [
  'event_id',
  'grant_id',
  'funder_id',
  'audit_trail_id',
  'stage',
  'action',
  'error_category',
  'severity',
  'compliance_tags',
  'rule_set_version',
  'payload_hash',
  'service_name',
  'service_version',
  'occurred_at',
  'occurred_at_ms',
  'source_topic',
  'source_partition',
  'source_offset',
  'previous_event_hash',
  'event_hash',
  'details',
] as const;

/**
 * One CSV record for `event`, fields in {@link CSV_COLUMNS} order, quoted per
 * RFC 4180 (a field containing a comma, quote, CR or LF is wrapped in quotes,
 * quotes doubled). Null is an empty field; compliance_tags are joined with
 * "; " (tags contain spaces, never semicolons); details is canonical JSON so
 * the cell is unambiguous and sorted. No line terminator: the writer adds CRLF.
 *
 * Values are written verbatim, never prefixed against spreadsheet formula
 * injection, because the export is evidence and must match the topic byte for byte.
 */
export function toCsvRow(event: AuditEventV1): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string> = {
    event_id: event.event_id,
    grant_id: event.grant_id,
    funder_id: event.funder_id,
    audit_trail_id: event.audit_trail_id,
    stage: event.stage,
    action: event.action,
    error_category: event.error_category ?? '',
    severity: event.severity ?? '',
    compliance_tags: event.compliance_tags.join('; '),
    rule_set_version: event.rule_set_version ?? '',
    payload_hash: event.payload_hash,
    service_name: event.service_name,
    service_version: event.service_version,
    occurred_at: isoOf(event.occurred_at),
    occurred_at_ms: String(event.occurred_at),
    source_topic: event.source?.topic ?? '',
    source_partition: event.source === null ? '' : String(event.source.partition),
    source_offset: event.source === null ? '' : String(event.source.offset),
    previous_event_hash: event.previous_event_hash,
    event_hash: event.event_hash,
    details: canonicalJson(event.details),
  };
  return CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
}

/** The CSV header line matching {@link toCsvRow}. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * One JSON line for `event` (no trailing newline), fields in schema order so
 * lines diff cleanly, nothing added or dropped so `computeEventHash` of the
 * parsed line still verifies.
 */
export function toJsonLine(event: AuditEventV1): string {
  return JSON.stringify({
    event_id: event.event_id,
    grant_id: event.grant_id,
    funder_id: event.funder_id,
    audit_trail_id: event.audit_trail_id,
    stage: event.stage,
    action: event.action,
    error_category: event.error_category,
    severity: event.severity,
    compliance_tags: event.compliance_tags,
    rule_set_version: event.rule_set_version,
    payload_hash: event.payload_hash,
    service_name: event.service_name,
    service_version: event.service_version,
    occurred_at: event.occurred_at,
    source: event.source,
    previous_event_hash: event.previous_event_hash,
    event_hash: event.event_hash,
    details: event.details,
  } satisfies AuditEventV1);
}

/** ISO 8601 UTC of epoch milliseconds; falls back to the number for out-of-range values. */
export function isoOf(epochMs: number): string {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? String(epochMs) : date.toISOString();
}
