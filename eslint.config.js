import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only src/config.ts (and tests/bench/cli entry points) read process.env.',
        },
      ],
    },
  },
  // bin/, scripts/ and examples/ are plain JavaScript run by Node, entry points that may read the environment.
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'examples/**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', URL: 'readonly', console: 'readonly', fetch: 'readonly', setTimeout: 'readonly' },
    },
    rules: { 'no-restricted-syntax': 'off' },
  },
  // The pages' scripts run in the browser (src/ui/assets/): its globals, no Node ones.
  {
    files: ['src/ui/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'history',
          'fetch',
          'AbortController',
          'setTimeout',
          'clearTimeout',
          'URLSearchParams',
          'DOMParser',
          'Promise',
          'navigator',
          'console',
          'confirm',
          'Intl',
          'HTMLDialogElement',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: [
      'src/config.ts',
      'src/main.ts',
      'src/compose/create-gatekeeper.ts',
      'src/cli/**',
      'test/**',
      'bench/**',
      'vitest.config.ts',
      'src/store/postgres/embedded.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
