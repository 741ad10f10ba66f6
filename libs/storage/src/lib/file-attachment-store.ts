import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  AttachmentInvalidError,
  AttachmentStorageError,
  ConfigError,
  type InputProblem,
} from '@grantstream/errors';
import type { AttachmentStore, ByteRange, OpenOptions } from './attachment-store';

/** Options of {@link FileAttachmentStore}. */
export interface FileAttachmentStoreOptions {
  /** Directories attachments may live in; every file:// URI must resolve inside one of them. */
  roots: readonly string[];
  /** The file-system calls used to check and open a file; tests interpose on them. */
  fileOps?: FileOps;
  /**
   * Files of at most this many bytes (by fstat of the opened file) are read
   * whole with one read into a buffer and served as a single chunk, instead
   * of streamed: for small files the stream's thread-pool reads and close
   * cost more than the bytes. 0 or absent: every file is streamed.
   */
  wholeReadMaxBytes?: number;
}

/** The synchronous file-system calls {@link FileAttachmentStore} checks and opens a file with. */
export interface FileOps {
  realpath(path: string): string;
  stat(path: string): Stats;
  open(path: string, flags: number): number;
  fstat(fd: number): Stats;
  /** Reads into `buffer` from file offset `position`; returns the bytes read (0 at the end). */
  read(fd: number, buffer: Buffer, position: number): number;
  close(fd: number): void;
}

/** Node's own calls. */
export const NODE_FILE_OPS: FileOps = {
  realpath: (p) => realpathSync.native(p),
  stat: (p) => statSync(p),
  open: (p, flags) => openSync(p, flags),
  fstat: (fd) => fstatSync(fd),
  read: (fd, buffer, position) => readSync(fd, buffer, 0, buffer.length, position),
  close: (fd) => closeSync(fd),
};

/** Chunk size of the read streams; inspection memory is bounded by it. */
export const FILE_READ_CHUNK_BYTES = 64 * 1024;

interface Root {
  /** The root as configured, made absolute: URIs name files under this path. */
  readonly lexical: string;
  /** The root with its symbolic links resolved: files must really live under this path. */
  readonly real: string;
}

// A `..` segment between separators (either kind) or at either end of the path.
const DOT_DOT_SEGMENT = /(^|[/\\])\.\.([/\\]|$)/;
// Percent-encoded dot, slash, backslash or NUL, also encoded again (%252e, %25252e ...).
const ENCODED_TRAVERSAL = /%(?:25)*(?:2e|2f|5c|00)/i;

function invalid(code: string, message: string): AttachmentInvalidError {
  const problem: InputProblem = { code, message, field: 'uri' };
  return new AttachmentInvalidError([problem]);
}

function withSeparator(dir: string): string {
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

function isInside(file: string, dir: string): boolean {
  return file.startsWith(withSeparator(dir));
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/**
 * Serves `file:` URIs from a fixed set of root directories. A URI is an input
 * from an upstream producer, so it is treated as hostile: it is confined to
 * the roots before any file is opened (no `..`, no percent-encoded separators
 * or dots, no symbolic link leading out), and the file is opened with
 * O_NOFOLLOW and checked again after opening, so swapping it for a symbolic
 * link or another file between the check and the open fails instead of
 * reading something else.
 */
export class FileAttachmentStore implements AttachmentStore {
  /** Only `file:`. */
  readonly schemes: readonly string[] = ['file:'];
  private readonly roots: readonly Root[];

  /**
   * Resolves every root once; throws ConfigError listing every root that does
   * not exist or is not a directory, so a typo fails at startup, not per message.
   */
  private readonly ops: FileOps;
  private readonly wholeReadMaxBytes: number;

  constructor(options: FileAttachmentStoreOptions) {
    this.ops = options.fileOps ?? NODE_FILE_OPS;
    const whole = options.wholeReadMaxBytes ?? 0;
    if (!Number.isSafeInteger(whole) || whole < 0) {
      throw new ConfigError([`attachment store: wholeReadMaxBytes: not a byte count: ${whole}`]);
    }
    this.wholeReadMaxBytes = whole;
    const problems: string[] = [];
    const roots: Root[] = [];
    if (options.roots.length === 0)
      problems.push('attachment store: roots: at least one root is required');
    for (const root of options.roots) {
      const lexical = path.resolve(root);
      try {
        const real = realpathSync(lexical);
        if (!statSync(real).isDirectory()) {
          problems.push(`attachment store: root ${root}: not a directory`);
          continue;
        }
        roots.push({ lexical, real });
      } catch (err) {
        problems.push(`attachment store: root ${root}: ${errnoOf(err) ?? String(err)}`);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    this.roots = roots;
  }

  /**
   * Opens the file a `file:` URI names, as a stream of 64 KiB chunks. Rejects
   * with AttachmentInvalidError (ATTACHMENT_URI_INVALID, ATTACHMENT_PATH_TRAVERSAL,
   * ATTACHMENT_PATH_OUTSIDE_ROOT, ATTACHMENT_NOT_FOUND, ATTACHMENT_NOT_A_FILE,
   * ATTACHMENT_NOT_READABLE) or, for I/O failures that may pass, AttachmentStorageError.
   */
  open(uri: string, options: OpenOptions = {}): Promise<Readable> {
    try {
      return Promise.resolve(this.openChecked(uri, options));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Opens one byte range of the file a `file:` URI names, confined and
   * checked exactly as {@link open}; rejects the same way.
   */
  openRange(uri: string, range: ByteRange, options: OpenOptions = {}): Promise<Readable> {
    if (
      !Number.isSafeInteger(range.start) ||
      range.start < 0 ||
      !Number.isSafeInteger(range.length) ||
      range.length < 1
    ) {
      return Promise.reject(new RangeError(`not a byte range: ${JSON.stringify(range)}`));
    }
    try {
      return Promise.resolve(this.openChecked(uri, options, range));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private openChecked(uri: string, options: OpenOptions, range?: ByteRange): Readable {
    const { signal } = options;
    signal?.throwIfAborted();
    const lexicalPath = this.confine(uri);
    // Metadata calls are synchronous: each is one quick syscall on a local
    // filesystem, where a thread-pool round trip per call costs more than the
    // call itself. The bytes are streamed asynchronously.
    const realPath = this.io(uri, () => this.ops.realpath(lexicalPath));
    if (!this.roots.some((r) => isInside(realPath, r.real))) {
      throw invalid(
        'ATTACHMENT_PATH_OUTSIDE_ROOT',
        `${uri} leads through a symbolic link to a file outside the attachment roots`,
      );
    }
    const checked = this.io(uri, () => this.ops.stat(realPath));
    if (!checked.isFile()) throw invalid('ATTACHMENT_NOT_A_FILE', `${uri} is not a regular file`);
    signal?.throwIfAborted();

    const fd = this.io(uri, () =>
      this.ops.open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK),
    );
    let whole: Buffer | undefined;
    try {
      const opened = this.io(uri, () => this.ops.fstat(fd));
      if (!sameFile(checked, opened)) {
        throw invalid(
          'ATTACHMENT_PATH_OUTSIDE_ROOT',
          `${uri} was replaced while it was being opened; refusing to read it`,
        );
      }
      signal?.throwIfAborted();
      if (!range && opened.size <= this.wholeReadMaxBytes) whole = this.readWhole(uri, fd, opened);
    } catch (err) {
      this.ops.close(fd);
      throw err;
    }
    if (whole) {
      this.io(uri, () => this.ops.close(fd));
      const single = Readable.from([whole], { objectMode: false });
      return signal ? addAbortSignal(signal, single) : single;
    }
    const stream = createReadStream('', {
      fd,
      highWaterMark: FILE_READ_CHUNK_BYTES,
      ...(range ? { start: range.start, end: range.start + range.length - 1 } : {}),
    });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  /**
   * The whole of an opened small file, read with one call into a buffer one
   * byte larger than its fstat size (the opened file's, not the path's), or
   * undefined when that byte was filled: the file grew after fstat, and is
   * streamed from the start like a large one, bounded by the reader as before.
   */
  private readWhole(uri: string, fd: number, opened: Stats): Buffer | undefined {
    const buffer = Buffer.allocUnsafe(opened.size + 1);
    let length = 0;
    for (;;) {
      const n = this.io(uri, () => this.ops.read(fd, buffer.subarray(length), length));
      if (n === 0) return buffer.subarray(0, length);
      length += n;
      if (length === buffer.length) return undefined;
    }
  }

  /** The absolute path a URI names, or the reason it may not be read; touches no file. */
  private confine(uri: string): string {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw invalid('ATTACHMENT_URI_INVALID', 'the URI is not an absolute URL');
    }
    if (url.protocol !== 'file:') {
      throw invalid('ATTACHMENT_URI_INVALID', `expected a file: URI, got ${url.protocol}`);
    }
    // The URL parser already mapped `localhost` to the empty host.
    if (url.hostname !== '') {
      throw invalid('ATTACHMENT_URI_INVALID', `file: URIs must not name a host (${url.hostname})`);
    }
    if (url.search !== '' || url.hash !== '') {
      throw invalid('ATTACHMENT_URI_INVALID', 'file: URIs must not carry a query or fragment');
    }
    // Checked on the raw string: the URL parser silently resolves `..` and `%2e%2e`.
    const rawPath = uri.slice(uri.indexOf(':') + 1);
    if (DOT_DOT_SEGMENT.test(rawPath) || ENCODED_TRAVERSAL.test(rawPath)) {
      throw invalid(
        'ATTACHMENT_PATH_TRAVERSAL',
        `${uri} contains a '..' segment or a percent-encoded dot, separator or NUL`,
      );
    }
    let decoded: string;
    try {
      decoded = path.resolve(fileURLToPath(url));
    } catch (err) {
      throw invalid(
        'ATTACHMENT_URI_INVALID',
        `${uri} does not name a local path: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (decoded.includes('\0')) {
      throw invalid('ATTACHMENT_PATH_TRAVERSAL', `${uri} contains a NUL character`);
    }
    if (!this.roots.some((r) => isInside(decoded, r.lexical) || isInside(decoded, r.real))) {
      throw invalid('ATTACHMENT_PATH_OUTSIDE_ROOT', `${uri} is outside the attachment roots`);
    }
    return decoded;
  }

  /** Runs one file-system call, turning its errors into the store's error kinds. */
  private io<T>(uri: string, call: () => T): T {
    try {
      return call();
    } catch (err) {
      throw classifyIoError(uri, err);
    }
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino && b.isFile();
}

function classifyIoError(uri: string, err: unknown): Error {
  switch (errnoOf(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return invalid('ATTACHMENT_NOT_FOUND', `${uri} does not exist`);
    case 'ELOOP':
      // realpath reports a link cycle; O_NOFOLLOW reports a link swapped in after the check.
      return invalid(
        'ATTACHMENT_PATH_OUTSIDE_ROOT',
        `${uri} is or became a symbolic link that cannot be followed`,
      );
    case 'EACCES':
    case 'EPERM':
      return invalid('ATTACHMENT_NOT_READABLE', `${uri} may not be read by this service`);
    case 'EISDIR':
      return invalid('ATTACHMENT_NOT_A_FILE', `${uri} is not a regular file`);
    default:
      return new AttachmentStorageError(
        `reading ${uri} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
  }
}
