import { describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '@grantstream/contracts';
import type { Destination } from '@grantstream/harness';
import { rereadReport } from './reread-report';

const event = (action: AuditEventV1['action'], details: Record<string, string>): AuditEventV1 =>
  ({ stage: 'submission', action, details }) as unknown as AuditEventV1;
const duplicate = event('REJECT', { outcome: 'DUPLICATE', duplicate_of_trail: 'trail-1' });
const outcomes = (entries: [string, Destination][]) =>
  new Map(entries.map(([id, destination]) => [id, { destination }]));

describe('rereadReport', () => {
  const base = {
    reRead: 3,
    outcomes: outcomes([
      ['G-1', 'routed'],
      ['G-2', 'blocked'],
      ['G-3', 'dlq'],
    ]),
    missing: [],
    submissionEvents: new Map([['G-1', [duplicate]]]),
    portalFilings: 0,
  };

  it('holds when every forwarded grant is a linked duplicate and no portal was sent anything', () => {
    const report = rereadReport(base);
    expect(report.ok).toBe(true);
    expect(report.outcomes).toEqual({ routed: 1, blocked: 1, dlq: 1 });
    expect(report.duplicates).toBe(1);
  });

  it('breaks on a filing, on a decision other than a duplicate, and on a duplicate without its link', () => {
    expect(rereadReport({ ...base, portalFilings: 1 }).ok).toBe(false);
    const filed = rereadReport({
      ...base,
      submissionEvents: new Map([['G-1', [event('SUBMITTED', {})]]]),
    });
    expect(filed.notDuplicate).toEqual([{ grantId: 'G-1', action: 'SUBMITTED' }]);
    expect(filed.ok).toBe(false);
    const unlinked = rereadReport({
      ...base,
      submissionEvents: new Map([
        ['G-1', [event('REJECT', { outcome: 'DUPLICATE', duplicate_of_trail: '' })]],
      ]),
    });
    expect(unlinked.ok).toBe(false);
  });

  it('breaks when a grant has no outcome or a forwarded grant no submission decision', () => {
    expect(rereadReport({ ...base, missing: ['G-4'] }).ok).toBe(false);
    const undecided = rereadReport({ ...base, submissionEvents: new Map() });
    expect(undecided.undecided).toEqual(['G-1']);
    expect(undecided.ok).toBe(false);
  });
});
