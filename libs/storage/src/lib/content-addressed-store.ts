import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open as openFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { AttachmentInvalidError, AttachmentStorageError } from '@grantstream/errors';
import type { AttachmentStore, OpenOptions } from './attachment-store';
import { FileAttachmentStore } from './file-attachment-store';

/** Bytes kept in a {@link ContentAddressedFileStore}: where, and what they hash to. */
export interface StoredBytes {
  /** `file:` URI of the stored bytes; {@link ContentAddressedFileStore.open} reads it back. */
  uri: string;
  /** Lowercase hex SHA-256 of the bytes. */
  sha256: string;
  size: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A directory of immutable byte objects, each named by its SHA-256: the
 * claim-check store for bytes too large to travel in Kafka (a dead letter's
 * value). Writing the same bytes twice (a chunk redone after a crash) yields
 * the same file, so a redo leaves no duplicate. Reads go through a
 * {@link FileAttachmentStore} confined to the directory, so a reference
 * taken from a topic cannot lead outside it.
 */
export class ContentAddressedFileStore implements AttachmentStore {
  /** Only `file:`. */
  readonly schemes: readonly string[] = ['file:'];
  private readonly root: string;
  private readonly reader: FileAttachmentStore;

  /** Creates the directory when missing; a directory that cannot be made fails here, at startup. */
  constructor(dir: string) {
    this.root = path.resolve(dir);
    mkdirSync(this.root, { recursive: true });
    this.reader = new FileAttachmentStore({ roots: [this.root] });
  }

  /** Where the object of a hash lives: two-character fan-out keeps directories small. */
  private pathOf(sha256: string): string {
    return path.join(this.root, sha256.slice(0, 2), `${sha256}.bin`);
  }

  /**
   * Stores `bytes` (once: an existing object of the same hash is kept) and
   * returns its reference. The file appears whole or not at all (written
   * aside, then renamed). Rejects with AttachmentStorageError when the
   * directory cannot be written.
   */
  async put(bytes: Buffer): Promise<StoredBytes> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const target = this.pathOf(sha256);
    const stored = { uri: pathToFileURL(target).href, sha256, size: bytes.length };
    try {
      const existing = await stat(target).catch(() => null);
      if (existing?.isFile() && existing.size === bytes.length) return stored;
      await mkdir(path.dirname(target), { recursive: true });
      const aside = `${target}.${randomUUID()}.tmp`;
      try {
        await writeFile(aside, bytes, { flag: 'wx' });
        await rename(aside, target);
      } finally {
        await unlink(aside).catch(() => undefined);
      }
      return stored;
    } catch (err) {
      throw new AttachmentStorageError(
        `storing ${bytes.length} bytes in ${this.root} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  /**
   * Stores bytes that are never whole in memory: `fill` writes them piece by
   * piece; they are hashed as they go and the file is named by the hash once
   * complete. Same guarantees as {@link put}.
   */
  async putStreamed(
    fill: (write: (piece: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<StoredBytes> {
    try {
      await mkdir(this.root, { recursive: true });
      const aside = path.join(this.root, `${randomUUID()}.tmp`);
      const hash = createHash('sha256');
      let size = 0;
      const file = await openFile(aside, 'wx');
      try {
        await fill(async (piece) => {
          hash.update(piece);
          size += piece.length;
          await file.write(piece);
        });
        await file.close();
        const sha256 = hash.digest('hex');
        const target = this.pathOf(sha256);
        await mkdir(path.dirname(target), { recursive: true });
        await rename(aside, target);
        return { uri: pathToFileURL(target).href, sha256, size };
      } finally {
        await file.close().catch(() => undefined);
        await unlink(aside).catch(() => undefined);
      }
    } catch (err) {
      throw new AttachmentStorageError(
        `streaming bytes into ${this.root} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  /** Opens a stored object by its URI, confined to the store's directory. */
  open(uri: string, options: OpenOptions = {}): Promise<Readable> {
    return this.reader.open(uri, options);
  }

  /**
   * Reads a stored object whole and checks it against the SHA-256 its
   * reference names: what `grantctl dlq show` and redrive need before they
   * decode or resend it. Rejects with AttachmentInvalidError
   * ATTACHMENT_CHECKSUM_MISMATCH when the bytes differ from the hash.
   */
  async readVerified(uri: string, sha256: string): Promise<Buffer> {
    if (!SHA256_HEX.test(sha256)) {
      throw new AttachmentInvalidError([
        { code: 'ATTACHMENT_CHECKSUM_INVALID', message: 'not a hex SHA-256', field: 'sha256' },
      ]);
    }
    const stream = await this.open(uri);
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      chunks.push(chunk);
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      throw new AttachmentInvalidError([
        {
          code: 'ATTACHMENT_CHECKSUM_MISMATCH',
          message: `${uri} hashes to ${actual}, its reference says ${sha256}`,
          field: 'sha256',
        },
      ]);
    }
    return Buffer.concat(chunks);
  }
}
