import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_READ_CHUNK_BYTES } from './file-attachment-store';
import { inspectAttachment } from './inspect-attachment';
import { MEDIA_TYPES } from './sniff-media-type';

const SNIFF = 64 * 1024;

/** An endless stream of `chunk`-byte chunks that counts what it produced. */
function endless(chunk: number): Readable & { produced: number } {
  const stream = new Readable({
    highWaterMark: chunk,
    read() {
      counter.produced += chunk;
      this.push(Buffer.alloc(chunk, 0x61));
    },
  });
  const counter = Object.assign(stream, { produced: 0 });
  return counter;
}

describe('inspectAttachment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(tmpdir(), 'inspect-'));
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('hashes, counts and sniffs content that arrives in pieces', async () => {
    const content = Buffer.from('%PDF-1.7\nbody of the narrative\n%%EOF\n');
    const pieces = [content.subarray(0, 2), content.subarray(2, 7), content.subarray(7)];
    const result = await inspectAttachment(Readable.from(pieces), {
      maxBytes: 1024,
      sniffBytes: SNIFF,
    });
    expect(result).toEqual({
      sha256: createHash('sha256').update(content).digest('hex'),
      size_bytes: content.length,
      media_type: MEDIA_TYPES.pdf,
      exceeded_limit: false,
    });
  });

  it('gives the well-known SHA-256 of "abc"', async () => {
    const result = await inspectAttachment(Readable.from([Buffer.from('abc')]), {
      maxBytes: 3,
      sniffBytes: 2,
    });
    expect(result.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(result.exceeded_limit).toBe(false);
    expect(result.media_type).toBe(MEDIA_TYPES.text);
  });

  it('measures an empty attachment', async () => {
    const result = await inspectAttachment(Readable.from([]), { maxBytes: 0, sniffBytes: SNIFF });
    expect(result).toEqual({
      sha256: createHash('sha256').digest('hex'),
      size_bytes: 0,
      media_type: MEDIA_TYPES.unknown,
      exceeded_limit: false,
    });
  });

  it('stops reading a file soon after it passes maxBytes', async () => {
    const file = path.join(dir, 'huge.pdf');
    await fsp.writeFile(file, '%PDF-1.7\n');
    await fsp.truncate(file, 1024 ** 3);
    const maxBytes = 100_000;
    const stream = createReadStream(file, { highWaterMark: FILE_READ_CHUNK_BYTES });
    const result = await inspectAttachment(stream, { maxBytes, sniffBytes: SNIFF });
    expect(result.exceeded_limit).toBe(true);
    expect(result.size_bytes).toBeGreaterThan(maxBytes);
    expect(result.media_type).toBe(MEDIA_TYPES.pdf);
    expect(stream.destroyed).toBe(true);
    expect(stream.bytesRead).toBeLessThanOrEqual(maxBytes + FILE_READ_CHUNK_BYTES);
  });

  it('stops pulling from an endless stream, bounded by one chunk plus its read-ahead', async () => {
    const chunk = 16 * 1024;
    const stream = endless(chunk);
    const maxBytes = 10 * chunk;
    const result = await inspectAttachment(stream, { maxBytes, sniffBytes: 1024 });
    expect(result).toMatchObject({ exceeded_limit: true, size_bytes: maxBytes + chunk });
    expect(stream.destroyed).toBe(true);
    expect(stream.produced).toBeLessThanOrEqual(maxBytes + 2 * chunk);
  });

  it('accepts content of exactly maxBytes', async () => {
    const result = await inspectAttachment(Readable.from([Buffer.alloc(10)]), {
      maxBytes: 10,
      sniffBytes: 4,
    });
    expect(result).toMatchObject({ exceeded_limit: false, size_bytes: 10 });
  });

  it('rejects with an AbortError and destroys the stream when aborted mid-read', async () => {
    const stream = endless(1024);
    const controller = new AbortController();
    stream.once('data', () => controller.abort());
    await expect(
      inspectAttachment(stream, {
        maxBytes: Number.MAX_SAFE_INTEGER,
        sniffBytes: 16,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(stream.destroyed).toBe(true);
  });

  it('rejects at once with a signal already aborted', async () => {
    const stream = endless(1024);
    await expect(
      inspectAttachment(stream, { maxBytes: 10, sniffBytes: 16, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(stream.produced).toBe(0);
  });

  it('passes a stream error through', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
      },
    });
    await expect(
      inspectAttachment(failing, { maxBytes: 10, sniffBytes: 16 }),
    ).rejects.toMatchObject({ code: 'EIO' });
  });

  it.each([
    { maxBytes: -1, sniffBytes: 16 },
    { maxBytes: 1.5, sniffBytes: 16 },
    { maxBytes: 10, sniffBytes: 0 },
  ])('refuses options %j', async (options) => {
    await expect(inspectAttachment(Readable.from([]), options)).rejects.toThrow(RangeError);
  });
});
