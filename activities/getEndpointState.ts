import { isMlPlatformError } from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import type { EndpointState } from './contracts.js';

/** Activity: the endpoint's traffic and deployments; an endpoint not yet created has neither. */
export function createGetEndpointState(deps: ActivityDeps) {
  return async function getEndpointState(input: { endpointName: string }): Promise<EndpointState> {
    try {
      const endpoint = await deps.platform.getEndpoint(input.endpointName);
      const deployments = await deps.platform.listDeployments(input.endpointName);
      return {
        endpointName: endpoint.name,
        traffic: endpoint.traffic,
        mirrorTraffic: endpoint.mirrorTraffic,
        deployments: deployments.map((d) => ({
          name: d.name,
          ...(d.model ? { model: d.model } : {}),
          state: d.provisioningState,
        })),
        ...(endpoint.scoringUri ? { scoringUri: endpoint.scoringUri } : {}),
      };
    } catch (err) {
      if (!isMlPlatformError(err, 'NotFound')) throw err;
      return { endpointName: input.endpointName, traffic: {}, mirrorTraffic: {}, deployments: [] };
    }
  };
}
