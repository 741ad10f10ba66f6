import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageSpool, type SpooledMessage } from './submit-spool';

describe('MessageSpool', () => {
  let parent: string;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'grantctl-spool-spec-'));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  const message = (n: number): SpooledMessage => ({
    fileIndex: n % 3,
    line: 1000 + n,
    key: `NSF-2026-${n}-é🌱`,
    // Empty, small and larger values, bytes of every kind.
    value: Buffer.from(Array.from({ length: (n * 97) % 700 }, (_, i) => (i * 31 + n) % 256)),
  });

  it('gives back every record, in order, blockSize at a time', async () => {
    const spool = await MessageSpool.create(parent, 3);
    const written = Array.from({ length: 8 }, (_, i) => message(i));
    for (const m of written) await spool.append(m);
    expect(spool.size).toBe(8);

    const blocks: SpooledMessage[][] = [];
    for await (const block of spool.blocks()) blocks.push(block);
    expect(blocks.map((b) => b.length)).toEqual([3, 3, 2]);
    expect(blocks.flat()).toEqual(written);
    await spool.dispose();
  });

  it('has no block when nothing was appended', async () => {
    const spool = await MessageSpool.create(parent, 2);
    const blocks: SpooledMessage[][] = [];
    for await (const block of spool.blocks()) blocks.push(block);
    expect(blocks).toEqual([]);
    await spool.dispose();
  });

  it('removes its directory on dispose, even twice', async () => {
    const spool = await MessageSpool.create(parent, 2);
    await spool.append(message(1));
    expect(await readdir(parent)).toHaveLength(1);
    await spool.dispose();
    await spool.dispose();
    expect(await readdir(parent)).toEqual([]);
  });
});
