/**
 * The app's telemetry: OpenTelemetry spans, span events and metrics for activities, saga steps, Azure ML
 * calls, quality gates and canaries, exported to App Insights only when it is configured.
 */
export { traceActivity, runAttributesOf, type ActivityInvocation } from './activity.js';
export { Attr, MetricName, SpanEventName, SpanName, instrumentationScope, type Outcome } from './names.js';
export {
  configureTelemetry,
  azureMonitorOptions,
  azureMonitorSettingsOf,
  entraClientIdOf,
  useAzureMonitorLazily,
  type AzureMonitorSettings,
  type ConfigureAzureMonitor,
  type TelemetryDestination,
} from './setup.js';
export {
  addEvent,
  currentRunAttributes,
  describeFailure,
  emitRunEvent,
  markFailed,
  recordActivityDuration,
  recordAmlRequestDuration,
  recordCanaryAnalysis,
  recordGateDecision,
  recordSagaRun,
  withSpan,
  type CanaryObservationTelemetry,
  type GateCheckTelemetry,
  type RunAttributes,
  type SagaStepTelemetry,
  type SpanOptions,
} from './telemetry.js';
