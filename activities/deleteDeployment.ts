import type { ActivityDeps } from './deps.js';
import type { DeleteDeploymentInput } from './contracts.js';

/** Activity: deletes a deployment (a no-op when it is gone; refused while it takes traffic). */
export function createDeleteDeployment(deps: ActivityDeps) {
  return async function deleteDeployment(input: DeleteDeploymentInput): Promise<null> {
    await deps.platform.deleteDeployment(input.endpointName, input.deploymentName, { wait: true });
    return null;
  };
}
