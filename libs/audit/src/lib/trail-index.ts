import { orderTrails, type TrailItem } from './chain';

const HASH_BYTES = 32;
const HEX_64 = /^[0-9a-f]{64}$/;

/** Where the caller keeps an event's payload (a line in a spool file, say); `at` -1 for none. */
export interface PayloadRef {
  at: number;
  length: number;
}

/**
 * The links of many audit events in little memory, to put them in the order
 * {@link orderTrails} gives without holding the events: ids and hashes are
 * kept as bytes in typed arrays (off the JavaScript heap), grant ids, trail
 * ids and actions once each, and events of one trail are chained by index.
 * Ordering then builds objects for one trail at a time.
 *
 * Each event carries a {@link PayloadRef} the caller chose; {@link ordered}
 * yields them. Memory is about 130 bytes per event whatever its size, so a
 * replay of a whole topic stays small while every trail is still laid out
 * from all of its events.
 */
export class TrailIndex {
  private capacity: number;
  private count = 0;
  private hashes: Buffer;
  private occurredAt: Float64Array;
  private refs: Float64Array;
  private nextInTrail: Int32Array;
  private actionOf: Uint8Array;
  /** Values that are not 64 hex digits (only a tampered event has them), by position. */
  private readonly oddValues = new Map<number, string>();

  private readonly grantIds: string[] = [];
  private readonly grantIndex = new Map<string, number>();
  private readonly trailKeys = new Map<string, number>();
  private readonly trails: {
    grant: number;
    trailId: string;
    first: number;
    last: number;
    minAt: number;
  }[] = [];
  private readonly actions: TrailItem['action'][] = [];
  private readonly actionIndex = new Map<string, number>();

  constructor(initialCapacity = 1024) {
    this.capacity = Math.max(1, initialCapacity);
    this.hashes = Buffer.alloc(this.capacity * HASH_BYTES * 3);
    this.occurredAt = new Float64Array(this.capacity);
    this.refs = new Float64Array(this.capacity * 2);
    this.nextInTrail = new Int32Array(this.capacity);
    this.actionOf = new Uint8Array(this.capacity);
  }

  /** Events added so far. */
  get size(): number {
    return this.count;
  }

  /** Distinct (grant, trail) pairs added so far. */
  get trailCount(): number {
    return this.trails.length;
  }

  /** Notes one event's links and where its payload is. */
  add(item: TrailItem, ref: PayloadRef): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count;
    this.count += 1;
    this.putHash(i, 0, item.event_id);
    this.putHash(i, 1, item.event_hash);
    this.putHash(i, 2, item.previous_event_hash);
    this.occurredAt[i] = item.occurred_at;
    this.refs[2 * i] = ref.at;
    this.refs[2 * i + 1] = ref.length;
    this.actionOf[i] = this.actionNumber(item.action);
    this.nextInTrail[i] = -1;

    let grant = this.grantIndex.get(item.grant_id);
    if (grant === undefined) {
      grant = this.grantIds.length;
      this.grantIds.push(item.grant_id);
      this.grantIndex.set(item.grant_id, grant);
    }
    const trailKey = `${grant}\u0000${item.audit_trail_id}`;
    let trail = this.trailKeys.get(trailKey);
    if (trail === undefined) {
      trail = this.trails.length;
      this.trailKeys.set(trailKey, trail);
      this.trails.push({
        grant,
        trailId: item.audit_trail_id,
        first: i,
        last: i,
        minAt: item.occurred_at,
      });
    } else {
      const t = this.trails[trail]!;
      this.nextInTrail[t.last] = i;
      t.last = i;
      t.minAt = Math.min(t.minAt, item.occurred_at);
    }
  }

  /**
   * Every payload ref in {@link orderTrails} order (grants by id, trails by
   * when they started, each in chain order; an identical redelivery once).
   */
  *ordered(): Generator<PayloadRef> {
    const order = this.trails.map((_, i) => i);
    const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    order.sort((a, b) => {
      const ta = this.trails[a]!;
      const tb = this.trails[b]!;
      return (
        compare(this.grantIds[ta.grant]!, this.grantIds[tb.grant]!) ||
        ta.minAt - tb.minAt ||
        compare(ta.trailId, tb.trailId)
      );
    });
    for (const t of order) {
      const trail = this.trails[t]!;
      const grantId = this.grantIds[trail.grant]!;
      const items: (TrailItem & { index: number })[] = [];
      for (let i = trail.first; i >= 0; i = this.nextInTrail[i]!) {
        items.push({
          index: i,
          grant_id: grantId,
          audit_trail_id: trail.trailId,
          event_id: this.hashAt(i, 0),
          event_hash: this.hashAt(i, 1),
          previous_event_hash: this.hashAt(i, 2),
          occurred_at: this.occurredAt[i]!,
          action: this.actions[this.actionOf[i]!]!,
        });
      }
      for (const item of orderTrails(items)) {
        yield { at: this.refs[2 * item.index]!, length: this.refs[2 * item.index + 1]! };
      }
    }
  }

  private putHash(i: number, field: number, value: string): void {
    const offset = (i * 3 + field) * HASH_BYTES;
    if (HEX_64.test(value)) this.hashes.write(value, offset, HASH_BYTES, 'hex');
    else this.oddValues.set(i * 3 + field, value);
  }

  private hashAt(i: number, field: number): string {
    const odd = this.oddValues.get(i * 3 + field);
    if (odd !== undefined) return odd;
    const offset = (i * 3 + field) * HASH_BYTES;
    return this.hashes.toString('hex', offset, offset + HASH_BYTES);
  }

  private actionNumber(action: TrailItem['action']): number {
    let n = this.actionIndex.get(action);
    if (n === undefined) {
      n = this.actions.length;
      this.actions.push(action);
      this.actionIndex.set(action, n);
    }
    return n;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const hashes = Buffer.alloc(capacity * HASH_BYTES * 3);
    this.hashes.copy(hashes);
    this.hashes = hashes;
    const grown = <A extends Float64Array | Int32Array | Uint8Array>(
      old: A,
      make: (n: number) => A,
      per = 1,
    ): A => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.occurredAt = grown(this.occurredAt, (n) => new Float64Array(n));
    this.refs = grown(this.refs, (n) => new Float64Array(n), 2);
    this.nextInTrail = grown(this.nextInTrail, (n) => new Int32Array(n));
    this.actionOf = grown(this.actionOf, (n) => new Uint8Array(n));
    this.capacity = capacity;
  }
}
