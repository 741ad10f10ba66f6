import type { AuditEventV1 } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  ChainVerifier,
  buildAuditEvent,
  chainOrder,
  orderTrails,
  computeEventHash,
  firstBadEvent,
  payloadHashOf,
  type AuditDecision,
  type AuditRecord,
  type FindingKind,
  type VerificationReport,
} from '../index';

type Step = Pick<AuditDecision, 'stage' | 'action'> & Partial<AuditDecision>;

/** Ingest to status: the five decisions of a grant that went through cleanly. */
const FIVE_STAGES: Step[] = [
  { stage: 'ingest', action: 'INGESTED' },
  { stage: 'normalization', action: 'NORMALIZED' },
  { stage: 'routing', action: 'FORWARD', ruleSetVersion: 'rules-7' },
  { stage: 'submission', action: 'SUBMITTED', details: { tracking_number: 'TRK-1' } },
  { stage: 'status', action: 'STATUS_CHANGED', details: { status: 'RECEIVED' } },
];

const decisionFor = (grantId: string, step: Step, index: number): AuditDecision => ({
  grantId,
  funderId: 'nsf',
  auditTrailId: `trail-${grantId}`,
  payloadHash: payloadHashOf(Buffer.from(`${grantId}-${index}`)),
  service: { name: step.stage, version: '1.0.0' },
  occurredAt: 1_700_000_000_000 + index * 1000,
  source: { topic: `in.${step.stage}`, partition: 0, offset: index },
  ...step,
});

/** A correctly chained trail for one grant. */
function trail(grantId: string, steps: Step[] = FIVE_STAGES): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return steps.map((step, index) => {
    const { event } = buildAuditEvent(decisionFor(grantId, step, index), previous);
    previous = event.event_hash;
    return event;
  });
}

/** Records as a topic with three partitions would hold them. */
function recordsOf(events: AuditEventV1[]): AuditRecord[] {
  return events.map((event, i) => ({
    key: `${event.grant_id}:${event.event_id}`,
    event,
    partition: i % 3,
    offset: String(100 + i),
  }));
}

function verify(records: AuditRecord[]): VerificationReport {
  const verifier = new ChainVerifier();
  for (const record of records) verifier.add(record);
  return verifier.finish();
}

/** Re-hashes an edited event the way a forger with the code would. */
const rehashed = (event: AuditEventV1): AuditEventV1 => ({
  ...event,
  event_hash: computeEventHash(event),
});

const at = <T>(items: T[], index: number): T => {
  const item = items[index];
  if (item === undefined) throw new Error(`no item ${index}`);
  return item;
};

describe('ChainVerifier on intact trails', () => {
  it('verifies a five-event chain across stages', () => {
    const report = verify(recordsOf(trail('G-1')));
    expect(report).toEqual({
      grants: 1,
      trails: 1,
      events: 5,
      findings: [],
      grantsWithFindings: [],
      linkedTrails: [],
      redeliveries: { identical: 0, remade: 0 },
      ok: true,
    });
  });

  it('does not depend on record order (partitions interleave arbitrarily)', () => {
    const records = recordsOf([...trail('G-1'), ...trail('G-2')]);
    const report = verify([...records].reverse());
    expect(report.ok).toBe(true);
    expect(report.grants).toBe(2);
    expect(report.events).toBe(10);
  });

  it('does not report identical redeliveries', () => {
    const records = recordsOf(trail('G-1'));
    const redelivered = { ...at(records, 2), offset: '999' };
    const report = verify([...records, redelivered, redelivered]);
    expect(report.ok).toBe(true);
    expect(report.events).toBe(5);
    expect(report.redeliveries).toEqual({ identical: 2, remade: 0 });
  });
});

/** A trail of `grantId` under its own trail id, starting at `ingestOffset` of the ingest topic. */
function trailOf(
  grantId: string,
  trailId: string,
  options: { ingestOffset?: number; from?: number; last?: Partial<AuditDecision> } = {},
): AuditEventV1[] {
  const from = options.from ?? 0;
  let previous = AUDIT_GENESIS_HASH;
  return FIVE_STAGES.map((step, index) => {
    const decision = decisionFor(grantId, step, index);
    const isLast = index === FIVE_STAGES.length - 1;
    const { event } = buildAuditEvent(
      {
        ...decision,
        auditTrailId: trailId,
        occurredAt: decision.occurredAt + from,
        source:
          index === 0
            ? { topic: 'in.ingest', partition: 0, offset: options.ingestOffset ?? 0 }
            : { topic: `in.${step.stage}`, partition: 0, offset: from + index },
        discriminator: trailId,
        ...(isLast ? options.last : {}),
        details: { ...decision.details, ...(isLast ? options.last?.details : {}) },
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

describe('ChainVerifier on grants with several trails', () => {
  it('verifies each trail as its own chain and lists a resubmission as a link, not a fork', () => {
    const first = trailOf('G-1', 't1');
    const second = trailOf('G-1', 't2', {
      ingestOffset: 7,
      from: 60_000,
      last: { details: { resubmission_of_trail: 't1' } },
    });
    const report = verify(recordsOf([...second, ...first]));
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, grants: 1, trails: 2, events: 10 });
    expect(report.linkedTrails).toEqual([
      {
        grantId: 'G-1',
        trails: [
          { trailId: 't1', events: 5, startedAt: at(first, 0).occurred_at, reads: 1, link: null },
          {
            trailId: 't2',
            events: 5,
            startedAt: at(second, 0).occurred_at,
            reads: 1,
            link: { kind: 'RESUBMISSION', ofTrail: 't1', eventId: at(second, 4).event_id },
          },
        ],
      },
    ]);
  });

  it('tells a duplicate copy from a re-read of the same ingest position', () => {
    const first = trailOf('G-1', 't1', { ingestOffset: 3 });
    const copy = trailOf('G-1', 't2', {
      ingestOffset: 9,
      from: 1000,
      last: { action: 'REJECT', details: { duplicate_of_trail: 't1', outcome: 'DUPLICATE' } },
    });
    const reread = trailOf('G-1', 't3', {
      ingestOffset: 3,
      from: 2000,
      last: { action: 'REJECT', details: { duplicate_of_trail: 't1', outcome: 'DUPLICATE' } },
    });
    const report = verify(recordsOf([...first, ...copy, ...reread]));
    expect(report.ok).toBe(true);
    expect(report.linkedTrails[0]?.trails.map((t) => t.link?.kind ?? null)).toEqual([
      null,
      'DUPLICATE',
      'RE_READ',
    ]);
  });

  it('links a re-read that never reached submission to the trail that read the same position first', () => {
    // Blocked by compliance or dead-lettered both times: no duplicate decision names the
    // earlier trail, but both trails start from the same ingest record.
    const first = trailOf('G-1', 't1', { ingestOffset: 5 });
    const reread = trailOf('G-1', 't2', { ingestOffset: 5, from: 3000 });
    const report = verify(recordsOf([...first, ...reread]));
    expect(report.ok).toBe(true);
    expect(report.linkedTrails[0]?.trails.map((t) => t.link)).toEqual([
      null,
      { kind: 'RE_READ', ofTrail: 't1', eventId: at(reread, 0).event_id },
    ]);
  });

  it('accepts trails that name no earlier one (a grant sent again after a dead letter)', () => {
    const report = verify(
      recordsOf([
        ...trailOf('G-1', 't1'),
        ...trailOf('G-1', 't2', { ingestOffset: 8, from: 5000 }),
      ]),
    );
    expect(report.ok).toBe(true);
    expect(report.linkedTrails[0]?.trails.map((t) => t.link)).toEqual([null, null]);
  });

  it('accepts two reads of one ingest record that share a trail id (written before ids named the group)', () => {
    const first = trailOf('G-1', 't1', { ingestOffset: 4 });
    const rejected = buildAuditEvent(
      {
        ...decisionFor('G-1', { stage: 'ingest', action: 'DEAD_LETTER' }, 0),
        auditTrailId: 't1',
        occurredAt: at(first, 0).occurred_at + 90_000,
        source: { topic: 'in.ingest', partition: 0, offset: 4 },
        discriminator: 't1',
      },
      AUDIT_GENESIS_HASH,
    ).event;
    const report = verify(recordsOf([...first, rejected]));
    expect(report.findings).toEqual([]);
    expect(report.linkedTrails[0]?.trails).toEqual([
      expect.objectContaining({ trailId: 't1', reads: 2, events: 6 }),
    ]);
  });

  it('still reports two starts of one trail from different ingest records as a fork', () => {
    const first = trailOf('G-1', 't1', { ingestOffset: 4 });
    const other = buildAuditEvent(
      {
        ...decisionFor('G-1', { stage: 'ingest', action: 'DEAD_LETTER' }, 0),
        auditTrailId: 't1',
        source: { topic: 'in.ingest', partition: 0, offset: 5 },
      },
      AUDIT_GENESIS_HASH,
    ).event;
    const report = verify(recordsOf([...first, other]));
    expect(report.findings.map((f) => [f.kind, f.eventId])).toEqual([['FORK', other.event_id]]);
  });

  it('reports a link to a trail the grant does not have', () => {
    const orphanLink = trailOf('G-1', 't2', {
      last: { details: { duplicate_of_trail: 'nowhere' } },
    });
    const report = verify(recordsOf(orphanLink));
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'LINK_UNRESOLVED',
        trailId: 't2',
        eventId: at(orphanLink, 4).event_id,
      }),
    ]);
  });

  it('still reports a fork inside one trail of a grant with several', () => {
    const first = trailOf('G-1', 't1');
    const second = trailOf('G-1', 't2', { from: 60_000 });
    const forged = buildAuditEvent(
      { ...decisionFor('G-1', { stage: 'routing', action: 'REJECT' }, 77), auditTrailId: 't2' },
      at(second, 1).event_hash,
    ).event;
    const report = verify(recordsOf([...first, ...second, forged]));
    expect(report.findings.map((f) => [f.kind, f.trailId, f.eventId])).toEqual([
      ['FORK', 't2', forged.event_id],
    ]);
  });

  it('reports an event chained into another trail as a gap of its own trail', () => {
    const first = trailOf('G-1', 't1');
    const stray = buildAuditEvent(
      { ...decisionFor('G-1', { stage: 'routing', action: 'FORWARD' }, 40), auditTrailId: 't9' },
      at(first, 2).event_hash,
    ).event;
    const report = verify(recordsOf([...first, stray]));
    expect(report.findings.map((f) => [f.kind, f.trailId])).toEqual([
      ['NO_GENESIS', 't9'],
      ['GAP', 't9'],
    ]);
    expect(report.findings[1]?.message).toContain('trail t1');
  });
});

describe('ChainVerifier on decisions made again', () => {
  /** The same decision as `event`, made `laterMs` later (its input was read again). */
  const remadeOf = (event: AuditEventV1, laterMs: number, previous = event.previous_event_hash) =>
    rehashed({ ...event, occurred_at: event.occurred_at + laterMs, previous_event_hash: previous });

  it('accepts a decision re-made with only its time changed, and the line that went on from it', () => {
    const events = trail('G-1');
    const again = remadeOf(at(events, 1), 2500);
    const onward = buildAuditEvent(
      decisionFor('G-1', { stage: 'routing', action: 'FORWARD', ruleSetVersion: 'rules-7' }, 30),
      again.event_hash,
    ).event;
    const report = verify(recordsOf([...events, again, onward]));
    expect(report.findings).toEqual([]);
    expect(report.redeliveries).toEqual({ identical: 0, remade: 1 });
    expect(report.events).toBe(6);
  });

  it('reports a copy that names another predecessor', () => {
    const events = trail('G-1');
    const moved = remadeOf(at(events, 3), 10, at(events, 1).event_hash);
    const report = verify(recordsOf([...events, moved]));
    expect(report.findings.map((f) => [f.kind, f.eventId])).toEqual([
      ['DUPLICATE_CONFLICT', at(events, 3).event_id],
    ]);
  });

  it('reports a copy that changes anything but the time', () => {
    const events = trail('G-1');
    const changed = rehashed({ ...at(events, 3), occurred_at: 5, service_name: 'other' });
    const report = verify(recordsOf([...events, changed]));
    expect(report.findings.map((f) => f.kind)).toEqual(['DUPLICATE_CONFLICT']);
  });
});

/** A NOTIFIED event pointing at `anchor`, as the notification service writes it. */
function notifiedAbout(anchor: AuditEventV1, index: number): AuditEventV1 {
  const step: Step = { stage: 'notification', action: 'NOTIFIED', details: { kind: 'X' } };
  return buildAuditEvent(decisionFor(anchor.grant_id, step, index), anchor.event_hash).event;
}

describe('ChainVerifier on notification annotations', () => {
  it('accepts a notification beside the trail while the trail moves on', () => {
    const events = trail('G-1');
    const report = verify(recordsOf([...events, notifiedAbout(at(events, 3), 10)]));
    expect(report.ok).toBe(true);
    expect(report.events).toBe(6);
  });

  it('still reports a step of the trail that forks, annotations aside', () => {
    const events = trail('G-1');
    const step: Step = { stage: 'status', action: 'STATUS_CHANGED', details: { status: 'X' } };
    const forged = buildAuditEvent(decisionFor('G-1', step, 11), at(events, 3).event_hash).event;
    const report = verify(recordsOf([...events, notifiedAbout(at(events, 3), 10), forged]));
    expect(report.findings.map((f) => f.kind)).toEqual(['FORK']);
  });

  it('reports a notification about an event the grant does not have as a gap', () => {
    const events = trail('G-1');
    const stray = notifiedAbout(
      trail('G-1', [{ stage: 'ingest', action: 'REJECT' }])[0] as AuditEventV1,
      10,
    );
    const report = verify(recordsOf([...events, stray]));
    expect(report.findings.map((f) => f.kind)).toEqual(['GAP']);
  });

  it('does not let a notification start a trail', () => {
    const step: Step = { stage: 'notification', action: 'NOTIFIED' };
    const { event } = buildAuditEvent(decisionFor('G-9', step, 0), AUDIT_GENESIS_HASH);
    const report = verify(recordsOf([event]));
    expect(report.findings.map((f) => f.kind)).toEqual(['NO_GENESIS', 'GAP']);
  });

  it('checks a notification in the trail of the event it is about, whatever trail id it names', () => {
    const events = trail('G-1');
    const note = buildAuditEvent(
      {
        ...decisionFor('G-1', { stage: 'notification', action: 'NOTIFIED' }, 10),
        auditTrailId: 'from-the-dead-letter-position',
      },
      at(events, 4).event_hash,
    ).event;
    const report = verify(recordsOf([...events, note]));
    expect(report.findings).toEqual([]);
    expect(report.trails).toBe(1);
  });

  it('reports an altered notification', () => {
    const events = trail('G-1');
    const note = notifiedAbout(at(events, 2), 10);
    const report = verify(recordsOf([...events, { ...note, details: { kind: 'Y' } }]));
    expect(report.findings.map((f) => f.kind)).toEqual(['ALTERED']);
  });
});

interface TamperCase {
  name: string;
  /** Returns the records on the topic and the index (in the genuine trail) of the event to blame. */
  tamper: (events: AuditEventV1[]) => { records: AuditRecord[]; blamed: AuditEventV1 };
  kinds: FindingKind[];
}

const TAMPER_CASES: TamperCase[] = [
  {
    name: 'altered field re-produced under the same key, hash left as it was',
    tamper: (events) => {
      const genuine = at(events, 2);
      const altered = { ...genuine, rule_set_version: 'rules-lenient' };
      return { records: recordsOf([...events, altered]), blamed: genuine };
    },
    kinds: ['ALTERED'],
  },
  {
    name: 'altered field re-produced under the same key, hash recomputed',
    tamper: (events) => {
      const genuine = at(events, 2);
      const altered = rehashed({ ...genuine, action: 'REJECT' });
      return { records: recordsOf([...events, altered]), blamed: genuine };
    },
    // The id no longer matches the action it was derived from.
    kinds: ['ALTERED', 'DUPLICATE_CONFLICT'],
  },
  {
    name: 'non-identity field altered and re-hashed under the same key',
    tamper: (events) => {
      const genuine = at(events, 3);
      const altered = rehashed({ ...genuine, details: { tracking_number: 'TRK-FAKE' } });
      return { records: recordsOf([...events, altered]), blamed: genuine };
    },
    kinds: ['DUPLICATE_CONFLICT'],
  },
  {
    name: 'event re-keyed under another key',
    tamper: (events) => {
      const records = recordsOf(events);
      const victim = at(records, 1);
      records[1] = { ...victim, key: `G-1:${'f'.repeat(64)}` };
      return { records, blamed: at(events, 1) };
    },
    kinds: ['ALTERED'],
  },
  {
    name: 'tombstone written for an event',
    tamper: (events) => {
      const records = recordsOf(events);
      const victim = at(records, 2);
      return {
        records: [...records, { ...victim, event: null, offset: '500' }],
        blamed: at(events, 2),
      };
    },
    kinds: ['TOMBSTONE'],
  },
  {
    name: 'forged event inserted after the second event',
    tamper: (events) => {
      const forged = buildAuditEvent(
        decisionFor(
          'G-1',
          { stage: 'routing', action: 'REJECT', errorCategory: 'COMPLIANCE_BLOCK' },
          99,
        ),
        at(events, 1).event_hash,
      ).event;
      return { records: recordsOf([...events, forged]), blamed: forged };
    },
    kinds: ['FORK'],
  },
  {
    name: 'middle event deleted (compacted away after a tombstone)',
    tamper: (events) => ({
      records: recordsOf(events.filter((_, i) => i !== 2)),
      blamed: at(events, 3),
    }),
    kinds: ['GAP'],
  },
  {
    name: 'trail not starting at ingest',
    tamper: () => {
      const events = trail('G-1', FIVE_STAGES.slice(1));
      return { records: recordsOf(events), blamed: at(events, 0) };
    },
    kinds: ['NOT_INGESTED'],
  },
  {
    name: 'first event deleted',
    tamper: (events) => ({ records: recordsOf(events.slice(1)), blamed: at(events, 1) }),
    kinds: ['NO_GENESIS', 'GAP'],
  },
];

describe('ChainVerifier on tampered trails', () => {
  it.each(TAMPER_CASES)('$name → $kinds', ({ tamper, kinds }) => {
    const bystander = recordsOf(trail('G-2'));
    const { records, blamed } = tamper(trail('G-1'));
    const report = verify([...bystander, ...records]);

    expect(report.ok).toBe(false);
    expect(report.grantsWithFindings).toEqual(['G-1']);
    expect(report.findings.map((f) => f.kind)).toEqual(kinds);
    expect(report.findings.every((f) => f.grantId === 'G-1')).toBe(true);
    expect(firstBadEvent(report, 'G-1')?.eventId).toBe(blamed.event_id);
    expect(firstBadEvent(report, 'G-2')).toBeUndefined();
  });

  it('names a forged event, not the genuine one it forks from', () => {
    const events = trail('G-1');
    const forged = buildAuditEvent(
      decisionFor('G-1', { stage: 'submission', action: 'DEAD_LETTER' }, 50),
      at(events, 2).event_hash,
    );
    const report = verify(recordsOf([forged.event, ...events]));
    const [fork] = report.findings;
    expect(fork).toMatchObject({ kind: 'FORK', eventId: forged.event.event_id, key: forged.key });
    expect(fork?.message).toContain(at(events, 3).event_id);
  });

  it('orders a grant’s findings by chain position, not by log order', () => {
    const events = trail('G-1');
    const alteredLate = { ...at(events, 4), service_version: '6.6.6' };
    const withoutSecond = events.filter((_, i) => i !== 1);
    // The altered last event is read first; the gap after the deleted second event is earlier in the chain.
    const report = verify(recordsOf([alteredLate, ...withoutSecond]));
    expect(report.findings.map((f) => [f.kind, f.eventId])).toEqual([
      ['GAP', at(events, 2).event_id],
      ['ALTERED', at(events, 4).event_id],
    ]);
    expect(firstBadEvent(report, 'G-1')?.kind).toBe('GAP');
  });

  it('reports the partition and offset of the bad record', () => {
    const events = trail('G-1');
    const altered = { ...at(events, 0), funder_id: 'other' };
    const report = verify([
      ...recordsOf(events),
      { key: `G-1:${altered.event_id}`, event: altered, partition: 7, offset: '12345' },
    ]);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'ALTERED', partition: 7, offset: '12345' }),
    ]);
  });

  it('reports a tombstone whose value is already compacted away, by key', () => {
    const report = verify([
      { key: `G-9:${'a'.repeat(64)}`, event: null, partition: 0, offset: '3' },
    ]);
    expect(report.findings).toEqual([
      expect.objectContaining({ grantId: 'G-9', kind: 'TOMBSTONE', eventId: 'a'.repeat(64) }),
    ]);
    expect(report.grants).toBe(1);
    expect(report.events).toBe(0);
  });

  it('reports an altered event redelivered verbatim once', () => {
    const events = trail('G-1');
    const altered = { ...at(events, 1), stage: 'x' };
    const report = verify(recordsOf([...events.slice(0, 1), altered, altered, ...events.slice(2)]));
    expect(report.findings.filter((f) => f.kind === 'ALTERED')).toHaveLength(1);
  });
});

describe('chainOrder', () => {
  it('orders a shuffled trail genesis-first and drops identical redeliveries', () => {
    const events = trail('G-1');
    const shuffled = [
      at(events, 3),
      at(events, 0),
      at(events, 4),
      at(events, 1),
      at(events, 3),
      at(events, 2),
    ];
    expect(chainOrder(shuffled)).toEqual(events);
  });

  it('appends events not reachable from genesis after the chain, earliest first', () => {
    const events = trail('G-1');
    const withGap = [at(events, 4), at(events, 3), at(events, 0), at(events, 1)];
    expect(chainOrder(withGap).map((e) => e.event_id)).toEqual(
      [0, 1, 3, 4].map((i) => at(events, i).event_id),
    );
  });

  it('returns nothing for nothing', () => {
    expect(chainOrder([])).toEqual([]);
  });

  it('lists trail by trail in the order they started, never interleaved', () => {
    const first = trailOf('G-1', 't1');
    const second = trailOf('G-1', 't2', { from: 60_000 });
    const other = trailOf('A-1', 'ta', { from: 120_000 });
    const mixed = [...second, ...other, ...first].reverse();
    expect(chainOrder(mixed)).toEqual([...other, ...first, ...second]);
  });

  it('keeps the versions of a re-made decision together at its place', () => {
    const events = trail('G-1');
    const again = rehashed({ ...at(events, 2), occurred_at: at(events, 2).occurred_at + 9 });
    const ordered = chainOrder([again, ...[...events].reverse()]);
    expect(ordered.map((e) => e.event_hash)).toEqual([
      at(events, 0).event_hash,
      at(events, 1).event_hash,
      again.event_hash,
      at(events, 2).event_hash,
      at(events, 3).event_hash,
      at(events, 4).event_hash,
    ]);
  });

  it('orders small stand-ins as it orders events', () => {
    const events = trail('G-1');
    const standIns = [...events].reverse().map((e, i) => ({ ...e, spool: i }));
    expect(orderTrails(standIns).map((s) => s.event_id)).toEqual(events.map((e) => e.event_id));
  });
});
