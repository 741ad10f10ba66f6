import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '@grantstream/errors';
import { loadConfig } from './load-config';

const schema = z.object({
  kafka: z.strictObject({
    brokers: z.array(z.string()).min(1),
    controllerPort: z.number().int().max(65535),
  }),
  logging: z.strictObject({ level: z.enum(['info', 'debug']) }),
});

function files(...contents: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'gs-config-'));
  return contents.map((c, i) => {
    const f = join(dir, `f${i}.yaml`);
    writeFileSync(f, c);
    return f;
  });
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  const base = 'kafka:\n  brokers: [a:1]\n  controllerPort: 9093\nlogging:\n  level: info\n';

  it('merges files in order, later files winning key by key', () => {
    const [a, b] = files(base, 'kafka:\n  controllerPort: 19093\n');
    expect(loadConfig({ schema, files: [a!, b!] })).toEqual({
      kafka: { brokers: ['a:1'], controllerPort: 19093 },
      logging: { level: 'info' },
    });
  });

  it('applies GRANTSTREAM__ overrides, matching camelCase keys and parsing YAML scalars', () => {
    const [a] = files(base);
    const cfg = loadConfig({
      schema,
      files: [a!],
      env: {
        GRANTSTREAM__KAFKA__CONTROLLER_PORT: '29093',
        GRANTSTREAM__KAFKA__BROKERS: '[x:1, y:2]',
        OTHER: 'x',
      },
    });
    expect(cfg.kafka).toEqual({ brokers: ['x:1', 'y:2'], controllerPort: 29093 });
  });

  it('reads extra files named by GRANTSTREAM_CONFIG', () => {
    const [a, b] = files(base, 'logging:\n  level: debug\n');
    expect(loadConfig({ schema, files: [a!], env: { GRANTSTREAM_CONFIG: b! } }).logging.level).toBe(
      'debug',
    );
  });

  it('reports every problem at once, each with its source', () => {
    const [a, broken] = files(
      'kafka:\n  brokers: []\n  controllerPort: 70000\n  extra: 1\nlogging:\n  level: loud\n',
      'logging: [unclosed\n',
    );
    const problems = problemsOf(() =>
      loadConfig({
        schema,
        files: [a!, broken!, '/nope.yaml'],
        env: { GRANTSTREAM__LOGGING__LEVEL: 'trace' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/f1\.yaml: YAML/),
        '/nope.yaml: file not found',
        expect.stringMatching(/f0\.yaml: kafka\.brokers: Too small/),
        expect.stringMatching(/f0\.yaml: kafka\.controllerPort: Too big/),
        expect.stringMatching(/f0\.yaml: kafka: Unrecognized key: "extra"/),
        expect.stringMatching(/env GRANTSTREAM__LOGGING__LEVEL: logging\.level: Invalid option/),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('refuses a file whose top level is not a mapping', () => {
    const [a] = files('- just\n- a list\n');
    expect(problemsOf(() => loadConfig({ schema, files: [a!] }))).toContainEqual(
      expect.stringMatching(/top level must be a mapping/),
    );
  });
});
