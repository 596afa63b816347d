// Shared Jest settings: every workspace's jest.config.cjs calls this with its own folder.
// Tests import workspace libraries from source (no build needed) and find their
// infrastructure through @puhui/testing's global setup when they ask for it.
const path = require('node:path');

const MINUTE_MS = 60_000;

module.exports = (packageDir, { infrastructure = false } = {}) => ({
  rootDir: packageDir,
  displayName: path.basename(packageDir),
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: {
    '^@puhui/demo$': path.join(__dirname, 'tools/demo/src'),
    '^@puhui/([a-z-]+)$': path.join(__dirname, 'libs/$1/src'),
  },
  // Workspaces whose tests touch Postgres, Redis or Kafka find them once per run.
  ...(infrastructure
    ? {
        globalSetup: path.join(__dirname, 'libs/testing/src/global-setup.ts'),
        globalTeardown: path.join(__dirname, 'libs/testing/src/global-teardown.ts'),
      }
    : {}),
  testTimeout: 2 * MINUTE_MS,
  // Results for scripts/test.mjs, which prints the one summary line CI reads.
  reporters: ['default', [path.join(__dirname, 'scripts/jest-results-reporter.cjs'), {}]],
});
