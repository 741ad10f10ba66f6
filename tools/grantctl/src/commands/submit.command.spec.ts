import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfrastructureError, SchemaViolationError } from '@grantstream/errors';
import { convertLine, formatLineProblem } from '@grantstream/intake';
import type { OutgoingMessage } from '@grantstream/kafka';
import {
  SUBMIT_INVALID_EXIT,
  SUBMIT_SEND_FAILED_EXIT,
  exitCodeOf,
  formatSubmitSummary,
  listInputFiles,
  submitFiles,
  type SubmitClients,
} from './submit.command';

const NOW = Date.parse('2026-12-01T15:00:00Z');

const id = (n: number) => `SCDA-2026-${String(n).padStart(5, '0')}`;

/** A valid line of the JSON form for grant `id(n)`, with `overrides` applied. */
const good = (n: number, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    grant_id: id(n),
    funder_portal: 'sdca-portal',
    submission_deadline: '2027-01-15T17:00:00-05:00',
    metadata: { project_title: `Project ${n}` },
    attachments: [{ uri: `attachments/${id(n)}/b.xlsx`, filename: 'Budget.xlsx' }],
    ...overrides,
  });

/** Clients that record what would be produced, failing produce calls from `failFromCall` on. */
function fakeClients(options: { failFromCall?: number; refuse?: string } = {}) {
  const calls: { topic: string; messages: OutgoingMessage[] }[] = [];
  const clients: SubmitClients = {
    serde: {
      encode: (topic: string, value: unknown) => {
        const record = value as { grant_id: string };
        if (record.grant_id === options.refuse) {
          return Promise.reject(new SchemaViolationError(`value does not match ${topic}-value`));
        }
        return Promise.resolve(Buffer.from(JSON.stringify(value)));
      },
    },
    io: {
      produce: (topic: string, messages: readonly OutgoingMessage[]) => {
        if (options.failFromCall !== undefined && calls.length + 1 >= options.failFromCall) {
          return Promise.reject(new Error('broker went away'));
        }
        calls.push({ topic, messages: [...messages] });
        return Promise.resolve();
      },
    },
  };
  return { clients, calls };
}

const keysOf = (calls: { messages: OutgoingMessage[] }[]) =>
  calls.map((c) => c.messages.map((m) => String(m.key)));

describe('submitFiles', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grantctl-submit-'));
    await mkdir(join(dir, 'parts'));
    await writeFile(join(dir, 'five.jsonl'), [1, 2, 3, 4, 5].map((n) => good(n)).join('\n') + '\n');
    await writeFile(
      join(dir, 'mixed.jsonl'),
      [
        good(10),
        '',
        '   ',
        good(11, { submission_deadline: 'next friday' }),
        good(12),
        'not json',
        good(10),
        good(13),
      ].join('\r\n'),
    );
    await writeFile(join(dir, 'parts', 'b.jsonl'), `${good(21)}\n`);
    await writeFile(join(dir, 'parts', 'a.jsonl'), `\uFEFF${good(20)}\n`);
    await writeFile(join(dir, 'parts', 'notes.txt'), 'not a batch');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every bad line with its number and reason, and a repeated grant id', async () => {
    const file = join(dir, 'mixed.jsonl');
    const { clients, calls } = fakeClients();
    const summary = await submitFiles([file], { topic: 't', now: NOW }, clients);
    expect(summary.problems.map(formatLineProblem)).toEqual([
      expect.stringMatching(
        new RegExp(`^${file}:4: ${id(11)}: submission_deadline: expected an ISO-8601`),
      ),
      expect.stringMatching(new RegExp(`^${file}:6: \\(root\\): not valid JSON`)),
      `${file}:7: ${id(10)}: grant_id: duplicate of ${file}:1`,
    ]);
    expect(summary).toMatchObject({ linesRead: 6, valid: 3, invalid: 3, sent: 0 });
    expect(calls).toEqual([]);
    expect(exitCodeOf(summary, false)).toBe(SUBMIT_INVALID_EXIT);
    expect(formatSubmitSummary(summary, false)).toContain('nothing sent');
  });

  it('sends the valid lines, in order, when told to skip the invalid ones', async () => {
    const { clients, calls } = fakeClients();
    const summary = await submitFiles(
      [join(dir, 'mixed.jsonl')],
      { topic: 'grants.ingest.v1', now: NOW, skipInvalid: true },
      clients,
    );
    expect(keysOf(calls)).toEqual([[id(10), id(12), id(13)]]);
    expect(calls[0]?.topic).toBe('grants.ingest.v1');
    expect(summary).toMatchObject({ sent: 3, sentByFunder: { SCDA: 3 }, failure: null });
    expect(exitCodeOf(summary, true)).toBe(0);
  });

  it('produces chunk by chunk, keyed by grant id, with attachment URIs resolved', async () => {
    const { clients, calls } = fakeClients();
    const progress: [number, number][] = [];
    const summary = await submitFiles(
      [join(dir, 'five.jsonl')],
      { topic: 't', now: NOW, chunkSize: 2, onProgress: (s, t) => progress.push([s, t]) },
      clients,
    );
    expect(keysOf(calls)).toEqual([[id(1), id(2)], [id(3), id(4)], [id(5)]]);
    expect(progress).toEqual([
      [0, 5],
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    const first = JSON.parse(String(calls[0]?.messages[0]?.value)) as {
      attachments: { uri: string }[];
    };
    expect(first.attachments[0]?.uri).toBe(`file://${dir}/attachments/${id(1)}/b.xlsx`);
    expect(summary.sent).toBe(5);
  });

  it('says how much was acknowledged and where to resume when producing fails', async () => {
    const { clients, calls } = fakeClients({ failFromCall: 2 });
    const file = join(dir, 'five.jsonl');
    const summary = await submitFiles([file], { topic: 't', now: NOW, chunkSize: 2 }, clients);
    expect(keysOf(calls)).toEqual([[id(1), id(2)]]);
    expect(summary.failure).toEqual({
      message: 'broker went away',
      acknowledged: 2,
      resumeFrom: { file, line: 3 },
    });
    expect(exitCodeOf(summary, false)).toBe(SUBMIT_SEND_FAILED_EXIT);
    expect(formatSubmitSummary(summary, false)).toContain(`resume from ${file}:3`);
  });

  it('treats a record the registry schema refuses as an invalid line, before sending anything', async () => {
    const { clients, calls } = fakeClients({ refuse: id(4) });
    const file = join(dir, 'five.jsonl');
    const summary = await submitFiles([file], { topic: 't', now: NOW }, clients);
    expect(summary.problems.map(formatLineProblem)).toEqual([
      `${file}:4: ${id(4)}: (root): value does not match t-value`,
    ]);
    expect(calls).toEqual([]);
  });

  it('stops before sending anything when the registry cannot be reached', async () => {
    const { clients, calls } = fakeClients();
    clients.serde = {
      encode: () => Promise.reject(new InfrastructureError('schema registry failed: ECONNREFUSED')),
    };
    await expect(
      submitFiles([join(dir, 'five.jsonl')], { topic: 't', now: NOW }, clients),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(calls).toEqual([]);
  });

  it('still reports the invalid lines of a blocked batch when the registry cannot be reached', async () => {
    const { clients, calls } = fakeClients();
    clients.serde = {
      encode: () => Promise.reject(new InfrastructureError('schema registry failed: ECONNREFUSED')),
    };
    const summary = await submitFiles(
      [join(dir, 'mixed.jsonl')],
      { topic: 't', now: NOW },
      clients,
    );
    expect(summary).toMatchObject({ valid: 3, invalid: 3, sent: 0, failure: null });
    expect(exitCodeOf(summary, false)).toBe(SUBMIT_INVALID_EXIT);
    expect(calls).toEqual([]);
  });

  it('leaves out a record the schema refuses with --skip-invalid, chunking the others', async () => {
    const { clients, calls } = fakeClients({ refuse: id(2) });
    const file = join(dir, 'five.jsonl');
    const summary = await submitFiles(
      [file],
      { topic: 't', now: NOW, chunkSize: 2, skipInvalid: true },
      clients,
    );
    expect(keysOf(calls)).toEqual([
      [id(1), id(3)],
      [id(4), id(5)],
    ]);
    expect(summary).toMatchObject({ valid: 4, invalid: 1, sent: 4, validByFunder: { SCDA: 4 } });
    expect(summary.problems.map((p) => p.line)).toEqual([2]);
  });

  it('leaves no spool behind, whether sending succeeds or fails', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'grantctl-spool-'));
    try {
      for (const failFromCall of [undefined, 1]) {
        const { clients } = fakeClients(failFromCall === undefined ? {} : { failFromCall });
        await submitFiles(
          [join(dir, 'five.jsonl')],
          { topic: 't', now: NOW, chunkSize: 2, spoolDir },
          clients,
        );
        expect(await readdir(spoolDir)).toEqual([]);
      }
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  });

  it('validates only on a dry run, without clients', async () => {
    const summary = await submitFiles(
      [join(dir, 'five.jsonl')],
      { topic: 't', dryRun: true },
      null,
    );
    expect(summary).toMatchObject({ valid: 5, sent: 0, dryRun: true, validByFunder: { SCDA: 5 } });
    expect(formatSubmitSummary(summary, false)).toContain('dry run: nothing sent');
  });

  it('reads every *.jsonl of a directory in name order and resolves against --attachments-base', async () => {
    const files = await listInputFiles([join(dir, 'parts')]);
    expect(files).toEqual([join(dir, 'parts', 'a.jsonl'), join(dir, 'parts', 'b.jsonl')]);
    const { clients, calls } = fakeClients();
    await submitFiles(files, { topic: 't', now: NOW, attachmentsBase: '/mnt/batch' }, clients);
    expect(keysOf(calls)).toEqual([[id(20), id(21)]]);
    const record = JSON.parse(String(calls[0]?.messages[1]?.value)) as {
      attachments: { uri: string }[];
    };
    expect(record.attachments[0]?.uri).toBe(`file:///mnt/batch/attachments/${id(21)}/b.xlsx`);
    await expect(listInputFiles([join(dir, 'nope')])).rejects.toThrow(/no such file/);
  });
});

describe('the example batch', () => {
  it('is valid JSON form, line for line, and keeps its deliberate path traversals', async () => {
    const file = join(__dirname, '../../../../examples/applications.jsonl');
    const summary = await submitFiles([file], { topic: 't', dryRun: true }, null);
    expect(summary.problems.map(formatLineProblem)).toEqual([]);
    expect(summary.valid).toBeGreaterThanOrEqual(210);
    const traversal = (await readFile(file, 'utf8'))
      .split('\n')
      .find((l) => l.includes('"attachments/../../../etc/passwd"'));
    const result = convertLine(traversal ?? '', { attachmentsBase: '/b', now: NOW });
    expect(result.ok && result.record.attachments.map((a) => a.uri)).toContain(
      'file:///b/attachments/../../../etc/passwd',
    );
  });
});
