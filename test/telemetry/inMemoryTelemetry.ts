/**
 * Registers an OpenTelemetry SDK with in-memory exporters as the global providers (traces, metrics, logs), the way the App Insights
 * distro registers its own in Azure, so tests see exactly what the app emits and nothing leaves the process.
 */
import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** One recorded data point of a metric. */
export interface MetricPoint {
  name: string;
  attributes: Attributes;
  /** Histogram: the recorded values' sum; counter: its value. */
  sum: number;
  count: number;
  min?: number;
  max?: number;
}

/** The in-memory telemetry of a test file. */
export interface InMemoryTelemetry {
  spans(): ReadableSpan[];
  logRecords(): ReadableLogRecord[];
  /** Collects and returns every metric data point recorded so far. */
  metricPoints(): Promise<MetricPoint[]>;
  reset(): void;
  shutdown(): Promise<void>;
}

/** Installs in-memory trace and metric pipelines as the global OpenTelemetry providers. */
export function installInMemoryTelemetry(): InMemoryTelemetry {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when a test asks (forceFlush); the interval is never reached.
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  logs.setGlobalLoggerProvider(loggerProvider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    spans: () => spanExporter.getFinishedSpans(),
    logRecords: () => logExporter.getFinishedLogRecords(),
    async metricPoints() {
      await reader.forceFlush();
      const latest = metricExporter.getMetrics().at(-1);
      const points: MetricPoint[] = [];
      for (const scope of latest?.scopeMetrics ?? []) {
        for (const metric of scope.metrics) {
          for (const point of metric.dataPoints) {
            const value = point.value as number | { sum?: number; count: number; min?: number; max?: number };
            points.push(
              metric.dataPointType === DataPointType.HISTOGRAM && typeof value === 'object'
                ? {
                    name: metric.descriptor.name,
                    attributes: point.attributes,
                    sum: value.sum ?? 0,
                    count: value.count,
                    ...(value.min === undefined ? {} : { min: value.min }),
                    ...(value.max === undefined ? {} : { max: value.max }),
                  }
                : {
                    name: metric.descriptor.name,
                    attributes: point.attributes,
                    sum: value as number,
                    count: 1,
                  },
            );
          }
        }
      }
      return points;
    },
    reset: () => {
      spanExporter.reset();
      metricExporter.reset();
      logExporter.reset();
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      await loggerProvider.shutdown();
      trace.disable();
      metrics.disable();
      logs.disable();
      propagation.disable();
      context.disable();
    },
  };
}
