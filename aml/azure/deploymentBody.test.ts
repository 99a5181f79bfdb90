import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploymentBody, readDeploymentYaml } from './deploymentBody.js';

const root = path.resolve(import.meta.dirname, '../..');
const ws = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w';
const spec = {
  endpointName: 'demand-forecast',
  name: 'green-r1',
  model: { name: 'demand-forecast', version: '3' },
  specPath: 'aml/deployments/green.yml',
};

describe('deploymentBody', () => {
  it('refuses the inline (Dockerfile) environment until the deploy step has registered it', async () => {
    const yaml = await readDeploymentYaml(path.join(root, spec.specPath));
    expect(() => deploymentBody(spec, yaml, { workspaceId: ws, location: 'westeurope' })).toThrow(
      /green\.yml: its inline environment must be registered/,
    );
  });

  it('uses the registered inference environment for the spec file and keeps the YAML probes', async () => {
    const yaml = await readDeploymentYaml(path.join(root, spec.specPath));
    const envId = `${ws}/environments/demand-forecast-infer/versions/0f3a`;
    const body = deploymentBody(spec, yaml, {
      workspaceId: ws,
      location: 'westeurope',
      environmentIds: { 'green.yml': envId },
    });
    expect(body).toMatchObject({
      properties: {
        environmentId: envId,
        model: `${ws}/models/demand-forecast/versions/3`,
        readinessProbe: { initialDelay: 'PT1S', period: 'PT2S' },
      },
    });
  });
});
