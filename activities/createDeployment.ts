import type { ActivityDeps } from './deps.js';
import type { DeploymentSpec } from './contracts.js';

/** Activity: creates the endpoint if needed, then creates or updates the green deployment at 0% traffic. */
export function createCreateDeployment(deps: ActivityDeps) {
  return async function createDeployment(
    input: DeploymentSpec,
  ): Promise<{ deploymentName: string; state: string }> {
    await deps.platform.createOrUpdateEndpoint({ name: input.endpointName, authMode: 'Key' }, { wait: true });
    const deployment = await deps.platform.createOrUpdateDeployment({
      endpointName: input.endpointName,
      name: input.deploymentName,
      model: input.model,
      ...(deps.deploymentSpecPath ? { specPath: deps.deploymentSpecPath } : {}),
      instanceCount: input.instanceCount,
      instanceType: input.instanceType,
      tags: { model: `${input.model.name}:${input.model.version}` },
    });
    return { deploymentName: deployment.name, state: deployment.provisioningState };
  };
}
