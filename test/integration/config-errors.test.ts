// Guarantee: a bad configuration stops a process at start-up with every
// problem listed at once (files, YAML syntax, env overrides, schema), each
// naming where the bad value came from, and a non-zero exit.
import { describe, expect, it } from 'vitest';
import { ENTRY, runTs } from '@grantstream/testing';

const bad = 'test/fixtures/config/not-ok/many-problems.yaml';

describe('configuration errors', () => {
  it('grantctl config check accepts the default configuration', async () => {
    const r = await runTs(ENTRY.grantctl, ['config', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('configuration valid');
  });

  it('lists every problem of a bad file and exits 2', async () => {
    const r = await runTs(ENTRY.grantctl, ['--config', bad, 'config', 'check']);
    expect(r.code).toBe(2);
    for (const problem of [
      `${bad}: kafka.brokers: Too small`,
      `${bad}: kafka.connectionTimeoutMs: Too small`,
      `${bad}: registry.url: Invalid URL`,
      `${bad}: logging.level: Invalid option`,
      `${bad}: stack.kafka.port: Too big`,
    ]) {
      expect(r.stderr).toContain(problem);
    }
    expect(r.stderr).toMatch(/invalid configuration \(\d+ problem\(s\)\)/);
  });

  it('reports YAML syntax errors, missing files and bad env overrides together', async () => {
    const r = await runTs(
      ENTRY.grantctl,
      [
        '--config',
        'test/fixtures/config/not-ok/broken-syntax.yaml',
        '--config',
        'no/such/file.yaml',
        'config',
        'check',
      ],
      {
        env: {
          GRANTSTREAM__STACK__REGISTRY__HEAP_MB: 'lots',
          GRANTSTREAM__KAFKA__NO_SUCH_SETTING: '1',
        },
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('broken-syntax.yaml: YAML');
    expect(r.stderr).toContain('no/such/file.yaml: file not found');
    expect(r.stderr).toContain('env GRANTSTREAM__STACK__REGISTRY__HEAP_MB: stack.registry.heapMb');
    expect(r.stderr).toMatch(/kafka: Unrecognized key: "noSuchSetting"/);
  });

  it('stops the stack command before it starts anything', async () => {
    const r = await runTs(ENTRY.stack, ['status'], {
      env: { GRANTSTREAM__STACK__KAFKA__PORT: '80' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('env GRANTSTREAM__STACK__KAFKA__PORT: stack.kafka.port: Too small');
  });
});
