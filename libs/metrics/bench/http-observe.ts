/**
 * What the request metrics cost per request: HttpMetrics.requestStarted + requestFinished (one
 * counter increment, one histogram observation, the label children looked up) over a realistic
 * mix of label sets, in ns per request. Run: npx tsx --tsconfig tsconfig.base.json libs/metrics/bench/http-observe.ts
 */
import { HttpMetrics, Registry } from '@puhui/metrics';

const REQUESTS = 2_000_000;
const OPERATIONS = ['captureCheckout', 'authorizeCheckout', 'getCheckout', 'healthz', 'unmatched'];
const STATUSES = [200, 201, 200, 409, 503];

const metrics = new HttpMetrics(new Registry());
for (let round = 0; round < 3; round += 1) {
  const startedAt = process.hrtime.bigint();
  for (let request = 0; request < REQUESTS; request += 1) {
    metrics.requestStarted();
    metrics.requestFinished(
      OPERATIONS[request % OPERATIONS.length] as string,
      'POST',
      STATUSES[request % STATUSES.length] as number,
      0.003 + (request % 100) / 1000,
    );
  }
  const nsPerRequest = Number(process.hrtime.bigint() - startedAt) / REQUESTS;
  process.stdout.write(
    `round ${round + 1}: ${nsPerRequest.toFixed(0)} ns per request (${REQUESTS} requests)\n`,
  );
}
