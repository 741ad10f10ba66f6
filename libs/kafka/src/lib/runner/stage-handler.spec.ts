import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DeferResult, HandlerResult, OutboundRecord, ProduceResult } from './stage-handler';

// The handler result is a union the type checker keeps honest: the
// `@ts-expect-error` lines below fail the typecheck the day an illegal shape
// (a deferral that also produces) type-checks again.

const record: OutboundRecord = { topic: 'out', key: 'k', value: { id: 1 } };

describe('HandlerResult', () => {
  it('takes records to produce, or a due time with no records', () => {
    const produced: HandlerResult = { records: [record] };
    const nothing: HandlerResult = { records: [] };
    const deferred: HandlerResult = { records: [], deferUntil: 1_000 };
    expect([produced, nothing, deferred].map((r) => r.deferUntil)).toEqual([
      undefined,
      undefined,
      1_000,
    ]);
  });

  it('refuses a deferral that also produces, at compile time', () => {
    // @ts-expect-error a deferred input produces nothing until it is handled again
    const both: HandlerResult = { records: [record], deferUntil: 1_000 };
    // @ts-expect-error a due time is a number of epoch milliseconds, not a flag
    const flag: HandlerResult = { records: [], deferUntil: true };
    // @ts-expect-error a result says what to produce, even when that is nothing
    const empty: HandlerResult = {};
    // @ts-expect-error dead letters are not results: a handler gives up by throwing GaveUpError
    const dead: HandlerResult = { records: [], deadLetter: record };
    expect([both, flag, empty, dead]).toHaveLength(4);
  });

  it('narrows on deferUntil: a deferral has no records to read, a production has them', () => {
    const decide = (r: HandlerResult): number =>
      r.deferUntil !== undefined ? r.deferUntil : r.records.length;
    expectTypeOf<Extract<HandlerResult, { deferUntil: number }>>().toEqualTypeOf<DeferResult>();
    expectTypeOf<DeferResult['records']>().toEqualTypeOf<readonly []>();
    expectTypeOf<ProduceResult['records']>().toEqualTypeOf<OutboundRecord[]>();
    expect(decide({ records: [record, record] })).toBe(2);
    expect(decide({ records: [], deferUntil: 5 })).toBe(5);
  });
});
