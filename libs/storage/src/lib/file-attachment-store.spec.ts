import { promises as fsp, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { AttachmentInvalidError, AttachmentStorageError, ConfigError } from '@grantstream/errors';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AttachmentStores, type AttachmentStore } from './attachment-store';
import {
  FILE_READ_CHUNK_BYTES,
  FileAttachmentStore,
  NODE_FILE_OPS,
  type FileOps,
} from './file-attachment-store';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(AttachmentInvalidError);
  const problems = (err as AttachmentInvalidError).problems;
  expect(problems).toHaveLength(1);
  expect(problems[0]?.field).toBe('uri');
  return problems[0]?.code ?? '';
}

describe('FileAttachmentStore', () => {
  let base: string;
  let root: string;
  let store: FileAttachmentStore;
  const ops: FileOps = { ...NODE_FILE_OPS };
  const uriOf = (p: string): string => `file://${p}`;

  beforeAll(async () => {
    base = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'file-store-')));
    root = path.join(base, 'root');
    await fsp.mkdir(path.join(root, 'sub'), { recursive: true });
    await fsp.mkdir(path.join(base, 'outside'));
    await fsp.mkdir(path.join(base, 'rootX'));
    await fsp.writeFile(path.join(root, 'narrative.pdf'), '%PDF-1.7 narrative');
    await fsp.writeFile(path.join(root, 'sub', 'budget.pdf'), '%PDF-1.7 budget');
    await fsp.writeFile(path.join(root, 'a b.pdf'), '%PDF-1.7 spaced');
    await fsp.writeFile(path.join(base, 'outside', 'secret.txt'), 'secret');
    await fsp.writeFile(path.join(base, 'rootX', 'a.pdf'), 'not yours');
    await fsp.symlink(path.join(base, 'outside', 'secret.txt'), path.join(root, 'escape.pdf'));
    await fsp.symlink(path.join(base, 'outside'), path.join(root, 'escape-dir'));
    await fsp.symlink(path.join(root, 'sub', 'budget.pdf'), path.join(root, 'alias.pdf'));
    await fsp.symlink(path.join(root, 'loop-b'), path.join(root, 'loop-a'));
    await fsp.symlink(path.join(root, 'loop-a'), path.join(root, 'loop-b'));
    await fsp.symlink(root, path.join(base, 'root-link'));
    store = new FileAttachmentStore({ roots: [root], fileOps: ops });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await fsp.rm(base, { recursive: true, force: true });
  });

  it('reads a file inside the root in 64 KiB chunks', async () => {
    const stream = await store.open(pathToFileURL(path.join(root, 'narrative.pdf')).href);
    expect(stream.readableHighWaterMark).toBe(FILE_READ_CHUNK_BYTES);
    expect(await readAll(stream)).toBe('%PDF-1.7 narrative');
  });

  it.each<[string, (root: string) => string, string]>([
    ['a nested file', (r) => `file://${r}/sub/budget.pdf`, '%PDF-1.7 budget'],
    ['a localhost URI', (r) => `file://localhost${r}/narrative.pdf`, '%PDF-1.7 narrative'],
    ['a percent-encoded space', (r) => `file://${r}/a%20b.pdf`, '%PDF-1.7 spaced'],
    ['a symbolic link inside the root', (r) => `file://${r}/alias.pdf`, '%PDF-1.7 budget'],
  ])('opens %s', async (_what, uri, content) => {
    expect(await readAll(await store.open(uri(root)))).toBe(content);
  });

  it.each<[string, (root: string, base: string) => string, string]>([
    ['a .. segment', (r) => `file://${r}/../outside/secret.txt`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['a trailing .. segment', (r) => `file://${r}/sub/..`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['a backslash .. segment', (r) => `file://${r}/sub\\..\\..\\x`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['%2e%2e/', (r) => `file://${r}/%2e%2e/outside/secret.txt`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['%2E%2E%2F', (r) => `file://${r}/%2E%2E%2Foutside/secret.txt`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['.%2e/', (r) => `file://${r}/.%2e/outside/secret.txt`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['double-encoded dots', (r) => `file://${r}/%252e%252e/outside`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['an encoded backslash', (r) => `file://${r}/sub%5cbudget.pdf`, 'ATTACHMENT_PATH_TRAVERSAL'],
    ['an encoded NUL', (r) => `file://${r}/narrative.pdf%00.txt`, 'ATTACHMENT_PATH_TRAVERSAL'],
    [
      'an absolute path outside',
      (_r, b) => `file://${b}/outside/secret.txt`,
      'ATTACHMENT_PATH_OUTSIDE_ROOT',
    ],
    ['the root-prefix trick', (_r, b) => `file://${b}/rootX/a.pdf`, 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['/etc/passwd', () => 'file:///etc/passwd', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['a host', (r) => `file://files.example.org${r}/narrative.pdf`, 'ATTACHMENT_URI_INVALID'],
    ['an http URI', () => 'https://example.org/narrative.pdf', 'ATTACHMENT_URI_INVALID'],
    ['a relative reference', () => 'narrative.pdf', 'ATTACHMENT_URI_INVALID'],
    ['a query', (r) => `file://${r}/narrative.pdf?v=2`, 'ATTACHMENT_URI_INVALID'],
  ])('refuses %s before opening anything', async (_what, uri, code) => {
    const open = vi.spyOn(ops, 'open');
    const realpath = vi.spyOn(ops, 'realpath');
    expect(await codeOf(store.open(uri(root, base)))).toBe(code);
    expect(open).not.toHaveBeenCalled();
    expect(realpath).not.toHaveBeenCalled();
  });

  it.each<[string, string, string]>([
    ['a symbolic link out of the root', 'escape.pdf', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['a path through a linked directory', 'escape-dir/secret.txt', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['a symbolic link loop', 'loop-a', 'ATTACHMENT_PATH_OUTSIDE_ROOT'],
    ['a missing file', 'missing.pdf', 'ATTACHMENT_NOT_FOUND'],
    ['a path through a file', 'narrative.pdf/x', 'ATTACHMENT_NOT_FOUND'],
    ['a directory', 'sub', 'ATTACHMENT_NOT_A_FILE'],
  ])('refuses %s without opening it', async (_what, relative, code) => {
    const open = vi.spyOn(ops, 'open');
    expect(await codeOf(store.open(uriOf(path.join(root, relative))))).toBe(code);
    expect(open).not.toHaveBeenCalled();
  });

  it('reads a byte range, confined and checked like a whole file', async () => {
    const uri = uriOf(path.join(root, 'narrative.pdf'));
    expect(await readAll(await store.openRange(uri, { start: 9, length: 9 }))).toBe('narrative');
    expect(await readAll(await store.openRange(uri, { start: 14, length: 100 }))).toBe('tive');
    expect(
      await codeOf(
        store.openRange(`file://${root}/../outside/secret.txt`, { start: 0, length: 4 }),
      ),
    ).toBe('ATTACHMENT_PATH_TRAVERSAL');
    expect(
      await codeOf(store.openRange(uriOf(path.join(root, 'escape.pdf')), { start: 0, length: 4 })),
    ).toBe('ATTACHMENT_PATH_OUTSIDE_ROOT');
    await expect(store.openRange(uri, { start: -1, length: 4 })).rejects.toThrow(RangeError);
    await expect(store.openRange(uri, { start: 0, length: 0 })).rejects.toThrow(RangeError);
    const stores = new AttachmentStores([store]);
    expect((await stores.readRange(uri, { start: 0, length: 8 })).toString()).toBe('%PDF-1.7');
  });

  it('serves a root configured through a symbolic link under either path', async () => {
    const linked = new FileAttachmentStore({ roots: [path.join(base, 'root-link')] });
    expect(
      await readAll(await linked.open(uriOf(path.join(base, 'root-link', 'narrative.pdf')))),
    ).toBe('%PDF-1.7 narrative');
    expect(await readAll(await linked.open(uriOf(path.join(root, 'narrative.pdf'))))).toBe(
      '%PDF-1.7 narrative',
    );
  });

  it('refuses a file swapped for a symbolic link between the check and the open', async () => {
    const victim = path.join(root, 'swap-link.pdf');
    await fsp.writeFile(victim, '%PDF-1.7');
    vi.spyOn(ops, 'open').mockImplementationOnce((file, flags) => {
      rmSync(victim);
      symlinkSync(path.join(base, 'outside', 'secret.txt'), victim);
      return NODE_FILE_OPS.open(file, flags);
    });
    expect(await codeOf(store.open(uriOf(victim)))).toBe('ATTACHMENT_PATH_OUTSIDE_ROOT');
  });

  it('refuses a file replaced by another file between the check and the open', async () => {
    const victim = path.join(root, 'swap-file.pdf');
    await fsp.writeFile(victim, '%PDF-1.7 original');
    vi.spyOn(ops, 'open').mockImplementationOnce((file, flags) => {
      // Written aside and renamed over, so the replacement cannot reuse the inode.
      writeFileSync(`${victim}.new`, 'MZ replacement');
      renameSync(`${victim}.new`, victim);
      return NODE_FILE_OPS.open(file, flags);
    });
    const err = await rejection(store.open(uriOf(victim)));
    expect(err).toBeInstanceOf(AttachmentInvalidError);
    expect((err as AttachmentInvalidError).message).toMatch(/replaced/);
  });

  it.each<[string, string, typeof AttachmentInvalidError | typeof AttachmentStorageError]>([
    ['EACCES', 'ATTACHMENT_NOT_READABLE', AttachmentInvalidError],
    ['EPERM', 'ATTACHMENT_NOT_READABLE', AttachmentInvalidError],
    ['EIO', 'ATTACHMENT_STORAGE_UNAVAILABLE', AttachmentStorageError],
    ['EMFILE', 'ATTACHMENT_STORAGE_UNAVAILABLE', AttachmentStorageError],
  ])('classifies %s as %s', async (errno, code, kind) => {
    vi.spyOn(ops, 'realpath').mockImplementationOnce(() => {
      throw Object.assign(new Error(`${errno}: simulated`), { code: errno });
    });
    const err = await rejection(store.open(uriOf(path.join(root, 'narrative.pdf'))));
    expect(err).toBeInstanceOf(kind);
    expect((err as AttachmentInvalidError | AttachmentStorageError).code).toBe(code);
  });

  it('marks storage failures retriable and bad references permanent', async () => {
    vi.spyOn(ops, 'realpath').mockImplementationOnce(() => {
      throw Object.assign(new Error('x'), { code: 'EIO' });
    });
    const transient = await rejection(store.open(uriOf(path.join(root, 'narrative.pdf'))));
    const permanent = await rejection(store.open(uriOf(path.join(root, 'missing.pdf'))));
    expect((transient as AttachmentStorageError).retriable).toBe(true);
    expect((permanent as AttachmentInvalidError).retriable).toBe(false);
  });

  it('does not open anything once aborted', async () => {
    const open = vi.spyOn(ops, 'open');
    await expect(
      store.open(uriOf(path.join(root, 'narrative.pdf')), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(open).not.toHaveBeenCalled();
  });

  it('destroys an opened stream when the signal aborts', async () => {
    const controller = new AbortController();
    const stream = await store.open(uriOf(path.join(root, 'narrative.pdf')), {
      signal: controller.signal,
    });
    controller.abort();
    expect(stream.destroyed).toBe(true);
  });

  it('refuses missing, non-directory and absent roots at construction, all at once', () => {
    const err = (() => {
      try {
        new FileAttachmentStore({
          roots: [path.join(base, 'nope'), path.join(root, 'narrative.pdf')],
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toHaveLength(2);
    expect(() => new FileAttachmentStore({ roots: [] })).toThrow(ConfigError);
  });

  describe('with small files read whole', () => {
    const LIMIT = 64;
    let whole: FileAttachmentStore;
    const chunksOf = async (stream: Readable): Promise<Buffer[]> => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return chunks;
    };

    beforeAll(() => {
      whole = new FileAttachmentStore({ roots: [root], fileOps: ops, wholeReadMaxBytes: LIMIT });
    });

    it('reads a file up to the limit with one read, after the fd is checked, and closes it', async () => {
      const read = vi.spyOn(ops, 'read');
      const fstat = vi.spyOn(ops, 'fstat');
      const close = vi.spyOn(ops, 'close');
      const chunks = await chunksOf(await whole.open(uriOf(path.join(root, 'narrative.pdf'))));
      expect(chunks.map(String)).toEqual(['%PDF-1.7 narrative']);
      // One read of the bytes and one that finds the end inside the buffer's spare byte.
      expect(read.mock.calls.length).toBeLessThanOrEqual(2);
      expect(fstat).toHaveBeenCalledTimes(1);
      expect(close).toHaveBeenCalledTimes(1);
    });

    it('streams a file above the limit as before', async () => {
      const big = path.join(root, 'big.bin');
      await fsp.writeFile(big, Buffer.alloc(LIMIT + 1, 0x41));
      const read = vi.spyOn(ops, 'read');
      const stream = await whole.open(uriOf(big));
      expect(stream.readableHighWaterMark).toBe(FILE_READ_CHUNK_BYTES);
      expect(Buffer.concat(await chunksOf(stream)).length).toBe(LIMIT + 1);
      expect(read).not.toHaveBeenCalled();
    });

    it('streams a file that grew after fstat, so no byte is lost', async () => {
      const growing = path.join(root, 'growing.pdf');
      await fsp.writeFile(growing, '%PDF-1.7 short');
      vi.spyOn(ops, 'fstat').mockImplementationOnce((fd) => {
        const stats = NODE_FILE_OPS.fstat(fd);
        writeFileSync(growing, '%PDF-1.7 short, then longer');
        return stats;
      });
      expect(await readAll(await whole.open(uriOf(growing)))).toBe('%PDF-1.7 short, then longer');
    });

    it('still refuses a file replaced between the check and the open', async () => {
      const victim = path.join(root, 'swap-whole.pdf');
      await fsp.writeFile(victim, '%PDF-1.7 original');
      const read = vi.spyOn(ops, 'read');
      vi.spyOn(ops, 'open').mockImplementationOnce((file, flags) => {
        writeFileSync(`${victim}.new`, 'MZ replacement');
        renameSync(`${victim}.new`, victim);
        return NODE_FILE_OPS.open(file, flags);
      });
      const err = await rejection(whole.open(uriOf(victim)));
      expect(err).toBeInstanceOf(AttachmentInvalidError);
      expect((err as AttachmentInvalidError).message).toMatch(/replaced/);
      expect(read).not.toHaveBeenCalled();
    });

    it('still refuses a symbolic link out of the root', async () => {
      expect(await codeOf(whole.open(uriOf(path.join(root, 'escape.pdf'))))).toBe(
        'ATTACHMENT_PATH_OUTSIDE_ROOT',
      );
    });

    it('classifies a failing read like any file-system call', async () => {
      vi.spyOn(ops, 'read').mockImplementationOnce(() => {
        throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      });
      const close = vi.spyOn(ops, 'close');
      const err = await rejection(whole.open(uriOf(path.join(root, 'narrative.pdf'))));
      expect(err).toBeInstanceOf(AttachmentStorageError);
      expect(close).toHaveBeenCalledTimes(1);
    });

    it('refuses a limit that is not a byte count', () => {
      expect(() => new FileAttachmentStore({ roots: [root], wholeReadMaxBytes: -1 })).toThrow(
        ConfigError,
      );
    });
  });
});

describe('AttachmentStores', () => {
  const fake = (scheme: string, body: string): AttachmentStore => ({
    schemes: [scheme],
    open: () => import('node:stream').then(({ Readable }) => Readable.from([Buffer.from(body)])),
  });

  it('dispatches by URI scheme', async () => {
    const stores = new AttachmentStores([fake('file:', 'from file'), fake('s3:', 'from s3')]);
    expect(await readAll(await stores.open('s3://bucket/key.pdf'))).toBe('from s3');
    expect(await readAll(await stores.open('file:///data/a.pdf'))).toBe('from file');
    expect(stores.schemes).toEqual(['file:', 's3:']);
  });

  it.each([
    ['gs://bucket/key.pdf', 'ATTACHMENT_SCHEME_UNSUPPORTED'],
    ['not a uri', 'ATTACHMENT_URI_INVALID'],
  ])('refuses %s with %s', async (uri, code) => {
    const stores = new AttachmentStores([fake('file:', '')]);
    expect(await codeOf(stores.open(uri))).toBe(code);
  });

  it('reads a range from a store without range reads by skipping through the whole file', async () => {
    const plain: AttachmentStore = {
      schemes: ['mem:'],
      open: () => Promise.resolve(Readable.from([Buffer.from('0123'), Buffer.from('456789')])),
    };
    const stores = new AttachmentStores([plain]);
    expect((await stores.readRange('mem:x', { start: 2, length: 5 })).toString()).toBe('23456');
    expect((await stores.readRange('mem:x', { start: 8, length: 5 })).toString()).toBe('89');
  });

  it('refuses two stores for one scheme', () => {
    expect(() => new AttachmentStores([fake('file:', ''), fake('FILE:', '')])).toThrow(ConfigError);
  });
});
