// `npm start`: brings up the infrastructure, builds, runs every service of the registry
// (libs/config/src/services.json) as its own process with prefixed, readable logs, loads the
// demo programme once and prints what to try. Ctrl-C stops them all cleanly.
import { SERVICES, loadDemoData, runScript, serviceUrl, startSystem, waitUntilReady } from './system.mjs';

let stopping = false;
const system = startSystem({ onExit: (reason) => stop(reason) });

function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.log(`\nstopping (${reason}) …`);
  system.stop().then(() => {
    console.log('all services stopped; Kafka keeps running (npm run infra:down stops it)');
    process.exit(0);
  });
}
process.on('SIGINT', () => stop('Ctrl-C'));
process.on('SIGTERM', () => stop('SIGTERM'));

const width = Math.max(...SERVICES.map((service) => service.name.length));
console.log(`
Puhui is starting:
${SERVICES.map((service) => `  ${service.name.padEnd(width)}  ${serviceUrl(service)}  (/healthz, /readyz, /docs)`).join('\n')}
Press Ctrl-C to stop.
`);

try {
  await waitUntilReady();
} catch (error) {
  console.error(String(error));
  stop('not ready');
}
if (!stopping) {
  const code = await loadDemoData();
  if (code !== 0 && !stopping)
    console.error('the demo data did not load (see above); the services keep running');
  // The console's demo people (and where to sign in), with the featured demo merchant's staff.
  if (!stopping && (await runScript('services', 'console', 'dist', 'people', 'demo-main.js')) !== 0)
    console.error('the demo people were not created (see above)');
}
