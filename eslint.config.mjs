// @ts-check
import { builtinModules } from 'node:module';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.local/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-console': 'off',
    },
  },
  {
    // Orchestrators are replayed: every run must produce the same actions, so no I/O, clocks,
    // randomness, environment or node builtins may reach them.
    files: ['orchestrators/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Orchestrators replay: do I/O in an activity.',
          })),
          patterns: [
            {
              group: ['@azure/*', 'axios', 'uuid', 'fastify', '@duckdb/*', 'zod'],
              allowTypeImports: true,
              message: 'Orchestrators replay: do I/O in an activity.',
            },
            {
              group: ['../activities/*', '!../activities/contracts', '!../activities/contracts.js'],
              message: 'Orchestrators import activities/contracts only.',
            },
            {
              group: [
                '../aml/*',
                '../triggers/*',
                '../functions/*',
                '../local/*',
                '../training/*',
                '../inference/*',
                '../telemetry/*',
              ],
              message:
                'Layer violation: orchestrators import only durable-functions and activities/contracts.',
            },
            { group: ['durable-functions/lib/*'], message: 'Do not import durable-functions internals.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Configuration comes from the orchestration input.' },
        { name: 'setTimeout', message: 'Use context.df.createTimer.' },
        { name: 'setInterval', message: 'Use context.df.createTimer.' },
        { name: 'fetch', message: 'Do I/O in an activity.' },
        { name: 'crypto', message: 'Use context.df.newGuid.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use context.df.currentUtcDateTime.' },
        { object: 'Math', property: 'random', message: 'Get randomness from an activity.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Use context.df.currentUtcDateTime.',
        },
        { selector: ':function[async=true]', message: 'Orchestrators are synchronous generators.' },
      ],
    },
  },
  {
    // Telemetry is a leaf every layer may use: it knows OpenTelemetry and nothing of the app.
    files: ['telemetry/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../functions/*',
                '../triggers/*',
                '../orchestrators/*',
                '../activities/*',
                '../aml/*',
                '../training/*',
                '../inference/*',
                '../local/*',
                '../dashboard/*',
              ],
              message: 'telemetry/ is a leaf: it imports nothing of the app.',
            },
          ],
        },
      ],
    },
  },
  {
    // The local host hosts any Functions app: it must not know this one.
    files: ['local/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../functions/*',
                '../triggers/*',
                '../orchestrators/*',
                '../activities/*',
                '../aml/*',
                '../training/*',
                '../inference/*',
                '../../functions/*',
                '../../triggers/*',
                '../../orchestrators/*',
                '../../activities/*',
                '../../aml/*',
                '../../training/*',
                '../../inference/*',
              ],
              message: 'local/ hosts any Functions app and imports nothing of this one.',
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard's view models read the port and the sagas' records; the HTTP functions live in triggers/.
    files: ['dashboard/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/functions', 'durable-functions'],
              allowTypeImports: true,
              message: 'dashboard/ builds views; the HTTP functions are in triggers/dashboardHttp.ts.',
            },
            {
              group: [
                '../functions/*',
                '../triggers/*',
                '../local/*',
                '../inference/*',
                '../aml/local/*',
                '../aml/azure/*',
              ],
              message:
                'dashboard/ sees the platform port only, never functions/, triggers/, local/ or an adapter.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['training/**/*.ts', 'inference/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@azure/functions',
                'durable-functions',
                '**/functions/*',
                '**/triggers/*',
                '**/orchestrators/*',
                '**/activities/*',
              ],
              message: 'training/ and inference/ never import Azure Functions code.',
            },
          ],
        },
      ],
    },
  },
);
