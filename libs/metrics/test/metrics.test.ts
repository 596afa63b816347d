import {
  HttpMetrics,
  Registry,
  cachedReading,
  createMetricsRegistry,
  parseMetricsText,
  sampleValue,
  statusClassOf,
} from '@puhui/metrics';

async function samplesOf(registry: Registry) {
  const samples = parseMetricsText(await registry.metrics());
  expect(samples.length).toBeGreaterThan(0);
  return samples;
}

describe('the registry', () => {
  it("labels every series with the service and collects Node's defaults", async () => {
    const samples = await samplesOf(createMetricsRegistry('widget-service'));
    expect(samples.every((sample) => sample.labels.service === 'widget-service')).toBe(true);
    expect(samples.map((sample) => sample.name)).toEqual(
      expect.arrayContaining(['nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes']),
    );
  });
});

describe('Node defaults', () => {
  it('are collected once per process and shown by every registry under its own service', async () => {
    const [first, second] = [createMetricsRegistry('first-service'), createMetricsRegistry('second-service')];
    const memoryOf = async (registry: Registry) =>
      (await samplesOf(registry)).filter((sample) => sample.name === 'process_resident_memory_bytes');
    expect((await memoryOf(first)).map((sample) => sample.labels)).toEqual([{ service: 'first-service' }]);
    expect((await memoryOf(second)).map((sample) => sample.labels)).toEqual([{ service: 'second-service' }]);
    expect(first.getSingleMetric('nodejs_eventloop_lag_seconds')).toBeDefined();
    expect(first.getSingleMetric('nodejs_eventloop_lag_seconds')).toBe(
      second.getSingleMetric('nodejs_eventloop_lag_seconds'),
    );
  });
});

describe('HttpMetrics', () => {
  it('counts and times per operation, method and status class, keeping unknown methods bounded', async () => {
    const registry = new Registry();
    const metrics = new HttpMetrics(registry);
    for (const [method, status] of [
      ['GET', 200],
      ['GET', 204],
      ['GET', 503],
      ['BREW', 418],
    ] as const) {
      metrics.requestStarted();
      metrics.requestFinished('getWidget', method, status, 0.02);
    }
    metrics.requestStarted();
    const samples = await samplesOf(registry);
    const labels = { operation: 'getWidget', method: 'GET' };
    expect(sampleValue(samples, 'puhui_http_requests_total', { ...labels, status_class: '2xx' })).toBe(2);
    expect(sampleValue(samples, 'puhui_http_requests_total', { ...labels, status_class: '5xx' })).toBe(1);
    expect(sampleValue(samples, 'puhui_http_requests_total', { method: 'OTHER', status_class: '4xx' })).toBe(
      1,
    );
    expect(
      sampleValue(samples, 'puhui_http_request_duration_seconds_bucket', {
        ...labels,
        status_class: '2xx',
        le: '0.025',
      }),
    ).toBe(2);
    expect(
      sampleValue(samples, 'puhui_http_request_duration_seconds_bucket', {
        ...labels,
        status_class: '2xx',
        le: '0.01',
      }),
    ).toBe(0);
    expect(sampleValue(samples, 'puhui_http_requests_in_flight')).toBe(1);
  });

  it('classes statuses', () => {
    expect([101, 200, 302, 404, 500, 599, 99, 700].map(statusClassOf)).toEqual([
      '1xx',
      '2xx',
      '3xx',
      '4xx',
      '5xx',
      '5xx',
      '5xx',
      '5xx',
    ]);
  });
});

describe('cachedReading', () => {
  it('reads once per age, shares a read under way, and keeps the last value when a read fails', async () => {
    const registry = new Registry();
    let nowMs = 0;
    let reads = 0;
    let failing = false;
    const reading = cachedReading({
      registry,
      collector: 'widgets',
      now: () => nowMs,
      read: async () => {
        reads += 1;
        if (failing) throw new Error('database away');
        return reads;
      },
    });
    expect(await Promise.all([reading(), reading(), reading()])).toEqual([1, 1, 1]);
    nowMs = 4999;
    expect(await reading()).toBe(1);
    nowMs = 5000;
    expect(await reading()).toBe(2);
    failing = true;
    nowMs = 10_000;
    expect(await reading()).toBe(2);
    expect(reads).toBe(3);
    const samples = await samplesOf(registry);
    expect(sampleValue(samples, 'puhui_metrics_collect_errors_total', { collector: 'widgets' })).toBe(1);
  });
});

describe('cachedReading of a dependency that stops answering', () => {
  it('answers the scrape with the last value after waitMs, counts it, and lets the read finish for later', async () => {
    const registry = new Registry();
    let release: (value: number) => void = () => undefined;
    let reads = 0;
    let nowMs = 0;
    const reading = cachedReading({
      registry,
      collector: 'stuck',
      waitMs: 50,
      now: () => nowMs,
      read: () => {
        reads += 1;
        return reads === 1 ? Promise.resolve(1) : new Promise<number>((resolve) => (release = resolve));
      },
    });
    expect(await reading()).toBe(1);
    nowMs = 10_000;
    expect(await reading()).toBe(1);
    expect(await reading()).toBe(1);
    expect(reads).toBe(2);
    const samples = await samplesOf(registry);
    expect(sampleValue(samples, 'puhui_metrics_collect_errors_total', { collector: 'stuck' })).toBe(2);
    release(7);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await reading()).toBe(7);
  });
});

describe('parseMetricsText', () => {
  it('reads escaped label values and infinities', () => {
    const samples = parseMetricsText(
      [
        '# HELP x_total help',
        '# TYPE x_total counter',
        'x_total{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 3',
        'y_bucket{le="+Inf"} 4',
        'z 1.5e-3',
      ].join('\n'),
    );
    expect(samples).toEqual([
      { name: 'x_total', labels: { a: 'q"uote', b: 'back\\slash', c: 'new\nline' }, value: 3 },
      { name: 'y_bucket', labels: { le: '+Inf' }, value: 4 },
      { name: 'z', labels: {}, value: 0.0015 },
    ]);
  });
});
