import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AttachmentInvalidError } from '@grantstream/errors';
import { ContentAddressedFileStore } from './content-addressed-store';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ContentAddressedFileStore', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'cas-')), 'dead-letters');
  const store = new ContentAddressedFileStore(dir);

  it('stores bytes under their hash and reads them back verified', async () => {
    const bytes = Buffer.from('a value too large for the broker');
    const stored = await store.put(bytes);
    expect(stored.sha256).toBe(sha(bytes));
    expect(stored.size).toBe(bytes.length);
    expect(fileURLToPath(stored.uri).startsWith(dir)).toBe(true);
    expect((await store.readVerified(stored.uri, stored.sha256)).equals(bytes)).toBe(true);
  });

  it('gives the same reference for the same bytes (a redone chunk)', async () => {
    const bytes = Buffer.alloc(1000, 3);
    const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
    expect(a).toEqual(b);
  });

  it('refuses bytes that no longer match their hash', async () => {
    const stored = await store.put(Buffer.from('original'));
    writeFileSync(fileURLToPath(stored.uri), 'tampered');
    await expect(store.readVerified(stored.uri, stored.sha256)).rejects.toBeInstanceOf(
      AttachmentInvalidError,
    );
  });

  it('refuses a reference outside its directory', async () => {
    await expect(store.readVerified('file:///etc/passwd', sha(Buffer.from('x')))).rejects.toThrow(
      /outside/,
    );
  });
});
