import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_HEAD_HEADER,
  AUDIT_TRAIL_HEADER,
  sha256Hex,
} from '@grantstream/audit';
import { DLQ_HEADERS } from '@grantstream/contracts';
import type { ReadMessage } from '@grantstream/kafka';
import {
  criteriaOf,
  describeDeadLetter,
  matchesDeadLetter,
  parsePosition,
  redriveAuditRecord,
  redriveRefusal,
  redrivenMessage,
  selectsEverything,
  summarize,
  type RedrivePolicy,
} from './dead-letters';

const HEAD = sha256Hex('the DEAD_LETTER event');

function aDeadLetter(overrides: Partial<ReadMessage> = {}, headers: Record<string, string> = {}) {
  const base: Record<string, string> = {
    'x-upstream': 'parser-7',
    [AUDIT_HEAD_HEADER]: HEAD,
    [DLQ_HEADERS.STAGE]: 'submission',
    [DLQ_HEADERS.SERVICE]: 'grantstream-submission@0.1.0',
    [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.routed.v1',
    [DLQ_HEADERS.SOURCE_PARTITION]: '4',
    [DLQ_HEADERS.SOURCE_OFFSET]: '1234',
    [DLQ_HEADERS.ERROR_CATEGORY]: 'CONFIGURATION',
    [DLQ_HEADERS.ERROR_CODE]: 'FUNDER_MISCONFIGURED',
    [DLQ_HEADERS.REASON]: 'portal answered 401',
    [DLQ_HEADERS.ATTEMPTS]: '1',
    [DLQ_HEADERS.FAILED_AT]: '2026-03-01T12:00:00.000Z',
    [DLQ_HEADERS.GRANT_ID]: 'NSF-2026-000042',
    [DLQ_HEADERS.AUDIT_TRAIL_ID]: 'trail-42',
    ...headers,
  };
  const message: ReadMessage = {
    topic: 'grants.dlq.v1',
    partition: 1,
    offset: '77',
    key: Buffer.from('NSF-2026-000042'),
    value: Buffer.from([0, 0, 0, 0, 9, 1, 2, 3]),
    timestamp: '1772366400000',
    headers: Object.fromEntries(Object.entries(base).map(([k, v]) => [k, Buffer.from(v)])),
    ...overrides,
  };
  return message;
}

const policy = (over: Partial<RedrivePolicy> = {}): RedrivePolicy => ({
  deadLetterTopic: 'grants.dlq.v1',
  refuseCategories: ['SCHEMA_VIOLATION'],
  force: false,
  alreadyRedriven: new Set(),
  ...over,
});

describe('dead letters', () => {
  it('reads every dead-letter header into an entry', () => {
    expect(describeDeadLetter(aDeadLetter())).toEqual({
      position: '1:77',
      partition: 1,
      offset: '77',
      key: 'NSF-2026-000042',
      stage: 'submission',
      service: 'grantstream-submission@0.1.0',
      category: 'CONFIGURATION',
      code: 'FUNDER_MISCONFIGURED',
      reason: 'portal answered 401',
      attempts: 1,
      failedAt: '2026-03-01T12:00:00.000Z',
      grantId: 'NSF-2026-000042',
      auditTrailId: 'trail-42',
      source: { topic: 'grants.routed.v1', partition: 4, offset: '1234' },
      redriveCount: 0,
      auditHead: HEAD,
      valueBytes: 8,
      valueRef: null,
      omitted: [],
    });
  });

  it('names a keyless grant without headers by its source position, as the audit event does', () => {
    const m = aDeadLetter({ key: null }, { [DLQ_HEADERS.GRANT_ID]: '' });
    expect(describeDeadLetter(m).grantId).toBe('UNKEYED-grants.routed.v1-4-1234');
    const bare = aDeadLetter({ key: null, headers: {} });
    expect(describeDeadLetter(bare)).toMatchObject({
      grantId: 'UNKEYED-grants.dlq.v1-1-77',
      source: null,
      stage: null,
      redriveCount: 0,
    });
  });

  it('parses positions and refuses anything else', () => {
    expect(parsePosition(' 3:0042 ')).toEqual({ partition: 3, offset: '42' });
    expect(() => parsePosition('3')).toThrow(/partition:offset/);
    expect(() => parsePosition('a:1')).toThrow(/partition:offset/);
    expect(() => parsePosition('1:-2')).toThrow(/partition:offset/);
  });

  it('filters by position, cause, stage, source, grant and time', () => {
    const e = describeDeadLetter(aDeadLetter());
    expect(matchesDeadLetter(e, {})).toBe(true);
    expect(matchesDeadLetter(e, { positions: new Set(['1:77']) })).toBe(true);
    expect(matchesDeadLetter(e, { positions: new Set(['1:78']) })).toBe(false);
    expect(matchesDeadLetter(e, { category: 'CONFIGURATION', stage: 'submission' })).toBe(true);
    expect(matchesDeadLetter(e, { category: 'SCHEMA_VIOLATION' })).toBe(false);
    expect(matchesDeadLetter(e, { code: 'FUNDER_MISCONFIGURED' })).toBe(true);
    expect(matchesDeadLetter(e, { sourceTopic: 'grants.validated.v1' })).toBe(false);
    expect(matchesDeadLetter(e, { grant: 'NSF-2026-000042' })).toBe(true);
    const at = Date.parse('2026-03-01T12:00:00.000Z');
    expect(matchesDeadLetter(e, { from: at, to: at + 1 })).toBe(true);
    expect(matchesDeadLetter(e, { from: at + 1 })).toBe(false);
    expect(matchesDeadLetter(e, { to: at })).toBe(false);
  });

  it('takes the criteria out of command options, and knows when nothing is selected', () => {
    const options = { category: 'CONFIGURATION', from: 5, json: true, topic: 't', to: undefined };
    expect(criteriaOf(options)).toEqual({ category: 'CONFIGURATION', from: 5 });
    expect(
      selectsEverything(criteriaOf({ ...options, category: undefined, from: undefined })),
    ).toBe(true);
    expect(selectsEverything(criteriaOf(options))).toBe(false);
    expect(selectsEverything({ positions: new Set(['0:1']) })).toBe(false);
  });

  it('refuses what a redrive cannot fix, and what was redriven already', () => {
    const e = describeDeadLetter(aDeadLetter());
    expect(redriveRefusal(e, policy())).toBeNull();
    expect(redriveRefusal(e, policy({ alreadyRedriven: new Set(['1:77']) }))).toMatch(
      /already redriven/,
    );
    const schema = describeDeadLetter(
      aDeadLetter({}, { [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION' }),
    );
    expect(redriveRefusal(schema, policy())).toMatch(/SCHEMA_VIOLATION.*--force/);
    expect(redriveRefusal(schema, policy({ force: true }))).toBeNull();
    const noSource = describeDeadLetter(aDeadLetter({ headers: {} }));
    expect(redriveRefusal(noSource, policy({ force: true }))).toMatch(/no source/);
    const ownTopic = describeDeadLetter(
      aDeadLetter({}, { [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.dlq.v1' }),
    );
    expect(redriveRefusal(ownTopic, policy())).toMatch(/dead-letter topic itself/);
  });

  it('sends the original bytes back without dead-letter headers, counted and chained', () => {
    const m = aDeadLetter({}, { [DLQ_HEADERS.REDRIVE_COUNT]: '2' });
    const e = describeDeadLetter(m);
    const audit = redriveAuditRecord(
      e,
      m,
      {
        occurredAt: 1772366500000,
        operator: 'ops',
        service: { name: 'grantctl', version: '1.0.0' },
      },
      'grants.audit.v1',
    );
    const out = redrivenMessage(e, m, audit.headHeaders);
    expect(out.key).toBe(m.key);
    expect(out.value).toBe(m.value);
    expect(out.partition).toBeUndefined();
    const headers = Object.fromEntries(
      Object.entries(out.headers ?? {}).map(([k, v]) => [k, v.toString()]),
    );
    expect(headers).toEqual({
      'x-upstream': 'parser-7',
      [AUDIT_HEAD_HEADER]: audit.record.value.event_hash,
      [AUDIT_TRAIL_HEADER]: 'trail-42',
      [DLQ_HEADERS.REDRIVE_COUNT]: '3',
    });

    const event = audit.record.value;
    expect(event).toMatchObject({
      grant_id: 'NSF-2026-000042',
      audit_trail_id: 'trail-42',
      stage: 'grantctl',
      action: 'REDRIVEN',
      previous_event_hash: HEAD,
      source: { topic: 'grants.dlq.v1', partition: 1, offset: 77 },
    });
    expect(event.details).toMatchObject({
      to_topic: 'grants.routed.v1',
      from_partition: '4',
      from_offset: '1234',
      redrive_count: '3',
      operator: 'ops',
      error_code: 'FUNDER_MISCONFIGURED',
    });
  });

  it('sends a keyless message back to the partition it came from', () => {
    const m = aDeadLetter({ key: null });
    const e = describeDeadLetter(m);
    expect(redrivenMessage(e, m, {}).partition).toBe(4);
  });

  it('chains to genesis when the dead letter carries no audit head', () => {
    const m = aDeadLetter({}, { [AUDIT_HEAD_HEADER]: 'not a hash' });
    const audit = redriveAuditRecord(
      describeDeadLetter(m),
      m,
      { occurredAt: 1, operator: 'ops', service: { name: 'grantctl', version: '1.0.0' } },
      'grants.audit.v1',
    );
    expect(audit.record.value.previous_event_hash).toBe(AUDIT_GENESIS_HASH);
  });

  it('counts by stage, category and code, largest first', () => {
    const a = describeDeadLetter(aDeadLetter());
    const b = describeDeadLetter(
      aDeadLetter(
        {},
        { [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION', [DLQ_HEADERS.ERROR_CODE]: 'X' },
      ),
    );
    expect(summarize([b, a, a])).toEqual([
      ['submission / CONFIGURATION / FUNDER_MISCONFIGURED', 2],
      ['submission / SCHEMA_VIOLATION / X', 1],
    ]);
  });

  describe('a dead letter whose value travels by reference', () => {
    const stored = sha256Hex('the original value');
    const referenced = (headers: Record<string, string> = {}) =>
      aDeadLetter(
        { value: null },
        {
          [DLQ_HEADERS.ERROR_CATEGORY]: 'INFRASTRUCTURE',
          [DLQ_HEADERS.VALUE_REF]: `file:///var/dead-letters/${stored}.bin`,
          [DLQ_HEADERS.VALUE_SHA256]: stored,
          [DLQ_HEADERS.VALUE_BYTES]: '5000000',
          [DLQ_HEADERS.OMITTED]: 'value',
          ...headers,
        },
      );

    it('reads the reference, its hash and the original size', () => {
      const e = describeDeadLetter(referenced());
      expect(e.valueRef).toEqual({ uri: `file:///var/dead-letters/${stored}.bin`, sha256: stored });
      expect(e.valueBytes).toBe(5_000_000);
      expect(e.omitted).toEqual(['value']);
      expect(redriveRefusal(e, policy())).toBeNull();
    });

    it('refuses one whose value was not kept, even with --force', () => {
      const lost = aDeadLetter(
        { value: null },
        { [DLQ_HEADERS.VALUE_SHA256]: stored, [DLQ_HEADERS.OMITTED]: 'value' },
      );
      const e = describeDeadLetter(lost);
      expect(redriveRefusal(e, policy({ force: true }))).toMatch(/not kept/);
    });

    it('refuses one without its original headers unless forced', () => {
      const e = describeDeadLetter(referenced({ [DLQ_HEADERS.OMITTED]: 'value,headers' }));
      expect(redriveRefusal(e, policy())).toMatch(/headers were too large to keep/);
      expect(redriveRefusal(e, policy({ force: true }))).toBeNull();
    });

    it('sends back the bytes read from the store, not the empty dead-letter value', () => {
      const m = referenced();
      const e = describeDeadLetter(m);
      const bytes = Buffer.from('the original value');
      const out = redrivenMessage(e, m, {}, bytes);
      expect(out.value?.equals(bytes)).toBe(true);
      expect(
        Object.keys(out.headers ?? {}).some((k) => k.startsWith('grantstream.dlq.value')),
      ).toBe(false);
    });
  });
});
