/**
 * The app's telemetry, written against the OpenTelemetry API only. Which SDK (if any) receives it is decided
 * once at start-up (see setup.ts): App Insights in Azure, an in-memory exporter in tests, nothing otherwise.
 * With no SDK registered every call here is a cheap no-op.
 */
import {
  context,
  createContextKey,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
} from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { Attr, instrumentationScope, MetricName, SpanEventName, SpanName, type Outcome } from './names.js';

/** Attributes that identify a run; every span and event inside an activity invocation carries them. */
export type RunAttributes = Partial<Record<string, AttributeValue>>;

/** A failure as telemetry describes it: the typed error's code and whether a retry may help. */
export interface ErrorDescription {
  code: string;
  transient?: boolean;
  message: string;
}

/** The `code` (and `transient` flag) of the project's typed errors; the error's name otherwise. */
export function describeFailure(err: unknown): ErrorDescription {
  if (err instanceof Error) {
    const { code, transient } = err as Error & { code?: unknown; transient?: unknown };
    return {
      code: typeof code === 'string' && code ? code : err.name || 'Error',
      ...(typeof transient === 'boolean' ? { transient } : {}),
      message: err.message,
    };
  }
  return { code: 'NonError', message: typeof err === 'string' ? err : JSON.stringify(err) };
}

const tracer = () => trace.getTracer(instrumentationScope);

interface Instruments {
  activityDuration: Histogram;
  sagaStepDuration: Histogram;
  amlRequestDuration: Histogram;
  gateCheckValue: Histogram;
  canaryP95: Histogram;
  canaryErrorRate: Histogram;
  canaryDecisions: Counter;
}

let instrumentsOf: { provider: MeterProvider; instruments: Instruments } | undefined;

/**
 * The metric instruments of the current global meter provider. The metrics API has no proxy provider (a
 * meter taken before the SDK registers stays a no-op forever), so they are rebuilt when the provider changes.
 */
function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instrumentsOf?.provider !== provider) {
    const meter = provider.getMeter(instrumentationScope);
    instrumentsOf = {
      provider,
      instruments: {
        activityDuration: meter.createHistogram(MetricName.activityDuration, {
          unit: 'ms',
          description: 'Duration of one activity invocation.',
        }),
        sagaStepDuration: meter.createHistogram(MetricName.sagaStepDuration, {
          unit: 's',
          description: 'Duration of one saga step, from the orchestration clock.',
        }),
        amlRequestDuration: meter.createHistogram(MetricName.amlRequestDuration, {
          unit: 'ms',
          description: 'Duration of one HTTP attempt to Azure ML.',
        }),
        gateCheckValue: meter.createHistogram(MetricName.gateCheckValue, {
          description: 'Value of one quality-gate check (MAPE, p90 key MAPE, WAPE vs champion).',
        }),
        canaryP95: meter.createHistogram(MetricName.canaryP95, {
          unit: 'ms',
          description: 'p95 scoring latency of a deployment over one canary analysis window.',
        }),
        canaryErrorRate: meter.createHistogram(MetricName.canaryErrorRate, {
          unit: '1',
          description: '5xx rate of a deployment over one canary analysis window.',
        }),
        canaryDecisions: meter.createCounter(MetricName.canaryDecisions, {
          description: 'Canary analyses by verdict.',
        }),
      },
    };
  }
  return instrumentsOf.instruments;
}

const runAttributesKey = createContextKey('demand-forecast-mlops run attributes');

/** The run attributes of the activity invocation in progress (empty outside one). */
export function currentRunAttributes(): Attributes {
  return (context.active().getValue(runAttributesKey) as Attributes | undefined) ?? {};
}

function defined(attributes: RunAttributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined)) as Attributes;
}

/** Options of a span around an async step. */
export interface SpanOptions<T = unknown> {
  kind?: SpanKind;
  attributes?: RunAttributes;
  /** Run attributes to attach to this span and every span and event started inside it. */
  run?: RunAttributes;
  /** W3C `traceparent` of the caller (the Functions host's invocation), so the span joins its trace. */
  traceParent?: string;
  /** The error code of a result that is a failure although nothing was thrown (an HTTP 5xx answer). */
  failureOf?: (result: T) => string | undefined;
}

/**
 * Runs `fn` inside a span: the span ends with outcome `success`, or records the error (its code and
 * transient flag) with outcome `failure` and rethrows it.
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions<T>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  let parent: Context = context.active();
  if (options.traceParent) {
    parent = propagation.extract(ROOT_CONTEXT, { traceparent: options.traceParent });
  }
  const run = { ...currentRunAttributes(), ...defined(options.run ?? {}) };
  if (options.run) parent = parent.setValue(runAttributesKey, run);
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: { ...run, ...defined(options.attributes ?? {}) },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), () => fn(span));
    const failureCode = options.failureOf?.(result);
    if (failureCode) {
      span.setAttributes({ [Attr.outcome]: 'failure' satisfies Outcome, [Attr.errorCode]: failureCode });
      span.setStatus({ code: SpanStatusCode.ERROR, message: failureCode });
    } else {
      span.setAttribute(Attr.outcome, 'success' satisfies Outcome);
    }
    return result;
  } catch (err) {
    markFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's code. */
export function markFailed(span: Span, err: unknown): void {
  const failure = describeFailure(err);
  span.setAttributes({
    [Attr.outcome]: 'failure' satisfies Outcome,
    [Attr.errorCode]: failure.code,
    ...(failure.transient === undefined ? {} : { [Attr.errorTransient]: failure.transient }),
  });
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${failure.code}: ${failure.message}` });
}

/** Adds an event (App Insights: a trace row correlated with the span) to the active span, with run attributes. */
export function addEvent(name: string, attributes: RunAttributes): void {
  trace.getActiveSpan()?.addEvent(name, { ...currentRunAttributes(), ...defined(attributes) });
}

/** Records one activity invocation's duration. */
export function recordActivityDuration(activity: string, ms: number, failure?: ErrorDescription): void {
  instruments().activityDuration.record(ms, {
    [Attr.activity]: activity,
    [Attr.outcome]: failure ? 'failure' : 'success',
    ...(failure ? { [Attr.errorCode]: failure.code } : {}),
  });
}

/** Records one Azure ML HTTP attempt's duration. */
export function recordAmlRequestDuration(
  ms: number,
  operation: string,
  method: string,
  status?: number,
): void {
  instruments().amlRequestDuration.record(ms, {
    [Attr.amlOperation]: operation,
    [Attr.httpMethod]: method,
    ...(status === undefined ? {} : { [Attr.httpStatus]: status }),
  });
}

/** One quality-gate check as the gate reports it. */
export interface GateCheckTelemetry {
  name: string;
  value: number | null;
  threshold: number | null;
  passed: boolean;
}

/** Records a quality-gate decision: a metric per computed check value, and an event per check and decision. */
export function recordGateDecision(
  modelName: string,
  decision: { passed: boolean; reason: string; checks: GateCheckTelemetry[] },
): void {
  for (const check of decision.checks) {
    if (check.value !== null && Number.isFinite(check.value)) {
      instruments().gateCheckValue.record(check.value, {
        [Attr.modelName]: modelName,
        [Attr.gateCheck]: check.name,
        [Attr.gatePassed]: check.passed,
      });
    }
    addEvent(SpanEventName.gateCheck, {
      [Attr.gateCheck]: check.name,
      [Attr.gateValue]: check.value ?? undefined,
      [Attr.gateThreshold]: check.threshold ?? undefined,
      [Attr.gatePassed]: check.passed,
    });
  }
  trace.getActiveSpan()?.setAttribute(Attr.gatePassed, decision.passed);
  addEvent(SpanEventName.gateDecision, {
    [Attr.gatePassed]: decision.passed,
    [Attr.gateReason]: decision.reason,
  });
}

/** One deployment's figures over a canary analysis window. */
export interface CanaryObservationTelemetry {
  deployment: string;
  requests: number;
  p95LatencyMs: number;
  errorRate5xx: number;
}

/** Records a canary analysis: p95 and error rate per deployment (with traffic), and the verdict. */
export function recordCanaryAnalysis(
  endpoint: string,
  analysis: {
    verdict: string;
    reason: string;
    green: CanaryObservationTelemetry;
    blue?: CanaryObservationTelemetry;
  },
): void {
  const { canaryP95, canaryErrorRate, canaryDecisions } = instruments();
  for (const observed of [analysis.green, analysis.blue]) {
    // A window without requests has no latency or error rate; a zero would read as a perfect deployment.
    if (!observed || observed.requests === 0) continue;
    const attributes = { [Attr.endpoint]: endpoint, [Attr.deployment]: observed.deployment };
    canaryP95.record(observed.p95LatencyMs, attributes);
    canaryErrorRate.record(observed.errorRate5xx, attributes);
  }
  canaryDecisions.add(1, {
    [Attr.endpoint]: endpoint,
    [Attr.deployment]: analysis.green.deployment,
    [Attr.canaryVerdict]: analysis.verdict,
  });
  trace.getActiveSpan()?.setAttribute(Attr.canaryVerdict, analysis.verdict);
  addEvent(SpanEventName.canaryDecision, {
    [Attr.endpoint]: endpoint,
    [Attr.deployment]: analysis.green.deployment,
    [Attr.canaryVerdict]: analysis.verdict,
    [Attr.canaryReason]: analysis.reason,
    [Attr.canaryP95Ms]: analysis.green.p95LatencyMs,
    [Attr.canaryErrorRate]: analysis.green.errorRate5xx,
    [Attr.canaryRequests]: analysis.green.requests,
  });
}

/** One saga step as the orchestrator's step tracker records it (times from the orchestration clock). */
export interface SagaStepTelemetry {
  name: string;
  status: string;
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

/**
 * Records a finished saga run after the fact: a `saga <kind>` span over all its steps with a child span per
 * step, both with the orchestration clock's times, and a step-duration metric per step.
 */
export function recordSagaRun(run: {
  kind: string;
  runId: string;
  status: string;
  reason: string;
  steps: SagaStepTelemetry[];
}): void {
  const timed = run.steps.filter((s) => !Number.isNaN(Date.parse(s.startedAt)));
  const first = timed[0];
  if (!first) return;
  const endOf = (s: SagaStepTelemetry) => new Date(s.endedAt ?? s.startedAt);
  const runAttributes = { [Attr.runId]: run.runId, [Attr.saga]: run.kind };
  // Only a failed run is an error: rejected, rolled back and canceled are outcomes the saga chose.
  const failed = run.status === 'failed';
  // The run's own trace: parenting it on the activity that reports it would put the whole run inside a
  // span that started after it. A link keeps the way back to that activity.
  const reporter = trace.getActiveSpan()?.spanContext();
  const sagaSpan = tracer().startSpan(
    SpanName.saga(run.kind),
    {
      kind: SpanKind.INTERNAL,
      root: true,
      ...(reporter ? { links: [{ context: reporter }] } : {}),
      startTime: new Date(first.startedAt),
      attributes: {
        ...currentRunAttributes(),
        ...runAttributes,
        [Attr.runStatus]: run.status,
        [Attr.outcome]: (failed ? 'failure' : 'success') satisfies Outcome,
      },
    },
    context.active(),
  );
  if (failed) sagaSpan.setStatus({ code: SpanStatusCode.ERROR, message: `${run.status}: ${run.reason}` });
  const inSaga = trace.setSpan(context.active(), sagaSpan);
  let last = new Date(first.startedAt);
  for (const step of timed) {
    const end = endOf(step);
    if (end > last) last = end;
    const outcome: Outcome = step.status === 'failed' ? 'failure' : 'success';
    const stepSpan = tracer().startSpan(
      SpanName.sagaStep(step.name),
      {
        kind: SpanKind.INTERNAL,
        startTime: new Date(step.startedAt),
        attributes: {
          ...runAttributes,
          [Attr.step]: step.name,
          [Attr.runStatus]: step.status,
          [Attr.outcome]: outcome,
          ...(step.detail ? { [Attr.message]: step.detail.slice(0, 1000) } : {}),
        },
      },
      inSaga,
    );
    if (outcome === 'failure') stepSpan.setStatus({ code: SpanStatusCode.ERROR, message: step.detail ?? '' });
    stepSpan.end(end);
    instruments().sagaStepDuration.record((end.getTime() - new Date(step.startedAt).getTime()) / 1000, {
      [Attr.saga]: run.kind,
      [Attr.step]: step.name,
      [Attr.runStatus]: step.status,
    });
  }
  sagaSpan.end(last);
}

/** The log attribute that makes the App Insights exporter store a log record as a custom event. */
const customEventNameAttribute = 'microsoft.custom_event.name';

/**
 * Announces a run event (`training.registered`, `release.rolled-back`, …): an event on the active span (a
 * trace row in the run's operation) and a log record App Insights stores as a custom event of that name,
 * with `instanceId` as the saga-failure alert in infra/app/alerts.bicep reads it.
 */
export function emitRunEvent(event: {
  name: string;
  runId: string;
  kind: string;
  message: string;
  level: 'info' | 'warn';
  properties?: Record<string, string | number | boolean>;
}): void {
  const properties = Object.fromEntries(
    Object.entries(event.properties ?? {}).map(([key, value]) => [`${Attr.runEvent}.${key}`, value]),
  );
  const attributes = {
    [Attr.runId]: event.runId,
    [Attr.saga]: event.kind,
    [Attr.runEvent]: event.name,
    [Attr.message]: event.message,
    ...properties,
  };
  addEvent(SpanEventName.runEvent, attributes);
  logs.getLogger(instrumentationScope).emit({
    severityNumber: event.level === 'warn' ? SeverityNumber.WARN : SeverityNumber.INFO,
    severityText: event.level === 'warn' ? 'WARN' : 'INFO',
    body: `${event.name}: ${event.message}`,
    context: context.active(),
    attributes: {
      ...currentRunAttributes(),
      ...attributes,
      instanceId: event.runId,
      [customEventNameAttribute]: event.name,
    },
  });
}
