/**
 * The endpoint page: live traffic split, the deployments with their state, model and last-minute request
 * statistics. The canary charts come from a release run (see runView.canarySeries).
 */
import { isMlPlatformError, type DeploymentProvisioningState, type TrafficMap } from '../aml/port.js';
import type { DashboardDeps } from './deps.js';

/** One deployment as the endpoint page shows it. */
export interface DeploymentView {
  name: string;
  state: DeploymentProvisioningState;
  model?: { name: string; version: string };
  trafficPercent: number;
  mirrorPercent: number;
  /** Requests over the last `windowSeconds`; absent when the platform could not say. */
  recent?: { windowSeconds: number; requests: number; p95LatencyMs: number | null; errorRate: number };
}

/** The endpoint page's live part. */
export interface EndpointView {
  name: string;
  /** False until the first release creates the endpoint. */
  exists: boolean;
  provisioningState?: string;
  scoringUri?: string;
  traffic: TrafficMap;
  mirrorTraffic: TrafficMap;
  deployments: DeploymentView[];
}

/** Window of the per-deployment statistics the endpoint page shows. */
export const recentWindowSeconds = 60;

/** Reads the endpoint, its deployments and their recent request statistics. */
export async function endpointView(deps: DashboardDeps): Promise<EndpointView> {
  const name = deps.endpointName;
  let endpoint;
  try {
    endpoint = await deps.platform.getEndpoint(name);
  } catch (err) {
    if (isMlPlatformError(err, 'NotFound'))
      return { name, exists: false, traffic: {}, mirrorTraffic: {}, deployments: [] };
    throw err;
  }
  const deployments = await deps.platform.listDeployments(name);
  const views = await Promise.all(
    deployments.map(async (d): Promise<DeploymentView> => {
      const view: DeploymentView = {
        name: d.name,
        state: d.provisioningState,
        trafficPercent: endpoint.traffic[d.name] ?? 0,
        mirrorPercent: endpoint.mirrorTraffic[d.name] ?? 0,
      };
      if (d.model) view.model = d.model;
      try {
        const m = await deps.platform.getDeploymentMetrics(name, d.name, recentWindowSeconds * 1000);
        view.recent = {
          windowSeconds: recentWindowSeconds,
          requests: m.requests,
          p95LatencyMs: m.p95LatencyMs,
          errorRate: m.errorRate,
        };
      } catch (err) {
        // Statistics are a nice-to-have next to the state: a deployment still provisioning has none yet.
        if (!isMlPlatformError(err)) throw err;
      }
      return view;
    }),
  );
  return {
    name,
    exists: true,
    provisioningState: endpoint.provisioningState,
    ...(endpoint.scoringUri ? { scoringUri: endpoint.scoringUri } : {}),
    traffic: endpoint.traffic,
    mirrorTraffic: endpoint.mirrorTraffic,
    deployments: views.sort((a, b) => b.trafficPercent - a.trafficPercent || a.name.localeCompare(b.name)),
  };
}
