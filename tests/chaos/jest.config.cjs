// One scenario file at a time: each runs the three services and loads the 2-core machine.
// CHAOS_FULL=1 (root `npm run test:chaos`) selects the long figures of every scenario.
module.exports = {
  ...require('../../jest.base.cjs')(__dirname, { infrastructure: true }),
  maxWorkers: 1,
  testTimeout: 10 * 60_000,
};
