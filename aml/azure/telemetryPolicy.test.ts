import { describe, expect, it } from 'vitest';
import { amlOperationOf } from './telemetryPolicy.js';

const ws =
  'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

describe('amlOperationOf', () => {
  it('names ARM workspace calls by their collections, and the resource apart', () => {
    expect(amlOperationOf(`${ws}/jobs/run-1-etl?api-version=2024-10-01`)).toEqual({
      operation: 'jobs',
      resource: 'run-1-etl',
    });
    expect(amlOperationOf(`${ws}/onlineEndpoints/forecast/deployments/green`)).toEqual({
      operation: 'onlineEndpoints/deployments',
      resource: 'forecast/green',
    });
    expect(amlOperationOf(`${ws}/onlineEndpoints/forecast/listKeys`)).toEqual({
      operation: 'onlineEndpoints/listKeys',
      resource: 'forecast',
    });
    expect(amlOperationOf(`${ws}?api-version=2024-10-01`)).toEqual({ operation: 'workspace' });
  });

  it('names operation polls, MLflow, metrics and scoring calls', () => {
    expect(
      amlOperationOf(
        'https://management.azure.com/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/westeurope/mfeOperationsStatus/op-1',
      ).operation,
    ).toBe('operationStatus');
    expect(
      amlOperationOf(
        'https://westeurope.api.azureml.ms/mlflow/v2.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/api/2.0/mlflow/runs/get?run_id=x',
      ).operation,
    ).toBe('mlflow/runs/get');
    expect(
      amlOperationOf('https://westeurope.metrics.monitor.azure.com/subscriptions/s/metrics:getBatch')
        .operation,
    ).toBe('metrics');
    expect(amlOperationOf('https://forecast.westeurope.inference.ml.azure.com/score').operation).toBe(
      'score',
    );
  });
});
