import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import workspace from '../../vitest.config.mts';

/** The workspace's aliases, as the integration project declares them. */
function integrationAliases(): Record<string, string> {
  const projects = (workspace.test?.projects ?? []) as {
    test?: { name?: string };
    resolve?: { alias?: Record<string, string> };
  }[];
  const alias = projects.find((p) => p.test?.name === 'integration')?.resolve?.alias;
  if (!alias) throw new Error('vitest.config.mts has no integration project aliases');
  return alias;
}

/**
 * The failover scenarios on the local stack's three-node cluster mode
 * (`npm run test:cluster`). Apart from the integration project: they bring
 * their own cluster up and down, and run one file at a time (faults are
 * cluster-wide).
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: { alias: integrationAliases() },
  test: {
    name: 'cluster',
    include: ['test/cluster/**/*.scenario.ts'],
    environment: 'node',
    globalSetup: ['test/cluster/setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
