import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EndpointError } from './errors.js';
import {
  deploymentSpecFromYaml,
  parseDeploymentSpec,
  parseDeploymentYaml,
  readDeploymentYaml,
} from './spec.js';

const deploymentFile = (name: string) =>
  fileURLToPath(new URL(`../../deployments/${name}.yml`, import.meta.url));

describe('deployment specs', () => {
  it.each(['blue', 'green'])(
    'reads aml/deployments/%s.yml into a local spec with probes in ms',
    async (slot) => {
      const yaml = await readDeploymentYaml(deploymentFile(slot));
      expect(yaml.name).toBe(slot);
      expect(yaml.endpoint_name).toBe('demand-forecast');
      const spec = deploymentSpecFromYaml(yaml, { modelDir: '/models/demand/3' });
      expect(spec).toMatchObject({
        name: slot,
        modelDir: '/models/demand/3',
        instanceType: 'Standard_DS3_v2',
        instanceCount: 1,
        environmentVariables: { LOG_LEVEL: 'info', INFERENCE_MAX_BATCH_KEYS: '500' },
        requestSettings: { requestTimeoutMs: 5000, maxConcurrentRequestsPerInstance: 32 },
        livenessProbe: {
          path: '/health',
          initialDelayMs: 10_000,
          periodMs: 10_000,
          timeoutMs: 2000,
          failureThreshold: 3,
        },
        readinessProbe: { path: '/ready', initialDelayMs: 1000, periodMs: 2000, successThreshold: 1 },
        faults: { errorRate: 0, addedLatencyMs: 0 },
        tags: { app: 'demand-forecast', slot },
      });
    },
  );

  it('lets the caller override the YAML (a run-named challenger with injected faults)', async () => {
    const yaml = await readDeploymentYaml(deploymentFile('green'));
    const spec = deploymentSpecFromYaml(yaml, {
      modelDir: '/m',
      name: 'green-run42',
      instanceCount: 2,
      faults: { errorRate: 0.2, addedLatencyMs: 50 },
      environmentVariables: { SAGA_ID: 'run42', LOG_LEVEL: 'debug' },
      tags: { model: 'demand-forecast:3' },
    });
    expect(spec.environmentVariables).toEqual({
      LOG_LEVEL: 'debug',
      INFERENCE_MAX_BATCH_KEYS: '500',
      SAGA_ID: 'run42',
    });
    expect(spec.tags).toEqual({ app: 'demand-forecast', slot: 'green', model: 'demand-forecast:3' });
    expect(spec).toMatchObject({
      name: 'green-run42',
      instanceCount: 2,
      faults: { errorRate: 0.2, addedLatencyMs: 50 },
    });
  });

  it('applies the Azure ML defaults when the YAML leaves probes and settings out', () => {
    const spec = deploymentSpecFromYaml(parseDeploymentYaml('name: b\nendpoint_name: e\n'), {
      modelDir: '/m',
    });
    expect(spec.livenessProbe).toEqual({
      path: '/health',
      initialDelayMs: 10_000,
      periodMs: 10_000,
      timeoutMs: 2_000,
      failureThreshold: 30,
      successThreshold: 1,
    });
    expect(spec.requestSettings).toEqual({ requestTimeoutMs: 5000, maxConcurrentRequestsPerInstance: 1 });
    expect(spec.instanceCount).toBe(1);
  });

  it.each([
    ['name: b\nendpoint_name: e\ninstance_count: 0\n', /instance_count/],
    ['name: b\nendpoint_name: e\nliveness_probe:\n  period: fast\n', /liveness_probe\.period/],
    ['endpoint_name: e\n', /name/],
  ])('rejects bad YAML naming the field', (text, pattern) => {
    expect(() => parseDeploymentYaml(text)).toThrow(pattern);
    expect(() => parseDeploymentYaml(text)).toThrow(EndpointError);
  });

  it('rejects a spec with a bad name, fault rate or no model directory', () => {
    expect(() => parseDeploymentSpec({ name: '-bad', modelDir: '/m' })).toThrow(/name/);
    expect(() => parseDeploymentSpec({ name: 'ok', modelDir: '/m', faults: { errorRate: 2 } })).toThrow(
      /faults\.errorRate/,
    );
    expect(() => parseDeploymentSpec({ name: 'ok' })).toThrow(/modelDir/);
  });
});
