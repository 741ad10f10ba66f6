import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@grantstream/contracts';
import type { ReadMessage } from '@grantstream/kafka';
import { planRedrive } from './redrive-plan';

const actor = {
  operator: 'otto',
  occurredAt: Date.UTC(2026, 0, 1),
  service: { name: 'console', version: '1' },
};

function letter(headers: Record<string, string>, offset = '4'): ReadMessage {
  return {
    topic: 'grants.dlq.v1',
    partition: 0,
    offset,
    key: Buffer.from('NSF-2026-1'),
    value: Buffer.from([0, 0, 0, 0, 1, 2]),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestamp: '0',
  };
}

const SOURCE = {
  [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.routed.v1',
  [DLQ_HEADERS.SOURCE_PARTITION]: '2',
  [DLQ_HEADERS.SOURCE_OFFSET]: '9',
  [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
  'x-upstream': 'kept',
};
const policy = {
  deadLetterTopic: 'grants.dlq.v1',
  refuseCategories: ['SCHEMA_VIOLATION'],
  force: false,
  alreadyRedriven: new Set<string>(),
};

describe('planRedrive', () => {
  it('sends the original back to its source with a REDRIVEN event naming the operator', () => {
    const plan = planRedrive(letter(SOURCE), policy, actor, 'grants.audit.v1');
    if (plan.kind !== 'send') throw new Error(plan.reason);
    expect(plan.toTopic).toBe('grants.routed.v1');
    expect(plan.message.value).toEqual(Buffer.from([0, 0, 0, 0, 1, 2]));
    expect(plan.message.headers?.['x-upstream']?.toString()).toBe('kept');
    expect(plan.message.headers?.[DLQ_HEADERS.SOURCE_TOPIC]).toBeUndefined();
    expect(plan.audit.record.value.action).toBe('REDRIVEN');
    expect(plan.audit.record.value.details['operator']).toBe('otto');
    expect(plan.audit.record.topic).toBe('grants.audit.v1');
  });

  it('refuses what grantctl refuses: twice, a refused category unless forced, a value by reference', () => {
    expect(
      planRedrive(letter(SOURCE), { ...policy, alreadyRedriven: new Set(['0:4']) }, actor, 'a')
        .kind,
    ).toBe('refused');
    const schema = letter({ ...SOURCE, [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION' });
    expect(planRedrive(schema, policy, actor, 'a').kind).toBe('refused');
    expect(planRedrive(schema, { ...policy, force: true }, actor, 'a').kind).toBe('send');
    const byRef = letter({
      ...SOURCE,
      [DLQ_HEADERS.VALUE_REF]: 'file:///x',
      [DLQ_HEADERS.VALUE_SHA256]: 'a'.repeat(64),
      [DLQ_HEADERS.OMITTED]: 'value',
    });
    expect(planRedrive(byRef, policy, actor, 'a')).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('grantctl'),
    });
  });
});
