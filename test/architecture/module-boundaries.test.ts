// Guarantee: the architecture is enforced by lint, not by goodwill. A lib that
// imports a service, contracts that import anything of ours, a service that
// imports another service, or kafkajs outside libs/kafka fail the build.
import { ESLint } from 'eslint';
import { createProjectGraphAsync } from '@nx/devkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from '@grantstream/testing';

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: WORKSPACE_ROOT });
  const [result] = await eslint.lintText(code, { filePath: `${WORKSPACE_ROOT}/${filePath}` });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('module boundaries', () => {
  beforeAll(async () => {
    // The Nx rule reads the cached project graph and is silently skipped without one.
    await createProjectGraphAsync({ exitOnError: true });
  }, 120_000);

  it('refuses contracts importing another lib', async () => {
    const ids = await ruleIdsFor(
      'libs/contracts/src/lib/naming.ts',
      "import { createLogger } from '@grantstream/logging';\nexport const l = createLogger;\n",
    );
    expect(ids).toContain('@nx/enforce-module-boundaries');
  });

  it('refuses a shared lib importing the runtime lib', async () => {
    const ids = await ruleIdsFor(
      'libs/config/src/lib/fragments.ts',
      "import { createKafka } from '@grantstream/kafka';\nexport const k = createKafka;\n",
    );
    expect(ids).toContain('@nx/enforce-module-boundaries');
  });

  it('refuses kafkajs outside libs/kafka and allows it inside', async () => {
    const code = "import { Kafka } from 'kafkajs';\nexport const K = Kafka;\n";
    expect(await ruleIdsFor('tools/grantctl/src/commands/context.ts', code)).toContain(
      'no-restricted-imports',
    );
    expect(await ruleIdsFor('libs/kafka/src/lib/kafka-client.ts', code)).not.toContain(
      'no-restricted-imports',
    );
  });

  it('allows a tool to use the libs', async () => {
    const ids = await ruleIdsFor(
      'tools/grantctl/src/commands/context.ts',
      "import { TOPICS } from '@grantstream/contracts';\nexport const t = TOPICS;\n",
    );
    expect(ids).not.toContain('@nx/enforce-module-boundaries');
  });
});
