import type { AuditEventV1 } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  TrailIndex,
  buildAuditEvent,
  chainOrder,
  payloadHashOf,
} from '../index';

/** A trail of `steps` events of `grantId`, starting at `from`. */
function trailOf(grantId: string, trailId: string, steps: number, from: number): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  const events: AuditEventV1[] = [];
  for (let i = 0; i < steps; i += 1) {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: 'nsf',
        auditTrailId: trailId,
        stage: i === 0 ? 'ingest' : `stage-${i}`,
        action: i === 0 ? 'VALIDATED' : 'FORWARD',
        payloadHash: payloadHashOf(Buffer.from(`${trailId}-${i}`)),
        service: { name: 'x', version: '1' },
        occurredAt: from + i * 10,
        source: { topic: `in.${trailId}`, partition: 0, offset: i },
      },
      previous,
    );
    previous = event.event_hash;
    events.push(event);
  }
  return events;
}

/** A deterministic shuffle, so the test does not depend on log order by luck. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 7;
  for (let i = out.length - 1; i > 0; i -= 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('TrailIndex', () => {
  it('yields payload refs in the order chainOrder gives the events, growing as needed', () => {
    const events = [
      ...trailOf('B-1', 't1', 6, 1000),
      ...trailOf('A-1', 't2', 4, 5000),
      ...trailOf('B-1', 't3', 5, 500),
      ...trailOf('A-1', 't4', 3, 100),
    ];
    const input = shuffled(events);
    const index = new TrailIndex(2);
    input.forEach((event, i) => index.add(event, { at: i, length: 1 }));
    expect(index.size).toBe(18);
    expect(index.trailCount).toBe(4);
    const byRef = [...index.ordered()].map((r) => input[r.at]?.event_id);
    expect(byRef).toEqual(chainOrder(input).map((e) => e.event_id));
    expect(byRef.slice(0, 3)).toEqual(trailOf('A-1', 't4', 3, 100).map((e) => e.event_id));
  });

  it('keeps the first copy of an identical redelivery and the refs of events that did not match', () => {
    const events = trailOf('G-1', 't1', 3, 0);
    const index = new TrailIndex();
    index.add(events[2] as AuditEventV1, { at: -1, length: 0 });
    index.add(events[0] as AuditEventV1, { at: 10, length: 5 });
    index.add(events[1] as AuditEventV1, { at: 20, length: 6 });
    index.add(events[0] as AuditEventV1, { at: 30, length: 5 });
    expect([...index.ordered()]).toEqual([
      { at: 10, length: 5 },
      { at: 20, length: 6 },
      { at: -1, length: 0 },
    ]);
  });

  it('keeps two grants apart that share a trail id', () => {
    const a = trailOf('A-1', 'same', 2, 50);
    const b = trailOf('B-1', 'same', 3, 0);
    const input = [...b, ...a].reverse();
    const index = new TrailIndex();
    input.forEach((event, i) => index.add(event, { at: i, length: 1 }));
    expect(index.trailCount).toBe(2);
    expect([...index.ordered()].map((r) => input[r.at]?.event_id)).toEqual(
      [...a, ...b].map((e) => e.event_id),
    );
  });

  it('keeps values that are not hashes as they are', () => {
    const [first, second] = trailOf('G-1', 't1', 2, 0) as [AuditEventV1, AuditEventV1];
    const odd = { ...second, previous_event_hash: 'not-a-hash', event_id: 'X' };
    const index = new TrailIndex();
    index.add(odd, { at: 1, length: 1 });
    index.add(first, { at: 0, length: 1 });
    expect([...index.ordered()].map((r) => r.at)).toEqual([0, 1]);
  });
});
