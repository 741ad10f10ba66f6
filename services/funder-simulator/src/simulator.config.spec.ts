import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { simulatorConfigSchema } from './simulator.config';

function problemsOf(yaml: string): readonly string[] {
  const dir = mkdtempSync(join(tmpdir(), 'gs-sim-config-'));
  const file = join(dir, 'sim.yaml');
  writeFileSync(file, yaml);
  try {
    loadConfig({ schema: simulatorConfigSchema, files: [DEFAULT_CONFIG_FILE, file] });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('simulator configuration', () => {
  it('the shipped config/grantstream.yaml parses, with the three example funders', () => {
    const config = loadConfig({ schema: simulatorConfigSchema, files: [DEFAULT_CONFIG_FILE] });
    expect(config.simulator.host).toBe('127.0.0.1');
    expect(Object.keys(config.simulator.funders).sort()).toEqual(['BCF', 'NSF', 'SCDA']);
    expect(config.simulator.funders['NSF']).toMatchObject({
      token: 'sim-nsf-token',
      rateLimitPerSecond: 20,
      timeoutDelayMs: 30000,
    });
  });

  it('takes overrides from the environment like every service', () => {
    const config = loadConfig({
      schema: simulatorConfigSchema,
      files: [DEFAULT_CONFIG_FILE],
      env: { GRANTSTREAM__SIMULATOR__PORT: '0', GRANTSTREAM__SIMULATOR__FUNDERS__NSF__BURST: '3' },
    });
    expect(config.simulator.port).toBe(0);
    expect(config.simulator.funders['NSF']?.burst).toBe(3);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      [
        'simulator:',
        '  port: 70000',
        '  funders:',
        '    NSF:',
        '      serverErrorRate: 1.5',
        '      latencyMs: { min: 200, max: 100 }',
        '      colour: red',
        '    nsf-lower: { token: x }',
      ].join('\n'),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/simulator\.port: Too big/),
        expect.stringMatching(/simulator\.funders\.NSF\.serverErrorRate: Too big/),
        expect.stringMatching(/simulator\.funders\.NSF: Unrecognized key: "colour"/),
        expect.stringMatching(/simulator\.funders\.NSF\.latencyMs: latencyMs\.min must not exceed/),
        expect.stringMatching(/simulator\.funders\.nsf-lower: expected a funder id/),
      ]),
    );
  });

  it('refuses timeout and drop rates that add up past 1', () => {
    expect(
      problemsOf('simulator:\n  funders:\n    NSF:\n      timeoutRate: 0.6\n      dropRate: 0.6\n'),
    ).toEqual([
      expect.stringMatching(/simulator\.funders\.NSF\.dropRate: timeoutRate \+ dropRate/),
    ]);
  });
});
