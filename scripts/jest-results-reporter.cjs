// Writes this workspace's pass/fail counts to .jest/results.json so that
// scripts/test.mjs can add up every workspace into one summary line.
const fs = require('node:fs');
const path = require('node:path');

class JestResultsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const directory = path.join(this.rootDir, '.jest');
    fs.mkdirSync(directory, { recursive: true });
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suites_failed: results.numFailedTestSuites,
    };
    fs.writeFileSync(path.join(directory, 'results.json'), JSON.stringify(summary) + '\n');
  }
}

module.exports = JestResultsReporter;
