import js from '@eslint/js';
import globals from 'globals';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.turbo/**',
      '**/.jest/**',
      'infra/.cache/**',
      'infra/.run/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  // The console's web app runs in the browser.
  {
    files: ['services/console/web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['scripts/**', 'infra/**', 'tests/**', '**/test/**', '**/bench/**'],
    rules: { 'no-console': 'off' },
  },
  // Layering (STYLE.md): only a service's http/ imports express, only store/ imports pg.
  {
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['express', 'pg', 'kafkajs', 'ioredis'] }],
    },
  },
  // A view turns domain data into a response body: it reads domain/ and libs only, so that
  // commands (which store an idempotent answer) and routes can both use it.
  {
    files: ['services/*/src/views/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['express', 'pg', 'kafkajs', 'ioredis'],
          patterns: ['../commands/*', '../store/*', '../http/*', '../consumers/*'],
        },
      ],
    },
  },
  prettier,
);
