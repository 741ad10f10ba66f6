import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { generate } from './generate';

/**
 * `npm run codegen` regenerates libs/contracts/src/generated from schemas/;
 * `npm run codegen -- --check` changes nothing and exits 1 when the committed
 * files are stale, so CI fails before a schema and its types drift apart.
 */
function main(argv: readonly string[]): number {
  const root = resolve(__dirname, '../../..');
  const schemasDir = join(root, 'schemas');
  const outDir = join(root, 'libs/contracts/src/generated');
  const check = argv.includes('--check');
  const files = generate(schemasDir);
  const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.ts')) : [];
  const stale = [...files].filter(([name, text]) => {
    const path = join(outDir, name);
    return !existsSync(path) || readFileSync(path, 'utf8') !== text;
  });
  const extra = existing.filter((name) => !files.has(name));
  if (check) {
    if (stale.length === 0 && extra.length === 0) {
      process.stdout.write('codegen: generated contracts are up to date\n');
      return 0;
    }
    for (const [name] of stale) process.stderr.write(`stale: ${join(outDir, name)}\n`);
    for (const name of extra) process.stderr.write(`not generated: ${join(outDir, name)}\n`);
    process.stderr.write('codegen: run `npm run codegen` and commit the result\n');
    return 1;
  }
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of stale) writeFileSync(join(outDir, name), text);
  for (const name of extra) unlinkSync(join(outDir, name));
  process.stdout.write(
    `codegen: ${stale.length} file(s) written, ${extra.length} removed, ${files.size - stale.length} unchanged\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
