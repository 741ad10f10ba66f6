import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrailIndex, matchesFilter, type AuditFilter } from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';

/**
 * Puts a replay in chain order without holding the events: matching events'
 * formatted lines go to a temporary file as they are read (any partition
 * order), and a {@link TrailIndex} keeps only each event's links (ids,
 * hashes, time, as bytes) and its line's place in the file. Every event of a
 * trail is noted, matching or not, because a filtered event's place depends
 * on the events around it; grant-level filters (grant, trail, funder) drop
 * the rest early.
 */
export class ReplaySpool {
  private readonly dir = mkdtempSync(join(tmpdir(), 'grantctl-replay-'));
  private readonly fd = openSync(join(this.dir, 'lines'), 'w+');
  private readonly index = new TrailIndex();
  private size = 0;

  constructor(private readonly filter: AuditFilter) {}

  add(event: AuditEventV1, format: (e: AuditEventV1) => string): void {
    const f = this.filter;
    if (f.grantId !== undefined && event.grant_id !== f.grantId) return;
    if (f.trailId !== undefined && event.audit_trail_id !== f.trailId) return;
    if (f.funderId !== undefined && event.funder_id !== f.funderId) return;
    let at = -1;
    let length = 0;
    if (matchesFilter(event, f)) {
      const line = `${format(event)}\n`;
      at = this.size;
      length = writeSync(this.fd, line, at, 'utf8');
      this.size += length;
    }
    this.index.add(event, { at, length });
  }

  /** Distinct trails noted (after grant-level filters). */
  trails(): number {
    return this.index.trailCount;
  }

  /** The matching lines, trail by trail in chain order (see orderTrails). */
  *inChainOrder(): Generator<string> {
    // One buffer for every line: a fresh one per line is memory the collector chases.
    let buffer = Buffer.alloc(0);
    for (const { at, length } of this.index.ordered()) {
      if (at < 0) continue;
      if (buffer.length < length) buffer = Buffer.alloc(Math.max(length, buffer.length * 2));
      readSync(this.fd, buffer, 0, length, at);
      yield buffer.toString('utf8', 0, length);
    }
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
