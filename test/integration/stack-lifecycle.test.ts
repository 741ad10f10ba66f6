// Guarantee: the local stack command is idempotent and leaves nothing behind.
// A second `up` is a no-op, a killed process is detected and restarted, and
// after `down` no process of the stack remains. It runs a second, isolated
// stack (own ports and state folder, shared download cache) so the stack the
// other scenarios use is never disturbed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY, runTs, testConfig, waitUntil } from '@grantstream/testing';
import { isolatedStackEnv, isolatedStackPorts } from '../support/isolated-stacks';

const stateDir = mkdtempSync(join(tmpdir(), 'grantstream-stack-'));
const ports = isolatedStackPorts('lifecycle');
const env = {
  ...isolatedStackEnv('lifecycle', stateDir),
  GRANTSTREAM__STACK__KAFKA__HEAP_MB: '384',
  GRANTSTREAM__STACK__REGISTRY__HEAP_MB: '384',
};
const stack = (...args: string[]) => runTs(ENTRY.stack, args, { env, timeoutMs: 240_000 });

interface Status {
  component: string;
  state: string;
  pids: number[];
}
async function status(): Promise<{ code: number | null; byComponent: Map<string, Status> }> {
  const r = await stack('status', '--json');
  const list = JSON.parse(r.stdout) as Status[];
  return { code: r.code, byComponent: new Map(list.map((s) => [s.component, s])) };
}

/** Whether a process with this id still exists (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names this stack's state folder, whatever their state. */
function processesOfThisStack(): string[] {
  return execFileSync('ps', ['-ww', '-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(`-Dgrantstream.stack=${stateDir}#`));
}

describe('local stack lifecycle', () => {
  afterAll(async () => {
    await stack('down');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts from nothing and answers on the configured ports', async () => {
    const before = await status();
    expect(before.code).toBe(1);
    expect(before.byComponent.get('kafka')?.state).toBe('stopped');

    const up = await stack('up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('kafka: started');
    expect(up.stdout).toContain('registry: started');
    expect(up.stdout).toContain('redis: started');

    const after = await status();
    expect(after.code).toBe(0);
    expect(after.byComponent.get('kafka')?.state).toBe('ready');
    expect(after.byComponent.get('registry')?.state).toBe('ready');
    const res = await fetch(`http://127.0.0.1:${ports.registry}/apis/ccompat/v7/config`);
    expect(await res.json()).toMatchObject({ compatibilityLevel: 'BACKWARD' });
  });

  it('does nothing on a second up', async () => {
    const pidsBefore = [...(await status()).byComponent.values()].flatMap((s) => s.pids);
    const started = Date.now();
    const again = await stack('up');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('kafka: already-running');
    expect(again.stdout).toContain('registry: already-running');
    expect(again.stdout).toContain('redis: already-running');
    expect(Date.now() - started).toBeLessThan(15_000);
    const pidsAfter = [...(await status()).byComponent.values()].flatMap((s) => s.pids);
    expect(pidsAfter).toEqual(pidsBefore);
  });

  it('detects a killed broker and restarts it, keeping the registry', async () => {
    const kafkaPid = (await status()).byComponent.get('kafka')?.pids[0];
    expect(kafkaPid).toBeTypeOf('number');
    process.kill(kafkaPid as number, 'SIGKILL');
    await waitUntil('the killed broker gone', () => !isAlive(kafkaPid as number), {
      timeoutMs: testConfig(env).stack.stopTimeoutMs,
    });
    const dead = await status();
    expect(dead.code).toBe(1);
    expect(dead.byComponent.get('kafka')?.state).toBe('stopped');

    const up = await stack('up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('kafka: restarted');
    expect(up.stdout).toContain('registry: already-running');
    expect((await status()).byComponent.get('kafka')?.state).toBe('ready');
  });

  it('refuses to start a broker on a port another stack holds, naming the port', async () => {
    // A second stack whose broker port is this stack's: its own broker would
    // exit on the port while the readiness probe, answered by this stack's
    // broker, said it had started.
    const otherDir = mkdtempSync(join(tmpdir(), 'grantstream-stack-clash-'));
    const clash = {
      ...env,
      GRANTSTREAM__STACK__STATE_DIR: otherDir,
      GRANTSTREAM__STACK__KAFKA__CONTROLLER_PORT: String(ports.free),
    };
    try {
      const up = await runTs(ENTRY.stack, ['up'], { env: clash, timeoutMs: 240_000 });
      expect(up.stdout).not.toContain('kafka: started');
      expect(up.code).not.toBe(0);
      expect(up.stderr).toContain(`127.0.0.1:${ports.kafka} held by`);
    } finally {
      await runTs(ENTRY.stack, ['down'], { env: clash, timeoutMs: 240_000 });
      rmSync(otherDir, { recursive: true, force: true });
    }
    expect((await status()).byComponent.get('kafka')?.state).toBe('ready');
  });

  it('leaves no process behind after down', async () => {
    expect(processesOfThisStack().length).toBeGreaterThanOrEqual(3);
    const down = await stack('down');
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('kafka: stopped');
    expect(down.stdout).toContain('registry: stopped');
    expect(down.stdout).toContain('redis: stopped');
    expect(processesOfThisStack()).toEqual([]);
    const after = await status();
    expect(after.code).toBe(1);
    expect([...after.byComponent.values()].map((s) => s.state)).toEqual([
      'stopped',
      'stopped',
      'stopped',
    ]);
    const again = await stack('down');
    expect(again.stdout).toContain('kafka: was not running');
  });
});
