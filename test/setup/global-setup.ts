import { ENTRY, runTs } from '@grantstream/testing';

/**
 * Once per test run: bring up the real local stack (a no-op when it already
 * runs) and apply the declared topics, with the same commands a user runs.
 * The stack is left running for the next run; .ci/run stops it in CI.
 */
export default async function setup(): Promise<void> {
  for (const [entry, args] of [
    [ENTRY.stack, ['up']],
    [ENTRY.grantctl, ['topics', 'apply']],
  ] as const) {
    const r = await runTs(entry, args);
    if (r.code !== 0) {
      throw new Error(`${entry} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
  }
}
