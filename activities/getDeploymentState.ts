import { isMlPlatformError } from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import type { DeploymentStateOutput, GetDeploymentStateInput } from './contracts.js';

/** Activity: a deployment's provisioning state ('NotFound' when it does not exist). */
export function createGetDeploymentState(deps: ActivityDeps) {
  return async function getDeploymentState(input: GetDeploymentStateInput): Promise<DeploymentStateOutput> {
    try {
      const d = await deps.platform.getDeployment(input.endpointName, input.deploymentName);
      return { deploymentName: d.name, state: d.provisioningState };
    } catch (err) {
      if (!isMlPlatformError(err, 'NotFound')) throw err;
      return { deploymentName: input.deploymentName, state: 'NotFound', error: (err as Error).message };
    }
  };
}
