import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** One encoded record waiting to be produced, with the input line it came from. */
export interface SpooledMessage {
  /** Index of its input file in the list given to submit. */
  fileIndex: number;
  /** 1-based line number in that file. */
  line: number;
  /** The grant id: the message key. */
  key: string;
  /** The Avro-encoded record, registry framing included. */
  value: Buffer;
}

/** Record count (u32) and body length (u48) of a block. */
const BLOCK_HEADER_BYTES = 10;
/** File index, line, key length and value length, each a u32. */
const FRAME_HEADER_BYTES = 16;

/**
 * Encoded records of a submit run waiting until every line has been checked,
 * in a private temporary file, in input order. Records are written and read
 * back in blocks of `blockSize` (the produce chunk): memory holds one block
 * at a time whatever the size of the batch, and each block read back is
 * exactly one produce call. The file lives in its own `mkdtemp` directory
 * (mode 0700: it holds applicants' data) and {@link dispose} removes it.
 */
export class MessageSpool {
  private pending: Buffer[] = [];
  private pendingCount = 0;
  private bytes = 0;
  private count = 0;

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
    private readonly blockSize: number,
  ) {}

  /** Creates an empty spool in a new directory under `parentDir`. */
  static async create(parentDir: string, blockSize: number): Promise<MessageSpool> {
    const dir = await mkdtemp(join(parentDir, 'grantctl-submit-'));
    try {
      return new MessageSpool(dir, await open(join(dir, 'records.spool'), 'w+', 0o600), blockSize);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Records appended so far. */
  get size(): number {
    return this.count;
  }

  /** Adds a record after the ones appended before. */
  async append(message: SpooledMessage): Promise<void> {
    const key = Buffer.from(message.key, 'utf8');
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32LE(message.fileIndex, 0);
    header.writeUInt32LE(message.line, 4);
    header.writeUInt32LE(key.length, 8);
    header.writeUInt32LE(message.value.length, 12);
    this.pending.push(header, key, message.value);
    this.pendingCount += 1;
    this.count += 1;
    if (this.pendingCount >= this.blockSize) await this.writeBlock();
  }

  /** The records in the order appended, `blockSize` at a time (the last block may be shorter). */
  async *blocks(): AsyncGenerator<SpooledMessage[]> {
    await this.writeBlock();
    const header = Buffer.alloc(BLOCK_HEADER_BYTES);
    let position = 0;
    while (position < this.bytes) {
      await readFully(this.file, header, position);
      const records = header.readUInt32LE(0);
      const body = Buffer.alloc(header.readUIntLE(4, 6));
      await readFully(this.file, body, position + BLOCK_HEADER_BYTES);
      position += BLOCK_HEADER_BYTES + body.length;
      yield parseBlock(body, records);
    }
  }

  /** Closes and removes the spool; safe to call more than once. */
  async dispose(): Promise<void> {
    this.pending = [];
    await this.file.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private async writeBlock(): Promise<void> {
    if (this.pendingCount === 0) return;
    const body = Buffer.concat(this.pending);
    const header = Buffer.alloc(BLOCK_HEADER_BYTES);
    header.writeUInt32LE(this.pendingCount, 0);
    header.writeUIntLE(body.length, 4, 6);
    const block = Buffer.concat([header, body]);
    let written = 0;
    while (written < block.length) {
      const { bytesWritten } = await this.file.write(
        block,
        written,
        block.length - written,
        this.bytes + written,
      );
      written += bytesWritten;
    }
    this.bytes += block.length;
    this.pending = [];
    this.pendingCount = 0;
  }
}

async function readFully(file: FileHandle, into: Buffer, position: number): Promise<void> {
  let read = 0;
  while (read < into.length) {
    const { bytesRead } = await file.read(into, read, into.length - read, position + read);
    if (bytesRead === 0) throw new Error('the submit spool ended early');
    read += bytesRead;
  }
}

function parseBlock(body: Buffer, records: number): SpooledMessage[] {
  const messages: SpooledMessage[] = [];
  let at = 0;
  for (let i = 0; i < records; i += 1) {
    const fileIndex = body.readUInt32LE(at);
    const line = body.readUInt32LE(at + 4);
    const keyLength = body.readUInt32LE(at + 8);
    const valueLength = body.readUInt32LE(at + 12);
    at += FRAME_HEADER_BYTES;
    const key = body.toString('utf8', at, at + keyLength);
    at += keyLength;
    messages.push({ fileIndex, line, key, value: body.subarray(at, at + valueLength) });
    at += valueLength;
  }
  return messages;
}
