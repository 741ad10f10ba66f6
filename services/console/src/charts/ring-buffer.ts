/**
 * The last `capacity` items pushed, oldest first: the console's chart
 * samples, whose memory stays the same however long it runs.
 */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`a ring buffer holds at least one item, not ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** Adds `item`, dropping the oldest when full. */
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The newest item, or undefined when empty. */
  last(): T | undefined {
    return this.count === 0
      ? undefined
      : this.items[(this.next - 1 + this.capacity) % this.capacity];
  }

  /** Every item held, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i += 1) out.push(this.items[(start + i) % this.capacity] as T);
    return out;
  }
}
