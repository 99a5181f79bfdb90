/**
 * One dependency span per HTTP attempt to Azure ML (ARM, MLflow, Azure Monitor metrics, scoring), with a
 * low-cardinality operation name (`PUT jobs`, `POST onlineEndpoints/listKeys`), the status code, and a
 * duration metric. Every Azure ML pipeline of the adapter gets it through `instrumentAmlPipeline`.
 */
import { context, propagation, SpanKind } from '@opentelemetry/api';
import { tracingPolicyName, type Pipeline, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { Attr, SpanName, recordAmlRequestDuration, withSpan } from '../../telemetry/index.js';

/** Name of the policy in the pipeline. */
export const amlTelemetryPolicyName = 'amlTelemetryPolicy';

const workspacePath = /\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\/?(.*)$/i;

/**
 * The operation an Azure ML URL addresses, without resource names: the collection segments under the
 * workspace (`onlineEndpoints/deployments`), MLflow's API path, or what else the adapter calls.
 */
export function amlOperationOf(url: string): { operation: string; resource?: string } {
  const { pathname, hostname } = new URL(url);
  const mlflow = /\/api\/2\.0\/mlflow\/(.+)$/.exec(pathname);
  if (mlflow) return { operation: `mlflow/${mlflow[1] ?? ''}` };
  if (/mfeOperationsStatus|operationResults|operationsStatus/i.test(pathname))
    return { operation: 'operationStatus' };
  if (/\/metrics(:getBatch)?$/i.test(pathname) || hostname.endsWith('metrics.monitor.azure.com')) {
    return { operation: 'metrics' };
  }
  const ws = workspacePath.exec(pathname);
  if (ws) {
    const segments = (ws[1] ?? '').split('/').filter(Boolean);
    // Collections sit at even positions (`jobs/{id}`, `onlineEndpoints/{ep}/deployments/{dep}`); an action
    // (`listKeys`, `cancel`) is a trailing segment at an even position too.
    const collections = segments.filter((_, i) => i % 2 === 0);
    const names = segments.filter((_, i) => i % 2 === 1);
    return {
      operation: collections.length > 0 ? collections.join('/') : 'workspace',
      ...(names.length > 0 ? { resource: names.join('/') } : {}),
    };
  }
  if (/\/score$/.test(pathname)) return { operation: 'score' };
  return { operation: pathname.split('/').filter(Boolean).at(-1) ?? 'request' };
}

/** The pipeline policy recording each Azure ML HTTP attempt as a CLIENT span (App Insights: a dependency). */
export function amlTelemetryPolicy(): PipelinePolicy {
  return {
    name: amlTelemetryPolicyName,
    async sendRequest(request, next) {
      const { operation, resource } = amlOperationOf(request.url);
      const url = new URL(request.url);
      const started = performance.now();
      let status: number | undefined;
      try {
        return await withSpan(
          SpanName.aml(request.method, operation),
          {
            kind: SpanKind.CLIENT,
            attributes: {
              [Attr.amlOperation]: `${request.method} ${operation}`,
              [Attr.amlResource]: resource,
              [Attr.httpMethod]: request.method,
              // Query strings may carry SAS tokens on other hosts; Azure ML's carry only api-version.
              [Attr.url]: `${url.origin}${url.pathname}`,
              [Attr.serverAddress]: url.hostname,
            },
            failureOf: (response) => (response.status >= 400 ? `Http${response.status}` : undefined),
          },
          async (span) => {
            // The callee joins the trace (W3C traceparent) when a propagator is registered.
            propagation.inject(context.active(), request.headers, {
              set: (headers, key, value) => headers.set(key, value),
            });
            const response = await next(request);
            status = response.status;
            span.setAttribute(Attr.httpStatus, response.status);
            return response;
          },
        );
      } finally {
        recordAmlRequestDuration(performance.now() - started, operation, request.method, status);
      }
    },
  };
}

/**
 * Puts the Azure ML telemetry policy where core's own tracing policy sits (after retries, so each attempt is
 * its own dependency) and removes core's, which would record the same call a second time once the distro
 * enables Azure SDK tracing.
 */
export function instrumentAmlPipeline(pipeline: Pipeline): Pipeline {
  pipeline.removePolicy({ name: tracingPolicyName });
  pipeline.addPolicy(amlTelemetryPolicy(), { afterPhase: 'Retry' });
  return pipeline;
}
