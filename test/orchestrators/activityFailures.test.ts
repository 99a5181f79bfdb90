import { beforeEach, describe, expect, it } from 'vitest';
import { PermanentActivityError } from '../../activities/deps.js';
import type { RecordDecisionInput, RetryPolicy, TrainingRunOutput } from '../../activities/contracts.js';
import { MlPlatformError } from '../../aml/port.js';
import type { SagaStatus } from '../../orchestrators/steps.js';
import { callsOf, newScenario, scenario, servingScenario } from '../fixtures/saga-app/fakes.js';
import { releaseInput, runUntil, trainingConfig, trainingInput, useSagaHost } from './support.js';

const h = useSagaHost();
const retry: RetryPolicy = { maxAttempts: 3, firstDelaySeconds: 10, backoffFactor: 2, maxDelaySeconds: 60 };
const withRetry = () => trainingInput({ config: { ...trainingConfig, retry } });
const unavailable = () => new MlPlatformError('Unavailable', 'the registry answered 503', { status: 503 });

beforeEach(() => {
  scenario.current = newScenario();
});

describe('activity failures across the Durable boundary', () => {
  it('retries a transient platform failure on durable timers and goes on', async () => {
    scenario.current.errors.registerModel = [unavailable(), unavailable()];
    const id = await h.t.start('trainingSaga', withRetry(), 'failures-transient');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect((status.output as TrainingRunOutput).status).toBe('registered');
    expect(callsOf('registerModel')).toHaveLength(3);
  });

  it('gives up after the policy attempts and records the failure with its code', async () => {
    scenario.current.errors.registerModel = [unavailable(), unavailable(), unavailable(), unavailable()];
    const id = await h.t.start('trainingSaga', withRetry(), 'failures-exhausted');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Failed');
    expect(callsOf('registerModel')).toHaveLength(3);
    const record = (callsOf('recordDecision') as RecordDecisionInput[])[0];
    expect(record?.reason).toBe('Unavailable: the registry answered 503 (registerModel, 3 attempts)');
    const register = (status.customStatus as SagaStatus).steps.find((s) => s.name === 'register');
    expect(register?.detail).toMatch(/^Unavailable: /);
  });

  it('does not retry a permanent failure and names its code', async () => {
    scenario.current.errors.validateDataset = [
      new PermanentActivityError('BLOB_MISSING', 'raw/clickstream/2019-10.csv.gz does not exist.'),
    ];
    const id = await h.t.start('trainingSaga', withRetry(), 'failures-permanent');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Failed');
    expect(callsOf('validateDataset')).toHaveLength(1);
    expect((callsOf('recordDecision') as RecordDecisionInput[])[0]?.reason).toBe(
      'BLOB_MISSING: raw/clickstream/2019-10.csv.gz does not exist.',
    );
  });

  it('without a retry policy (runs started before it existed) fails at the first transient error', async () => {
    scenario.current = servingScenario('1', { '1': { champion: 'true' }, '2': {} });
    scenario.current.errors.createDeployment = [unavailable()];
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'failures-no-policy');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Failed');
    expect(callsOf('createDeployment')).toHaveLength(1);
    expect((callsOf('recordDecision') as RecordDecisionInput[])[0]).toMatchObject({
      status: 'failed',
      reason: 'Unavailable: the registry answered 503',
    });
    expect(scenario.current.endpoint.traffic).toEqual({ v1: 100 });
  });
});
