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
  /** Trails by trail id; a trail id shared by two grants (only forged) falls back to a composite key. */
  private readonly trailIndex = new Map<string, number>();
  private readonly sharedTrailIds = new Map<string, number>();
  private readonly trailIds: string[] = [];
  private trailGrant = new Int32Array(64);
  private trailFirst = new Int32Array(64);
  private trailLast = new Int32Array(64);
  private trailMinAt = new Float64Array(64);
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
    return this.trailIds.length;
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
    const trail = this.trailNumber(grant, item.audit_trail_id, i);
    if (this.trailFirst[trail] === -1) {
      this.trailFirst[trail] = i;
      this.trailMinAt[trail] = item.occurred_at;
    } else {
      this.nextInTrail[this.trailLast[trail]!] = i;
      this.trailMinAt[trail] = Math.min(this.trailMinAt[trail]!, item.occurred_at);
    }
    this.trailLast[trail] = i;
  }

  /**
   * Every payload ref in {@link orderTrails} order (grants by id, trails by
   * when they started, each in chain order; an identical redelivery once).
   */
  *ordered(): Generator<PayloadRef> {
    const order = this.trailIds.map((_, i) => i);
    const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    order.sort(
      (a, b) =>
        compare(this.grantIds[this.trailGrant[a]!]!, this.grantIds[this.trailGrant[b]!]!) ||
        this.trailMinAt[a]! - this.trailMinAt[b]! ||
        compare(this.trailIds[a]!, this.trailIds[b]!),
    );
    for (const t of order) {
      const grantId = this.grantIds[this.trailGrant[t]!]!;
      const trailId = this.trailIds[t]!;
      const items: (TrailItem & { index: number })[] = [];
      for (let i = this.trailFirst[t]!; i >= 0; i = this.nextInTrail[i]!) {
        items.push({
          index: i,
          grant_id: grantId,
          audit_trail_id: trailId,
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

  private trailNumber(grant: number, trailId: string, event: number): number {
    const known = this.trailIndex.get(trailId);
    if (known !== undefined && this.trailGrant[known] === grant) return known;
    const shared = known === undefined ? undefined : `${grant}\u0000${trailId}`;
    if (shared !== undefined) {
      const other = this.sharedTrailIds.get(shared);
      if (other !== undefined) return other;
    }
    const n = this.trailIds.length;
    if (n === this.trailGrant.length) {
      const grownInt = (old: Int32Array) => {
        const next = new Int32Array(n * 2);
        next.set(old);
        return next;
      };
      this.trailGrant = grownInt(this.trailGrant);
      this.trailFirst = grownInt(this.trailFirst);
      this.trailLast = grownInt(this.trailLast);
      const minAt = new Float64Array(n * 2);
      minAt.set(this.trailMinAt);
      this.trailMinAt = minAt;
    }
    this.trailIds.push(trailId);
    this.trailGrant[n] = grant;
    this.trailFirst[n] = -1;
    this.trailLast[n] = event;
    if (shared === undefined) this.trailIndex.set(trailId, n);
    else this.sharedTrailIds.set(shared, n);
    return n;
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
