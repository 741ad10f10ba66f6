import { createReadStream } from 'node:fs';
import type * as NodeFs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { convertLine } from '@grantstream/intake';
import type * as Intake from '@grantstream/intake';
import type { OutgoingMessage } from '@grantstream/kafka';
import { submitFiles, type SubmitClients } from './submit.command';

// The real functions, watched: every open of an input file and every
// conversion of a line is counted.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeFs>();
  return { ...actual, createReadStream: vi.fn(actual.createReadStream) };
});
vi.mock('@grantstream/intake', async (importOriginal) => {
  const actual = await importOriginal<typeof Intake>();
  return { ...actual, convertLine: vi.fn(actual.convertLine) };
});

const id = (n: number) => `BCF-2026-${String(n).padStart(5, '0')}`;
const base = { funder_portal: 'bcf', submission_deadline: 1.8e12, metadata: {}, attachments: [] };
const valid = (n: number) => JSON.stringify({ grant_id: id(n), ...base });

/** Clients that count encodes by grant id and keep the keys of each produce call. */
function countingClients() {
  const encoded: string[] = [];
  const produced: string[][] = [];
  const clients: SubmitClients = {
    serde: {
      encode: (_topic: string, value: unknown) => {
        encoded.push((value as { grant_id: string }).grant_id);
        return Promise.resolve(Buffer.from(JSON.stringify(value)));
      },
    },
    io: {
      produce: (_topic: string, messages: readonly OutgoingMessage[]) => {
        produced.push(messages.map((m) => String(m.key)));
        return Promise.resolve();
      },
    },
  };
  return { clients, encoded, produced };
}

describe('submitFiles reads each line once', () => {
  let dir: string;
  let first: string;
  let second: string;
  const firstLines = [valid(1), '', valid(2), 'not json', valid(1), valid(3)];
  const secondLines = [valid(4), valid(5), '  ', valid(6), valid(7)];
  const nonBlank = [...firstLines, ...secondLines].filter((l) => l.trim() !== '');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grantctl-single-pass-'));
    first = join(dir, 'a.jsonl');
    second = join(dir, 'b.jsonl');
    await writeFile(first, `${firstLines.join('\n')}\n`);
    await writeFile(second, `${secondLines.join('\n')}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    vi.mocked(createReadStream).mockClear();
    vi.mocked(convertLine).mockClear();
  });

  it('opens each file once, converts and encodes each line once, and sends from that pass', async () => {
    const { clients, encoded, produced } = countingClients();
    const summary = await submitFiles(
      [first, second],
      { topic: 't', chunkSize: 2, skipInvalid: true, spoolDir: dir },
      clients,
    );

    expect(vi.mocked(createReadStream).mock.calls.map(([path]) => path)).toEqual([first, second]);
    expect(vi.mocked(convertLine).mock.calls.map(([text]) => text)).toEqual(nonBlank);
    expect(encoded).toEqual([1, 2, 3, 4, 5, 6, 7].map(id));
    expect(produced).toEqual([[id(1), id(2)], [id(3), id(4)], [id(5), id(6)], [id(7)]]);
    expect(summary).toMatchObject({ linesRead: nonBlank.length, valid: 7, invalid: 2, sent: 7 });
  });

  it('reads each line once when an invalid line blocks the batch, and encodes nothing after it', async () => {
    const { clients, encoded, produced } = countingClients();
    const summary = await submitFiles(
      [first, second],
      { topic: 't', chunkSize: 2, spoolDir: dir },
      clients,
    );

    expect(vi.mocked(createReadStream)).toHaveBeenCalledTimes(2);
    expect(vi.mocked(convertLine).mock.calls.map(([text]) => text)).toEqual(nonBlank);
    // Lines 1 and 3 came before the invalid line 4; after it the batch cannot be sent.
    expect(encoded).toEqual([id(1), id(2)]);
    expect(produced).toEqual([]);
    expect(summary).toMatchObject({ valid: 7, invalid: 2, sent: 0 });
  });
});
