// No infrastructure: these tests read files and parse the services' settings; nothing connects.
module.exports = require('../../jest.base.cjs')(__dirname);
