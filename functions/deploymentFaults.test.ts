import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import { localDeploymentFaults } from './platform.js';

describe('LOCAL_DEPLOYMENT_FAULTS', () => {
  it('reads faults by deployment name, defaulting what is left out', () => {
    expect(localDeploymentFaults({ LOCAL_DEPLOYMENT_FAULTS: '{"v2":{"addedLatencyMs":800}}' })).toEqual({
      v2: { errorRate: 0, addedLatencyMs: 800 },
    });
    expect(localDeploymentFaults({})).toBeUndefined();
  });

  it('refuses bad JSON and out-of-range faults with the setting named', () => {
    expect(() => localDeploymentFaults({ LOCAL_DEPLOYMENT_FAULTS: '{v2' })).toThrow(ConfigError);
    expect(() => localDeploymentFaults({ LOCAL_DEPLOYMENT_FAULTS: '{"v2":{"errorRate":5}}' })).toThrow(
      /LOCAL_DEPLOYMENT_FAULTS: v2.errorRate/,
    );
  });
});
