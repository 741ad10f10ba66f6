import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTs } from './cli';

const dir = mkdtempSync(join(tmpdir(), 'run-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runTs', () => {
  it('runs the entry point and collects its output and exit code', async () => {
    const entry = join(dir, 'exits.ts');
    writeFileSync(entry, 'const n: number = 3;\nconsole.log(`out ${n}`);\nprocess.exit(n);\n');
    expect(await runTs(entry, [])).toEqual({ code: 3, stdout: 'out 3\n', stderr: '' });
  });

  it(
    'kills the command itself on timeout, leaving no process behind',
    { timeout: 20_000 },
    async () => {
      const entry = join(dir, 'hangs.ts');
      writeFileSync(entry, 'console.log(process.pid);\nsetInterval(() => undefined, 1000);\n');
      const result = await runTs(entry, [], { timeoutMs: 3000 });
      const pid = Number(result.stdout.trim());
      expect(pid).toBeGreaterThan(0);
      expect(result.code).toBeNull();
      expect(isAlive(pid)).toBe(false);
    },
  );
});
