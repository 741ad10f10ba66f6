import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from '@grantstream/harness';
import { BUNDLE_DIR, bundleService, rewriteDirname } from './bundle';

/** What NestJS requires lazily (transports, validators, websockets) and we do not install. */
const NEST_LAZY_OPTIONAL = new Set([
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  '@nestjs/platform-express',
  '@nestjs/websockets',
  '@nestjs/websockets/socket-module',
  'amqp-connection-manager',
  'amqplib',
  'cache-manager',
  'class-transformer',
  'class-validator',
  'mqtt',
  'nats',
]);

describe('rewriteDirname', () => {
  it.each([
    ['libs/config/src/lib', 'dist/bundles/routing', '../../../libs/config/src/lib'],
    ['libs/harness/src/lib', 'dist/bundles/ingest', '../../../libs/harness/src/lib'],
    ['dist/bundles/routing', 'dist/bundles/routing', ''],
  ])('makes %s resolvable from a bundle in %s', (source, bundle, expected) => {
    const code = "const f = resolve(__dirname, '../../../../package.json'); const g = __dirname;";
    const out = rewriteDirname(code, `/w/${source}`, `/w/${bundle}`);
    const call = `require('node:path').join(__dirname, ${JSON.stringify(expected)})`;
    expect(out).toBe(`const f = resolve(${call}, '../../../../package.json'); const g = ${call};`);
    expect(resolve(`/w/${bundle}`, expected)).toBe(`/w/${source}`);
  });

  it('leaves identifiers that merely contain the name alone', () => {
    expect(rewriteDirname('const my__dirname2 = 1;', '/w/a', '/w/b')).toBe(
      'const my__dirname2 = 1;',
    );
  });
});

// One real bundle, run where no node_modules can be found: it must load every
// module it needs from itself and find config/ and package.json in the
// workspace layout the image reproduces.
describe('a service bundle', () => {
  const app = mkdtempSync(join(tmpdir(), 'grantstream-bundle-'));
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('runs without node_modules and reads the workspace config (exit 2 on a bad override)', async () => {
    const result = await bundleService('routing', { outRoot: join(app, BUNDLE_DIR) });
    expect(result.file).toBe(join(app, BUNDLE_DIR, 'routing', 'main.js'));
    for (const absent of result.absentOptional) expect(NEST_LAZY_OPTIONAL).toContain(absent);

    cpSync(join(WORKSPACE_ROOT, 'config'), join(app, 'config'), { recursive: true });
    cpSync(join(WORKSPACE_ROOT, 'package.json'), join(app, 'package.json'));
    // Configuration is validated before anything connects: no broker is needed.
    const run = spawnSync(process.execPath, [result.file], {
      cwd: app,
      env: { PATH: process.env['PATH'], GRANTSTREAM__ROUTING__METRICS__PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toContain('routing.metrics.port');
    expect(run.stderr).toContain('env GRANTSTREAM__ROUTING__METRICS__PORT');
    expect(run.status).toBe(2);
  }, 120_000);
});
