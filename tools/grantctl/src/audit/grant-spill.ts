import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grantIdOfAuditKey } from '@grantstream/audit';

/**
 * Lines spilled to temporary files, bucketed by grant: everything of one
 * grant (its records and its leaves) lands in one bucket, so a bucket can be
 * checked on its own and only one bucket is ever in memory. The number of
 * buckets is chosen from the topic's size, which is what keeps a bucket, and
 * so the verifier's memory, the same size whatever the topic holds.
 */
export class GrantSpill {
  private readonly dir: string;
  private readonly files = new Map<string, { fd: number; buffer: string[]; bytes: number }>();

  constructor(
    readonly buckets: number,
    private readonly bufferBytes: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'grantctl-verify-'));
  }

  /** The bucket of an audit key: by its grant, so a grant never spans two buckets. */
  bucketOf(key: string): number {
    // FNV-1a: cheap and spreads grant ids evenly; nothing here is adversarial
    // beyond making one bucket larger, which costs memory, not correctness.
    const grant = grantIdOfAuditKey(key);
    let hash = 0x811c9dc5;
    for (let i = 0; i < grant.length; i += 1) {
      hash ^= grant.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % this.buckets;
  }

  /** Appends one line (no newline inside) to `kind` of the key's bucket. */
  write(kind: string, key: string, line: string): void {
    const name = `${kind}-${this.bucketOf(key)}`;
    let file = this.files.get(name);
    if (file === undefined) {
      file = { fd: openSync(join(this.dir, name), 'w+'), buffer: [], bytes: 0 };
      this.files.set(name, file);
    }
    file.buffer.push(line, '\n');
    file.bytes += line.length + 1;
    if (file.bytes >= this.bufferBytes) this.flushFile(file);
  }

  private flushFile(file: { fd: number; buffer: string[]; bytes: number }): void {
    if (file.buffer.length === 0) return;
    writeSync(file.fd, file.buffer.join(''));
    file.buffer = [];
    file.bytes = 0;
  }

  /** The lines of `kind` in `bucket`, in the order written, read a buffer at a time. */
  *lines(kind: string, bucket: number): Generator<string> {
    const file = this.files.get(`${kind}-${bucket}`);
    if (file === undefined) return;
    this.flushFile(file);
    const chunk = Buffer.alloc(this.bufferBytes);
    let position = 0;
    let rest = '';
    for (;;) {
      const read = readSync(file.fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      // A chunk can end inside a multi-byte character: keep incomplete bytes for the next.
      let end = read;
      while (end > 0 && ((chunk[end - 1] as number) & 0xc0) === 0x80) end -= 1;
      if (end > 0 && ((chunk[end - 1] as number) & 0x80) !== 0) end -= 1;
      if (end === 0) end = read;
      position -= read - end;
      const text = rest + chunk.toString('utf8', 0, end);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      yield* lines;
    }
    if (rest.length > 0) yield rest;
  }

  /** Removes every spill file. */
  close(): void {
    for (const file of this.files.values()) closeSync(file.fd);
    this.files.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
