import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFECT_COUNT, OVERSIZE_BYTES, generateExamples } from './generate';
import type { GeneratedExamples } from './model';
import { applicationsJsonl, checkExamples, expectedJson, writeExamples } from './output';

const NOW = Date.parse('2026-12-01T15:00:00Z');
let dir: string;
let batch: GeneratedExamples;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grantstream-examples-'));
  batch = await generateExamples({ now: NOW, count: DEFECT_COUNT + 6 });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeExamples', { timeout: 60_000 }, () => {
  it('writes the lines, the outcomes and every attachment, replacing an earlier batch', async () => {
    const stale = join(dir, 'attachments', 'OLD-2026-00001', 'left-over.pdf');
    await mkdir(join(dir, 'attachments', 'OLD-2026-00001'), { recursive: true });
    await writeFile(stale, 'old');
    const written = await writeExamples(dir, batch);
    expect(written.files).toBe(batch.files.length);
    expect(await readFile(written.applicationsPath, 'utf8')).toBe(
      applicationsJsonl(batch.applications),
    );
    expect(JSON.parse(await readFile(written.expectedPath, 'utf8'))).toEqual(batch.expected);
    await expect(stat(stale)).rejects.toThrow(/ENOENT/);
    for (const f of batch.files.filter((x) => x.kind === 'file')) {
      expect((await readFile(join(dir, f.path))).equals(Buffer.from(f.bytes))).toBe(true);
    }
  });

  it('makes the oversize attachment sparse: 26 MiB + 1 byte long, almost nothing on disk', async () => {
    const sparse = batch.files.filter((f) => f.kind === 'sparse');
    expect(sparse.length).toBeGreaterThan(0);
    for (const f of sparse) {
      const s = await stat(join(dir, f.path));
      expect(s.size).toBe(OVERSIZE_BYTES);
      expect(s.blocks * 512).toBeLessThan(1024 * 1024);
      const head = await readFile(join(dir, f.path));
      expect(head.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    }
  });

  it('makes the symlinks point outside the batch', async () => {
    const links = batch.files.filter((f) => f.kind === 'symlink');
    expect(links.length).toBeGreaterThan(0);
    for (const f of links) {
      expect((await lstat(join(dir, f.path))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(dir, f.path))).toBe('/etc/hostname');
    }
  });
});

describe('checkExamples', { timeout: 60_000 }, () => {
  it('accepts what writeExamples wrote', async () => {
    await writeExamples(dir, batch);
    expect(await checkExamples(dir, batch)).toEqual({ ok: true, differences: [] });
  });

  it('names the applications and outcomes that differ', async () => {
    await writeExamples(dir, batch);
    const lines = applicationsJsonl(batch.applications).split('\n');
    const changedId = batch.applications[2]!.grant_id;
    lines[2] = lines[2]!.replace('"metadata":{', '"metadata":{"edited":true,');
    lines.splice(4, 1);
    await writeFile(join(dir, 'applications.jsonl'), lines.join('\n'));
    const expected = structuredClone(batch.expected);
    expected.grants[changedId] = { destination: 'dlq', codes: ['X'], defect: null };
    await writeFile(join(dir, 'expected-outcomes.json'), expectedJson(expected));
    const result = await checkExamples(dir, batch);
    expect(result.ok).toBe(false);
    expect(result.differences).toEqual([
      `applications.jsonl: 1 application(s) differ: ${changedId} (line 3)`,
      `applications.jsonl: 1 application(s) missing: ${batch.applications[4]!.grant_id}`,
      `expected-outcomes.json: 1 grant outcome(s) differ: ${changedId}`,
    ]);
  });

  it('reports missing files', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'grantstream-examples-empty-'));
    try {
      expect((await checkExamples(empty, batch)).differences).toEqual([
        'applications.jsonl: missing',
        'expected-outcomes.json: missing',
      ]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
