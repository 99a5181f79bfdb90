/**
 * A deployment's canary figures from Azure Monitor platform metrics of the online endpoint
 * (`metrics:getBatch`, namespace Microsoft.MachineLearningServices/workspaces/onlineEndpoints).
 * There is no error metric: the error rate is non-2xx RequestsPerMinute over all RequestsPerMinute.
 */
import { MlPlatformError, type DeploymentMetrics } from '../port.js';
import type { ArmClient } from './armClient.js';

const namespace = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';

interface MetricsBatch {
  values?: {
    value?: {
      name?: { value?: string };
      timeseries?: {
        metadatavalues?: { name?: { value?: string } | string; value?: string }[];
        data?: { total?: number; average?: number }[];
      }[];
    }[];
  }[];
}

function dimension(
  series: NonNullable<
    NonNullable<NonNullable<MetricsBatch['values']>[number]['value']>[number]['timeseries']
  >[number],
  name: string,
) {
  const entry = series.metadatavalues?.find(
    (m) => (typeof m.name === 'string' ? m.name : m.name?.value)?.toLowerCase() === name.toLowerCase(),
  );
  return entry?.value;
}

/** What readDeploymentMetrics needs. */
export interface MetricsQuery {
  metricsEndpoint: string;
  subscriptionId: string;
  endpointResourceId: string;
  deployment: string;
  windowMs: number;
  now?: Date;
}

async function batch(
  arm: ArmClient,
  q: MetricsQuery,
  metric: string,
  aggregation: string,
  filter: string,
): Promise<MetricsBatch> {
  const end = q.now ?? new Date();
  const start = new Date(end.getTime() - q.windowMs);
  const url = new URL(
    `${q.metricsEndpoint.replace(/\/$/, '')}/subscriptions/${q.subscriptionId}/metrics:getBatch`,
  );
  url.searchParams.set('api-version', '2024-02-01');
  url.searchParams.set('starttime', start.toISOString());
  url.searchParams.set('endtime', end.toISOString());
  url.searchParams.set('interval', 'PT1M');
  url.searchParams.set('metricnamespace', namespace);
  url.searchParams.set('metricnames', metric);
  url.searchParams.set('aggregation', aggregation);
  url.searchParams.set('filter', filter);
  const res = await arm.call<MetricsBatch>(
    'POST',
    url.toString(),
    { resourceids: [q.endpointResourceId] },
    `Metrics ${metric}`,
  );
  return res.body ?? {};
}

/** Requests, p95 latency (the worst minute's P95 in the window) and error rate of one deployment. */
export async function readDeploymentMetrics(arm: ArmClient, q: MetricsQuery): Promise<DeploymentMetrics> {
  const dep = q.deployment.replace(/'/g, "''");
  const requests = await batch(
    arm,
    q,
    'RequestsPerMinute',
    'Total',
    `deployment eq '${dep}' and statusCodeClass eq '*'`,
  );
  let total = 0;
  let errors = 0;
  for (const value of requests.values?.[0]?.value ?? []) {
    for (const series of value.timeseries ?? []) {
      const sum = (series.data ?? []).reduce((acc, d) => acc + (d.total ?? 0), 0);
      total += sum;
      if ((dimension(series, 'statusCodeClass') ?? '2xx') !== '2xx') errors += sum;
    }
  }
  const latency = await batch(arm, q, 'RequestLatency_P95', 'Average', `deployment eq '${dep}'`);
  const p95s = (latency.values?.[0]?.value ?? [])
    .flatMap((v) => v.timeseries ?? [])
    .flatMap((s) => s.data ?? [])
    .map((d) => d.average)
    .filter((x): x is number => typeof x === 'number');
  if (!requests.values)
    throw new MlPlatformError('Unavailable', 'Azure Monitor answered without metric values.');
  return {
    deployment: q.deployment,
    windowMs: q.windowMs,
    requests: total,
    p95LatencyMs: p95s.length === 0 ? null : Math.max(...p95s),
    errorRate: total === 0 ? 0 : errors / total,
  };
}
