import { ENTRY, runTs } from '@grantstream/testing';
import { CLUSTER_ENV } from './support/cluster';

/**
 * Once per run of the cluster scenarios: the three-node cluster up (its own
 * ports and state folder, beside the single-node stack), and down at the end,
 * with the same stack commands a user runs.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  const up = await runTs(ENTRY.stack, ['up', '--cluster'], { env: CLUSTER_ENV });
  if (up.code !== 0)
    throw new Error(`stack up --cluster exited ${up.code}\n${up.stdout}\n${up.stderr}`);
  process.stdout.write(
    `${JSON.stringify({ cluster: 'up', ms: Date.now() - started, actions: up.stdout.trim().split('\n') })}\n`,
  );
  return async () => {
    const down = await runTs(ENTRY.stack, ['down', '--cluster'], { env: CLUSTER_ENV });
    if (down.code !== 0)
      throw new Error(`stack down --cluster exited ${down.code}\n${down.stderr}`);
  };
}
