import { describe, expect, it } from 'vitest';
import { registeredAssets } from './platform.js';

describe('registeredAssets', () => {
  it('maps the deploy-registered code and environments onto the job and deployment specs that use them', () => {
    const assets = registeredAssets({
      AML_CODE_ID: '/ws/codes/demand-forecast-src/versions/1a2b',
      AML_JOB_ENVIRONMENT_ID: '/ws/environments/demand-forecast-jobs/versions/3c4d',
      AML_INFERENCE_ENVIRONMENT_ID: '/ws/environments/demand-forecast-infer/versions/5e6f',
    });
    expect(assets).toEqual({
      codeIds: {
        'etl.yml': '/ws/codes/demand-forecast-src/versions/1a2b',
        'train.yml': '/ws/codes/demand-forecast-src/versions/1a2b',
      },
      environmentIds: {
        'etl.yml': '/ws/environments/demand-forecast-jobs/versions/3c4d',
        'train.yml': '/ws/environments/demand-forecast-jobs/versions/3c4d',
        'blue.yml': '/ws/environments/demand-forecast-infer/versions/5e6f',
        'green.yml': '/ws/environments/demand-forecast-infer/versions/5e6f',
      },
    });
  });

  it('leaves out what the deployment has not registered (empty settings count as unset)', () => {
    expect(registeredAssets({ AML_CODE_ID: '' })).toEqual({ codeIds: {}, environmentIds: {} });
  });
});
