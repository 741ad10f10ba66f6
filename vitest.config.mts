import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const alias = {
  '@grantstream/contracts': src('./libs/contracts/src/index.ts'),
  '@grantstream/config': src('./libs/config/src/index.ts'),
  '@grantstream/errors': src('./libs/errors/src/index.ts'),
  '@grantstream/logging': src('./libs/logging/src/index.ts'),
  '@grantstream/kafka': src('./libs/kafka/src/index.ts'),
  '@grantstream/testing': src('./libs/testing/src/index.ts'),
  '@grantstream/audit': src('./libs/audit/src/index.ts'),
  '@grantstream/rules': src('./libs/rules/src/index.ts'),
  '@grantstream/storage': src('./libs/storage/src/index.ts'),
  '@grantstream/harness': src('./libs/harness/src/index.ts'),
  '@grantstream/funders': src('./libs/funders/src/index.ts'),
  '@grantstream/intake': src('./libs/intake/src/index.ts'),
  '@grantstream/dead-letters': src('./libs/dead-letters/src/index.ts'),
  '@grantstream/read-model': src('./libs/read-model/src/index.ts'),
};

const unit = (name: string, root: string) => ({
  resolve: { alias },
  test: { name, include: [`${root}/src/**/*.spec.ts`], environment: 'node' },
});

export default defineConfig({
  test: {
    projects: [
      unit('contracts', 'libs/contracts'),
      unit('errors', 'libs/errors'),
      unit('audit', 'libs/audit'),
      unit('logging', 'libs/logging'),
      unit('config', 'libs/config'),
      unit('kafka', 'libs/kafka'),
      unit('stack', 'tools/stack'),
      unit('grantctl', 'tools/grantctl'),
      unit('codegen', 'tools/codegen'),
      unit('rules', 'libs/rules'),
      unit('storage', 'libs/storage'),
      unit('ingest', 'services/ingest'),
      unit('normalization', 'services/normalization'),
      unit('routing', 'services/routing'),
      unit('examples', 'examples'),
      unit('funders', 'libs/funders'),
      unit('intake', 'libs/intake'),
      unit('testing', 'libs/testing'),
      unit('funder-simulator', 'services/funder-simulator'),
      unit('submission', 'services/submission'),
      unit('status-polling', 'services/status-polling'),
      unit('notification', 'services/notification'),
      unit('checkpointer', 'services/checkpointer'),
      unit('dead-letters', 'libs/dead-letters'),
      unit('read-model', 'libs/read-model'),
      unit('console', 'services/console'),
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Scenarios share one broker; each uses its own topics, but the stack
          // lifecycle scenario restarts processes, so files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
