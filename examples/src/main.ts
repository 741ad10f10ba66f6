import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  COMMITTED_NOW,
  DEFAULT_COUNT,
  DEFAULT_SEED,
  checkExamples,
  generateExamples,
  writeExamples,
} from './index';

const USAGE = `usage: npm run examples -- [--out <dir>] [--now <ISO-8601|now>] [--count <n>] [--seed <n>] [--check]

  --out    where applications.jsonl, expected-outcomes.json and attachments/ go (default: examples/)
  --now    the instant deadlines are relative to (default ${COMMITTED_NOW}, the committed batch);
           "now" for the current time, for a batch to run through the pipeline today
  --count  number of applications (default ${DEFAULT_COUNT})
  --seed   seed of names, amounts and grant ids (default ${DEFAULT_SEED})
  --check  regenerate in memory and compare with the files in --out; exit 1 if they differ
`;

function fail(message: string): never {
  process.stderr.write(`examples: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseNow(value: string): number {
  if (value === 'now') return Date.now();
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || !Number.isFinite(ms)) {
    fail(`--now must be an ISO-8601 date-time or "now", not ${value}`);
  }
  return ms;
}

function parseInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) fail(`--${name} must be a non-negative integer, not ${value}`);
  return Number(value);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string' },
        now: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const outDir = resolve(values.out ?? resolve(__dirname, '..'));
  const now = parseNow(values.now ?? COMMITTED_NOW);
  const generated = await generateExamples({
    now,
    count: parseInteger('count', values.count, DEFAULT_COUNT),
    seed: parseInteger('seed', values.seed, DEFAULT_SEED),
  });
  if (values.check) {
    const result = await checkExamples(outDir, generated);
    if (!result.ok) {
      process.stderr.write(
        `examples in ${outDir} are not what the generator makes for ${new Date(now).toISOString()}:\n` +
          result.differences.map((d) => `  ${d}\n`).join('') +
          'regenerate them with `npm run examples` and commit the result\n',
      );
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`examples in ${outDir} are up to date\n`);
    return;
  }
  const written = await writeExamples(outDir, generated);
  const { totals } = generated.expected;
  process.stdout.write(
    `${generated.applications.length} applications for ${generated.expected.generatedFor}: ` +
      `${totals.routed} routed, ${totals.blocked} blocked, ${totals.dlq} dead-lettered\n` +
      `${written.applicationsPath}\n${written.expectedPath}\n` +
      `${written.files} attachment file(s) under ${written.attachmentsDir}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`examples: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
