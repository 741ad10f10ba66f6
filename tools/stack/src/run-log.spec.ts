import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@grantstream/logging';
import { openRunLog } from './run-log';

describe('openRunLog', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("holds the logger's lines and a child's output in order, creating the directory", () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-log-'));
    dirs.push(dir);
    const runLog = openRunLog(join(dir, 'runs', 'R1', 'main-job.log'));
    const log = createLogger({ service: 'main-job', destination: runLog });
    log.info('before');
    const child = spawnSync(
      process.execPath,
      ['-e', 'process.stdout.write("out\\n"); process.stderr.write("err\\n")'],
      { stdio: ['ignore', runLog.fd, runLog.fd] },
    );
    expect(child.status).toBe(0);
    log.info('after');
    const lines = readFileSync(runLog.path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ service: 'main-job', msg: 'before' });
    expect(lines.slice(1, 3)).toEqual(['out', 'err']);
    expect(JSON.parse(lines[3] ?? '')).toMatchObject({ msg: 'after' });
  });
});
