/**
 * The last `capacity` bytes of a stream, kept as the chunks that hold them so
 * a chunk is never copied until the tail is asked for: memory stays at the
 * capacity plus one chunk whatever the stream's length.
 */
export class TailWindow {
  private chunks: Buffer[] = [];
  private held = 0;
  private total = 0;

  constructor(readonly capacity: number) {}

  /** Appends a chunk, dropping the oldest ones no longer needed. */
  push(chunk: Buffer): void {
    if (this.capacity === 0) {
      this.total += chunk.length;
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    this.total += chunk.length;
    while (this.chunks.length > 1 && this.held - (this.chunks[0]?.length ?? 0) >= this.capacity) {
      this.held -= this.chunks.shift()?.length ?? 0;
    }
  }

  /** The kept tail (at most `capacity` bytes) and the stream offset of its first byte. */
  tail(): { bytes: Buffer; start: number } {
    const joined = Buffer.concat(this.chunks, this.held);
    const bytes = joined.subarray(Math.max(0, joined.length - this.capacity));
    return { bytes, start: this.total - bytes.length };
  }
}
