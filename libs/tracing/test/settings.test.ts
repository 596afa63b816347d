import { context, propagation, trace } from '@opentelemetry/api';
import { loadTracingSettings, startTracing } from '@puhui/tracing';

describe('tracing settings', () => {
  it('are off by default, named after the service, posting to the local collector when turned on', () => {
    expect(loadTracingSettings('discount-rules', {})).toEqual({
      exporter: 'none',
      tracesEndpoint: 'http://localhost:4318/v1/traces',
      serviceName: 'discount-rules',
    });
    expect(
      loadTracingSettings('discount-rules', { OTEL_TRACES_EXPORTER: '  ', OTEL_SERVICE_NAME: '' }).exporter,
    ).toBe('none');
  });

  it('append /v1/traces to the base endpoint, and take the traces endpoint as it is', () => {
    const environment = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    };
    expect(loadTracingSettings('console', environment).tracesEndpoint).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      loadTracingSettings('console', {
        ...environment,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp/spans',
        OTEL_SERVICE_NAME: 'console-blue',
      }),
    ).toEqual({
      exporter: 'otlp',
      tracesEndpoint: 'https://traces.example/otlp/spans',
      serviceName: 'console-blue',
    });
  });

  it('refuse an exporter or an endpoint they do not know, by name', () => {
    expect(() => loadTracingSettings('console', { OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /OTEL_TRACES_EXPORTER/u,
    );
    expect(() => loadTracingSettings('console', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/u,
    );
  });
});

describe('startTracing with tracing off', () => {
  it('registers nothing: spans do not record, nothing is propagated, no context is kept', () => {
    const tracing = startTracing({ service: 'merchant-onboarding', environment: {} });
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier).toEqual({});
    expect(propagation.fields()).toEqual([]);
    context.with(trace.setSpan(context.active(), span), () => {
      expect(trace.getActiveSpan()).toBeUndefined();
    });
  });
});
