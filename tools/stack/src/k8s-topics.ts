import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generatedK8sFiles } from './k8s-generated';

/**
 * `npm run k8s:topics` regenerates the Strimzi KafkaTopic resources (from
 * schemas/topics.yaml) and the configuration ConfigMaps (from
 * config/grantstream.yaml and the rule packs) under k8s/base;
 * `npm run k8s:topics -- --check` changes nothing and exits 1 when they are stale.
 */
async function main(argv: readonly string[]): Promise<number> {
  const root = resolve(__dirname, '../../..');
  const check = argv.includes('--check');
  const files = await generatedK8sFiles(root);
  const stale = [...files].filter(([path, text]) => {
    const file = join(root, path);
    return !existsSync(file) || readFileSync(file, 'utf8') !== text;
  });
  if (check) {
    for (const [path] of stale) process.stderr.write(`stale: ${path}\n`);
    if (stale.length > 0) process.stderr.write('k8s: run `npm run k8s:topics` and commit\n');
    return stale.length === 0 ? 0 : 1;
  }
  for (const [path, text] of stale) writeFileSync(join(root, path), text);
  process.stdout.write(
    `k8s: ${stale.length} file(s) written, ${files.size - stale.length} unchanged\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
