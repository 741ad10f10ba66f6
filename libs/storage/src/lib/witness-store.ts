import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InputTooLargeError, WitnessConflictError } from '@grantstream/errors';

/** Outcome of {@link WitnessStore.put}: newly written, or the same content was already there. */
export type WitnessPut = 'written' | 'present';

/** One object read back from a witness store. */
export interface WitnessObject {
  readonly name: string;
  readonly content: string;
}

/** Bounds on reading a witness store, whose content is untrusted. */
export interface WitnessReadLimits {
  /** Largest object read; a larger one is refused rather than loaded. */
  readonly maxObjectBytes: number;
  /** Most objects listed. */
  readonly maxObjects: number;
}

/**
 * Write-once storage of signed checkpoints outside Kafka, under credentials a
 * broker admin does not hold: a checkpoint once witnessed cannot be withdrawn
 * by rewriting topics. The local implementation is a directory
 * ({@link DirectoryWitnessStore}); an object store with an object lock
 * (compliance mode) implements the same two calls in production.
 */
export interface WitnessStore {
  /**
   * Stores `content` under `name` unless the name exists. Writing the same
   * content again is a no-op (`present`), so a crash between publishing a
   * checkpoint and witnessing it is repaired by writing it again; other
   * content under the name throws {@link WitnessConflictError}.
   */
  put(name: string, content: string): Promise<WitnessPut>;
  /** Every object, names in lexical order, each bounded by the limits. */
  list(limits: WitnessReadLimits): AsyncGenerator<WitnessObject>;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/**
 * A directory as a write-once witness store. A new object is written to a
 * temporary file, flushed, made read-only and then hard-linked to its name:
 * `link` fails when the name exists, so an object is never overwritten and
 * never seen half-written, whatever runs concurrently.
 */
export class DirectoryWitnessStore implements WitnessStore {
  constructor(private readonly dir: string) {}

  async put(name: string, content: string): Promise<WitnessPut> {
    if (!SAFE_NAME.test(name))
      throw new WitnessConflictError(
        `witness name ${JSON.stringify(name)} is not a plain file name`,
      );
    await mkdir(this.dir, { recursive: true });
    const target = join(this.dir, name);
    const temp = join(this.dir, `.tmp-${randomUUID()}`);
    const handle = await open(
      temp,
      constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
      0o444,
    );
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, target);
      return 'written';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = await readFile(target, 'utf8');
      if (existing === content) return 'present';
      throw new WitnessConflictError(`witness ${name} already holds other content`, {
        metadata: { name },
      });
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async *list(limits: WitnessReadLimits): AsyncGenerator<WitnessObject> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => SAFE_NAME.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (names.length > limits.maxObjects) {
      throw new InputTooLargeError(
        `witness store holds ${names.length} objects, at most ${limits.maxObjects} are read`,
      );
    }
    for (const name of names) {
      const path = join(this.dir, name);
      const info = await stat(path);
      if (!info.isFile()) continue;
      if (info.size > limits.maxObjectBytes) {
        throw new InputTooLargeError(
          `witness ${name} holds ${info.size} bytes, at most ${limits.maxObjectBytes}`,
        );
      }
      yield { name, content: await readFile(path, 'utf8') };
    }
  }
}
