import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputTooLargeError, WitnessConflictError } from '@grantstream/errors';
import { DirectoryWitnessStore, type WitnessObject } from './witness-store';

const limits = { maxObjectBytes: 1024, maxObjects: 10 };
const all = async (store: DirectoryWitnessStore, l = limits) => {
  const out: WitnessObject[] = [];
  for await (const o of store.list(l)) out.push(o);
  return out;
};

describe('DirectoryWitnessStore', () => {
  const store = () => new DirectoryWitnessStore(join(mkdtempSync(join(tmpdir(), 'witness-')), 'w'));

  it('writes once, accepts the same content again and refuses other content', async () => {
    const s = store();
    expect(await s.put('checkpoint-1.note', 'a\n')).toBe('written');
    expect(await s.put('checkpoint-1.note', 'a\n')).toBe('present');
    await expect(s.put('checkpoint-1.note', 'b\n')).rejects.toBeInstanceOf(WitnessConflictError);
    expect(await all(s)).toEqual([{ name: 'checkpoint-1.note', content: 'a\n' }]);
  });

  it('leaves objects read-only and no temporary file behind', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'witness-')), 'w');
    const s = new DirectoryWitnessStore(dir);
    await s.put('x.note', 'x');
    expect(readdirSync(dir)).toEqual(['x.note']);
    expect(statSync(join(dir, 'x.note')).mode & 0o222).toBe(0);
  });

  it('refuses names that are not plain file names', async () => {
    await expect(store().put('../escape', 'x')).rejects.toBeInstanceOf(WitnessConflictError);
  });

  it('bounds what it reads', async () => {
    const s = store();
    await s.put('a.note', 'x'.repeat(20));
    await s.put('b.note', 'y');
    await expect(all(s, { maxObjectBytes: 10, maxObjects: 10 })).rejects.toBeInstanceOf(
      InputTooLargeError,
    );
    await expect(all(s, { maxObjectBytes: 100, maxObjects: 1 })).rejects.toBeInstanceOf(
      InputTooLargeError,
    );
  });

  it('lists nothing for a store never written', async () => {
    expect(await all(store())).toEqual([]);
  });
});
