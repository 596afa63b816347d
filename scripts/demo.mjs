// `npm run demo`: the walk-through (tools/demo) against a running Puhui. If the services are
// not running, it starts them (logs in infra/.run/logs/), loads the demo programme, runs the
// walk-through and stops them again.
import path from 'node:path';
import { allReady, loadDemoData, root, run, runScript, startSystem, waitUntilReady } from './system.mjs';

function walkThrough() {
  return runScript('tools', 'demo', 'dist', 'demo.js');
}

let code;
if (await allReady()) {
  console.log('Puhui is running: walking through it.');
  run('npx', ['turbo', 'run', 'build', '--filter=@puhui/demo', '--output-logs=errors-only'], { quiet: true });
  code = await walkThrough();
} else {
  const logs = path.join(root, 'infra', '.run', 'logs');
  console.log(`Puhui is not running: starting it (service logs in ${path.relative(root, logs)}/) …`);
  let failed;
  const system = startSystem({ logTo: logs, onExit: (reason) => (failed = reason) });
  const stop = () => system.stop().then(() => process.exit(130));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await waitUntilReady();
    code = (await loadDemoData()) || (await walkThrough());
  } catch (error) {
    console.error(String(error));
    code = 1;
  }
  if (failed !== undefined) console.error(`a service stopped during the demo: ${failed}`);
  await system.stop();
  console.log('services stopped.');
}
process.exit(code);
