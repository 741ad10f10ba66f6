// Type-checked lint for the whole workspace. Module boundaries are the
// architecture (services -> libs, never libs -> services, no service -> service,
// contracts depend on nothing) and fail the build when crossed.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const kafkaClientOnlyInLibsKafka = {
  patterns: [
    {
      group: [
        'kafkajs',
        'kafkajs/*',
        '@kafkajs/*',
        '@grantstream/kafkajs-extended',
        '@grantstream/kafkajs-extended/*',
      ],
      message: 'Only libs/kafka may import the Kafka client or the registry client.',
    },
  ],
};

// Private modules of libraries we depend on, forbidden everywhere (libs/kafka
// included): they change in any release without notice, e.g. Nest's metadata
// key constants or kafkajs's src/ tree, which its package does not export.
// Narrow on purpose: only paths that are internal beyond doubt, so public
// subpaths (`zod/v4`, `vitest/config`, `node:fs/promises`) stay allowed.
const libraryInternals = {
  group: [
    '@nestjs/*/constants',
    'kafkajs/src/*',
    '@grantstream/kafkajs-extended/src/*',
    '@grantstream/kafkajs-extended/extended/*',
    '@kafkajs/confluent-schema-registry/dist/*',
    'avsc/lib/*',
    'rxjs/internal/*',
  ],
  message:
    "A library's private module: import its public entry point; internals change without notice.",
};

// @StageEvent binds a stage method's (message, context) with @Payload() and
// @Ctx() itself; a parameter decorator of the method's own would be replaced
// without a word, so it is refused here instead.
const stageEventParameterDecorators = {
  selector:
    'MethodDefinition:has(Decorator > CallExpression > Identifier.callee[name="StageEvent"]) > FunctionExpression > .params > Decorator',
  message:
    'A @StageEvent method receives (message, context) as StageEvent binds them: no parameter decorators.',
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.nx/**',
      '**/*.mjs',
      '**/*.mts',
      // kafkajs's JavaScript, linted by node --check (its own project).
      'libs/kafkajs-extended/**',
    ],
  },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [...kafkaClientOnlyInLibsKafka.patterns, libraryInternals] },
      ],
      'no-restricted-syntax': ['error', stageEventParameterDecorators],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: ['scope:contracts'] },
            {
              sourceTag: 'scope:shared',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts'],
            },
            {
              sourceTag: 'scope:runtime',
              onlyDependOnLibsWithTags: ['scope:runtime', 'scope:shared', 'scope:contracts'],
            },
            {
              sourceTag: 'scope:testing',
              onlyDependOnLibsWithTags: [
                'scope:testing',
                'scope:runtime',
                'scope:shared',
                'scope:contracts',
              ],
            },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/kafka/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [libraryInternals] }] },
  },
  {
    // Domain code decides; it does no I/O and knows no framework.
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...kafkaClientOnlyInLibsKafka.patterns,
            libraryInternals,
            {
              group: [
                '@nestjs/*',
                'pino',
                'bottleneck',
                '@grantstream/kafka',
                'node:*',
                'fs',
                'fs/*',
                'net',
                'http',
                'https',
                'child_process',
              ],
              message: 'Domain code is pure: no framework, logging, broker or Node I/O imports.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  prettier,
);
