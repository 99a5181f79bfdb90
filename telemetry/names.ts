/**
 * Names of every span, span event, attribute and metric the app emits. The KQL in infra/monitor/ queries
 * these exact strings (App Insights keeps span and metric names, and puts attributes in customDimensions),
 * so change both together.
 */

/** Instrumentation scope of the app's tracer and meter. */
export const instrumentationScope = 'demand-forecast-mlops';

export const SpanName = {
  /** One activity invocation: `activity evaluateGate`. */
  activity: (name: string) => `activity ${name}`,
  /** One saga run, from its first step's start to its last step's end: `saga training`. */
  saga: (kind: string) => `saga ${kind}`,
  /** One step of a saga run: `saga.step gate`. */
  sagaStep: (step: string) => `saga.step ${step}`,
  /** One HTTP attempt to Azure ML (ARM, MLflow, scoring): `AzureML PUT jobs`. */
  aml: (method: string, operation: string) => `AzureML ${method} ${operation}`,
} as const;

export const SpanEventName = {
  gateCheck: 'gate.check',
  gateDecision: 'gate.decision',
  canaryDecision: 'canary.decision',
  /** A run event the notify activity announces (`training.registered`, `release.rolled-back`, …). */
  runEvent: 'run.event',
} as const;

export const Attr = {
  runId: 'mlops.run_id',
  instanceId: 'mlops.instance_id',
  activity: 'mlops.activity',
  saga: 'mlops.saga',
  step: 'mlops.step',
  outcome: 'mlops.outcome',
  errorCode: 'mlops.error_code',
  errorTransient: 'mlops.error_transient',
  modelName: 'mlops.model.name',
  modelVersion: 'mlops.model.version',
  jobName: 'mlops.job.name',
  endpoint: 'mlops.endpoint',
  deployment: 'mlops.deployment',
  gateCheck: 'mlops.gate.check',
  gatePassed: 'mlops.gate.passed',
  gateValue: 'mlops.gate.value',
  gateThreshold: 'mlops.gate.threshold',
  gateReason: 'mlops.gate.reason',
  canaryVerdict: 'mlops.canary.verdict',
  canaryReason: 'mlops.canary.reason',
  canaryP95Ms: 'mlops.canary.p95_ms',
  canaryErrorRate: 'mlops.canary.error_rate',
  canaryRequests: 'mlops.canary.requests',
  runEvent: 'mlops.run.event',
  runStatus: 'mlops.run.status',
  message: 'mlops.message',
  amlOperation: 'aml.operation',
  amlResource: 'aml.resource',
  // OpenTelemetry HTTP semantic conventions: the App Insights exporter turns these into an Http dependency
  // with its result code and target.
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  url: 'url.full',
  serverAddress: 'server.address',
} as const;

/** Outcome attribute values. */
export type Outcome = 'success' | 'failure';

export const MetricName = {
  activityDuration: 'mlops.activity.duration',
  sagaStepDuration: 'mlops.saga.step.duration',
  amlRequestDuration: 'mlops.aml.request.duration',
  gateCheckValue: 'mlops.gate.check.value',
  canaryP95: 'mlops.canary.latency.p95',
  canaryErrorRate: 'mlops.canary.error_rate',
  canaryDecisions: 'mlops.canary.decisions',
} as const;
