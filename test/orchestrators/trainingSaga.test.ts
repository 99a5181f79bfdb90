import { beforeEach, describe, expect, it } from 'vitest';
import type {
  CancelJobInput,
  RecordDecisionInput,
  SubmitJobInput,
  TrainingRunOutput,
} from '../../activities/contracts.js';
import type { SagaStatus } from '../../orchestrators/steps.js';
import { callsOf, newScenario, scenario } from '../fixtures/saga-app/fakes.js';
import { raise, runUntil, useSagaHost, trainingInput } from './support.js';

const h = useSagaHost();
beforeEach(() => {
  scenario.current = newScenario();
});

describe('training saga', () => {
  it('validates, runs ETL and training jobs, passes the gate and registers the model', async () => {
    const id = await h.t.start('trainingSaga', trainingInput(), 'train-happy');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as TrainingRunOutput;
    expect(output).toMatchObject({
      status: 'registered',
      datasetVersion: 'ds-1',
      jobs: { etl: 'train-happy-etl', train: 'train-happy-train' },
      model: { name: 'demand-forecast', version: '1' },
    });
    const submitted = callsOf('submitJob') as SubmitJobInput[];
    expect(submitted.map((s) => s.jobName)).toEqual(['train-happy-etl', 'train-happy-train']);
    expect(submitted[1]!.inputs.series).toBe('azureml://jobs/train-happy-etl/outputs/series');
    expect(submitted[0]!.tags).toMatchObject({
      runId: 'train-happy',
      trigger: 'blob',
      datasetVersion: 'ds-1',
    });
    // The training job was polled until complete on durable timers (Queued, Running, Completed).
    expect(
      callsOf('getJobStatus').filter((c) => (c as { jobName: string }).jobName === 'train-happy-train'),
    ).toHaveLength(3);
    const steps = (status.customStatus as SagaStatus).steps;
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ['validate', 'succeeded'],
      ['etl', 'succeeded'],
      ['train', 'succeeded'],
      ['gate', 'succeeded'],
      ['register', 'succeeded'],
    ]);
    expect((callsOf('recordDecision') as RecordDecisionInput[])[0]).toMatchObject({ status: 'registered' });
  });

  it('ends rejected with the gate decision and registers nothing when the gate fails', async () => {
    scenario.current.gate = {
      passed: false,
      checks: [{ name: 'overall_mape', value: 0.41, threshold: 0.2, passed: false }],
      reason: 'overall MAPE 41.0% exceeds 20.0%',
    };
    const id = await h.t.start('trainingSaga', trainingInput(), 'train-gate-fails');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as TrainingRunOutput;
    expect(output.status).toBe('rejected');
    expect(output.reason).toContain('overall MAPE 41.0% exceeds 20.0%');
    expect(output.gate?.checks[0]).toMatchObject({ name: 'overall_mape', passed: false });
    expect(callsOf('registerModel')).toHaveLength(0);
  });

  it('fails with the job and its reason when the ETL job fails, cancelling what it started', async () => {
    scenario.current.jobStatuses.etl = ['Running', 'Failed'];
    scenario.current.jobErrors.etl = 'raw/2019-10.csv.gz: truncated gzip stream';
    const id = await h.t.start('trainingSaga', trainingInput(), 'train-etl-fails');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain(
      'etl job train-etl-fails-etl ended Failed: raw/2019-10.csv.gz: truncated gzip stream',
    );
    expect((callsOf('cancelJob') as CancelJobInput[]).map((c) => c.jobName)).toEqual(['train-etl-fails-etl']);
    expect(callsOf('submitJob')).toHaveLength(1);
    expect((callsOf('recordDecision') as RecordDecisionInput[])[0]).toMatchObject({ status: 'failed' });
  });

  it('stops on a cancel event, cancels its running job and ends canceled', async () => {
    scenario.current.jobStatuses.etl = ['Running'];
    const id = await h.t.start('trainingSaga', trainingInput(), 'train-canceled');
    // Wait until the saga sleeps between polls of the ETL job, then cancel it.
    const deadline = Date.now() + 10_000;
    while (callsOf('getJobStatus').length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await raise(h.t, id, 'cancel', { reason: 'operator asked' });
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({ status: 'canceled', reason: 'canceled: operator asked' });
    expect((callsOf('cancelJob') as CancelJobInput[]).map((c) => c.jobName)).toEqual(['train-canceled-etl']);
  });

  it('ends unchanged when scheduled retraining finds the champion was trained on the same data', async () => {
    scenario.current.dataset = { ...scenario.current.dataset, championDatasetVersion: 'ds-1' };
    const id = await h.t.start('trainingSaga', trainingInput({ skipIfUnchanged: true }), 'train-unchanged');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.output).toMatchObject({ status: 'unchanged' });
    expect(callsOf('submitJob')).toHaveLength(0);
  });
});
