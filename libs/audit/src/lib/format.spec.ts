import type { AuditEventV1 } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  CSV_COLUMNS,
  buildAuditEvent,
  computeEventHash,
  csvHeader,
  matchesFilter,
  payloadHashOf,
  toCsvRow,
  toJsonLine,
  type AuditDecision,
  type AuditFilter,
} from '../index';

const T = Date.UTC(2025, 0, 15, 12, 0, 0);

const eventOf = (over: Partial<AuditDecision> = {}): AuditEventV1 =>
  buildAuditEvent(
    {
      grantId: 'G-1',
      funderId: 'nsf',
      auditTrailId: 'trail-1',
      stage: 'submission',
      action: 'RETRY',
      errorCategory: 'API_RATE_LIMIT',
      severity: 'MEDIUM',
      payloadHash: payloadHashOf(Buffer.from('x')),
      service: { name: 'submission', version: '2.0.0' },
      occurredAt: T,
      source: { topic: 'grants.routed.v1', partition: 1, offset: 7 },
      details: { attempt: '2' },
      ...over,
    },
    AUDIT_GENESIS_HASH,
  ).event;

describe('matchesFilter', () => {
  const event = eventOf();
  it.each<[string, AuditFilter, boolean]>([
    ['empty filter', {}, true],
    ['grant match', { grantId: 'G-1' }, true],
    ['grant mismatch', { grantId: 'G-2' }, false],
    ['trail match', { trailId: event.audit_trail_id }, true],
    ['trail mismatch', { trailId: 'another-trail' }, false],
    ['funder match', { funderId: 'nsf' }, true],
    ['funder mismatch', { funderId: 'nih' }, false],
    ['stage match', { stage: 'submission' }, true],
    ['stage mismatch', { stage: 'routing' }, false],
    ['category match', { category: 'API_RATE_LIMIT' }, true],
    ['category mismatch', { category: 'NETWORK_TIMEOUT' }, false],
    ['action match', { action: 'RETRY' }, true],
    ['action mismatch', { action: 'SUBMITTED' }, false],
    ['from equal to occurred_at (inclusive)', { from: T }, true],
    ['from just after', { from: T + 1 }, false],
    ['to equal to occurred_at (exclusive)', { to: T }, false],
    ['to just after', { to: T + 1 }, true],
    ['window around it', { from: T - 1000, to: T + 1000 }, true],
    [
      'all fields matching',
      {
        grantId: 'G-1',
        funderId: 'nsf',
        stage: 'submission',
        category: 'API_RATE_LIMIT',
        action: 'RETRY',
        from: T,
        to: T + 1,
      },
      true,
    ],
    [
      'all but one matching',
      { grantId: 'G-1', funderId: 'nsf', stage: 'submission', action: 'SUBMITTED' },
      false,
    ],
  ])('%s → %s', (_name, filter, expected) => {
    expect(matchesFilter(event, filter)).toBe(expected);
  });

  it('a category filter never matches an event without error', () => {
    expect(matchesFilter(eventOf({ errorCategory: null }), { category: 'API_RATE_LIMIT' })).toBe(
      false,
    );
  });
});

/** Minimal RFC 4180 parser for one record, to check quoting round-trips. */
function parseCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) throw new Error('unterminated quote');
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}

describe('CSV', () => {
  it('header names every column', () => {
    expect(csvHeader().split(',')).toEqual([...CSV_COLUMNS]);
  });

  it('writes one field per column, null as empty, time as ISO', () => {
    const fields = parseCsvRecord(toCsvRow(eventOf({ severity: null, errorCategory: null })));
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, fields[i]]));
    expect(fields).toHaveLength(CSV_COLUMNS.length);
    expect(row).toMatchObject({
      grant_id: 'G-1',
      error_category: '',
      severity: '',
      occurred_at: '2025-01-15T12:00:00.000Z',
      occurred_at_ms: String(T),
      source_topic: 'grants.routed.v1',
      source_partition: '1',
      source_offset: '7',
      compliance_tags: '2 CFR 200.302; 2 CFR 200.334',
      details: '{"attempt":"2"}',
    });
  });

  it.each([
    ['comma', 'a,b'],
    ['quote', 'say "hi"'],
    ['newline', 'line1\nline2'],
    ['carriage return', 'line1\r\nline2'],
  ])('quotes a value containing a %s and round-trips it', (_name, value) => {
    const event = eventOf({ stage: value, details: { note: value } });
    const row = toCsvRow(event);
    const fields = parseCsvRecord(row);
    expect(fields[CSV_COLUMNS.indexOf('stage')]).toBe(value);
    expect(JSON.parse(fields[CSV_COLUMNS.indexOf('details')] ?? '')).toEqual({ note: value });
    expect(row).toContain(`"${value.replace(/"/g, '""')}"`);
  });

  it('leaves plain values unquoted', () => {
    expect(toCsvRow(eventOf()).split(',')[CSV_COLUMNS.indexOf('stage')]).toBe('submission');
  });
});

describe('toJsonLine', () => {
  it('is one line that parses back to an event that still verifies', () => {
    const event = eventOf({ details: { note: 'multi\nline' } });
    const line = toJsonLine(event);
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as AuditEventV1;
    expect(parsed).toEqual(event);
    expect(computeEventHash(parsed)).toBe(event.event_hash);
  });
});
