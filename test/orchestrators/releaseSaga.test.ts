import { beforeEach, describe, expect, it } from 'vitest';
import type { ReleaseOutput, SetTrafficInput, TagModelInput } from '../../activities/contracts.js';
import type { SagaStatus } from '../../orchestrators/steps.js';
import { callsOf, scenario, servingScenario } from '../fixtures/saga-app/fakes.js';
import { raise, releaseInput, runUntil, useSagaHost } from './support.js';

const h = useSagaHost();

/** v1 (the champion) serves 100% as deployment "v1", and v2 passed the gate. */
const championServing = () => {
  scenario.current = servingScenario('1', { '1': { champion: 'true' }, '2': {} });
};

beforeEach(championServing);

const trafficSteps = () => (callsOf('setTraffic') as SetTrafficInput[]).map((c) => c.traffic);

describe('release saga', () => {
  it('deploys green, canaries 10 → 50 → 100, promotes it and retires blue after the grace period', async () => {
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-happy');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as ReleaseOutput;
    expect(output).toMatchObject({ status: 'promoted', greenDeployment: 'v2', previousDeployment: 'v1' });
    expect(trafficSteps()).toEqual([{ v2: 10, v1: 90 }, { v2: 50, v1: 50 }, { v2: 100, v1: 0 }, { v2: 100 }]);
    // Two analyses per step (600 s bake, 300 s interval).
    expect(output.analyses).toHaveLength(6);
    expect(callsOf('smokeTest')).toEqual([
      {
        endpointName: 'forecast',
        deploymentName: 'v2',
        model: { name: 'demand-forecast', version: '2' },
        horizon: 7,
      },
    ]);
    expect(callsOf('deleteDeployment')).toEqual([{ endpointName: 'forecast', deploymentName: 'v1' }]);
    const models = scenario.current.models;
    expect(models.get('2')!.tags.champion).toBe('true');
    expect(models.get('1')!.tags.champion).toBeUndefined();
    expect(scenario.current.endpoint.traffic).toEqual({ v2: 100 });
    const steps = (status.customStatus as SagaStatus).steps.map((s) => s.name);
    expect(steps).toEqual([
      'check-model',
      'deploy',
      'smoke-test',
      'canary-10',
      'canary-50',
      'canary-100',
      'promote',
      'retire',
    ]);
  });

  it('rolls back on an SLO breach: blue back to 100%, green deleted, model tagged rejected with the reason', async () => {
    scenario.current.canaryVerdicts = ['healthy', 'breach'];
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-breach');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    const output = status.output as ReleaseOutput;
    expect(output.status).toBe('rolled-back');
    expect(output.reason).toBe('canary at 10%: p95 latency 900 ms > 600 ms');
    expect(trafficSteps()).toEqual([{ v2: 10, v1: 90 }, { v1: 100 }]);
    expect(callsOf('deleteDeployment')).toEqual([{ endpointName: 'forecast', deploymentName: 'v2' }]);
    expect(scenario.current.models.get('2')!.tags.rejected).toBe(
      'canary at 10%: p95 latency 900 ms > 600 ms',
    );
    expect(scenario.current.models.get('1')!.tags.champion).toBe('true');
    expect(scenario.current.endpoint.traffic).toEqual({ v1: 100 });
  });

  it('never moves traffic when the smoke test fails', async () => {
    scenario.current.smoke = { passed: false, latencyMs: 5, detail: '500 from /score' };
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-smoke');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.output).toMatchObject({
      status: 'rolled-back',
      reason: 'smoke test failed: 500 from /score',
    });
    expect(trafficSteps()).toEqual([]);
    expect(callsOf('deleteDeployment')).toEqual([{ endpointName: 'forecast', deploymentName: 'v2' }]);
  });

  it('skips a model the gate rejected', async () => {
    scenario.current.models.get('2')!.tags = { gate: 'failed' };
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-skip');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.output).toMatchObject({ status: 'skipped' });
    expect(callsOf('createDeployment')).toHaveLength(0);
  });

  describe('approval', () => {
    const needsApproval = { approval: { required: true, timeoutSeconds: 3600 } };

    async function waitForApprovalStep(id: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const status = await h.t.call('GET', `/runtime/webhooks/durabletask/instances/${id}`);
        if ((status.body as { customStatus?: SagaStatus }).customStatus?.step === 'approval') return;
        if (Date.now() > deadline) throw new Error(`no approval step: ${status.text}`);
        const due = h.clock.nextDue();
        // Deployment polling timers fire; the approval timeout must not.
        if (due && due.getTime() - h.clock.now().getTime() < 3600_000) h.clock.advanceTo(due);
        await new Promise((r) => setTimeout(r, 15));
      }
    }

    it('goes ahead when approved', async () => {
      const id = await h.t.start('releaseSaga', releaseInput('2', needsApproval), 'release-approved');
      await waitForApprovalStep(id);
      await raise(h.t, id, 'approval', { approved: true, by: 'ada' });
      const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
      expect(status.output).toMatchObject({ status: 'promoted' });
      const approval = (status.customStatus as SagaStatus).steps.find((s) => s.name === 'approval');
      expect(approval).toMatchObject({ status: 'succeeded', detail: 'approved by ada' });
    });

    it('rolls back when rejected', async () => {
      const id = await h.t.start('releaseSaga', releaseInput('2', needsApproval), 'release-rejected');
      await waitForApprovalStep(id);
      await raise(h.t, id, 'approval', { approved: false, by: 'grace', comment: 'not before the sale' });
      const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
      expect(status.output).toMatchObject({
        status: 'rolled-back',
        reason: 'rejected by grace: not before the sale',
      });
      expect(trafficSteps()).toEqual([]);
    });

    it('rejects when nobody answers before the timeout', async () => {
      const id = await h.t.start('releaseSaga', releaseInput('2', needsApproval), 'release-timeout');
      await waitForApprovalStep(id);
      const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
      expect(status.output).toMatchObject({
        status: 'rolled-back',
        reason: 'approval timed out after 3600 s',
      });
      expect(scenario.current.models.get('2')!.tags.rejected).toBe('approval timed out after 3600 s');
    });
  });

  it('bakes up to one more period while green has not been seen healthy, then judges', async () => {
    scenario.current.canaryVerdicts = [
      'insufficient-data',
      'insufficient-data',
      'insufficient-data',
      'healthy',
    ];
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-slow-traffic');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    const output = status.output as ReleaseOutput;
    expect(output.status).toBe('promoted');
    // Four analyses at 10% (two extra), two at 50% and two at 100%.
    expect(output.analyses).toHaveLength(8);
  });

  it('rolls back when green gets no judgeable traffic within twice the bake period', async () => {
    scenario.current.canaryVerdicts = ['insufficient-data'];
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-no-traffic');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    const output = status.output as ReleaseOutput;
    expect(output).toMatchObject({
      status: 'rolled-back',
      reason: 'canary at 10%: not enough requests to judge green within twice the bake period',
    });
    expect(output.analyses).toHaveLength(4);
    expect(scenario.current.endpoint.traffic).toEqual({ v1: 100 });
  });

  it('tags the previous champion retired only after promotion', async () => {
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-tags');
    await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    const tags = callsOf('tagModel') as TagModelInput[];
    expect(tags.map((c) => [c.model.version, Object.keys(c.set), c.remove])).toEqual([
      ['2', ['champion'], ['rejected', 'retired']],
      ['1', ['retired'], ['champion']],
    ]);
  });

  it('a failure after promotion puts blue back at 100% and hands the champion tag back to its model', async () => {
    scenario.current.failWhen = (name, input) =>
      name === 'deleteDeployment' && (input as { deploymentName: string }).deploymentName === 'v1'
        ? 'Unavailable: the platform did not answer'
        : undefined;
    const id = await h.t.start('releaseSaga', releaseInput('2'), 'release-fails-after-promotion');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Failed');
    expect(scenario.current.endpoint.traffic).toEqual({ v1: 100 });
    const models = scenario.current.models;
    expect(models.get('1')!.tags).toMatchObject({ champion: 'true' });
    expect(models.get('1')!.tags.retired).toBeUndefined();
    expect(models.get('2')!.tags.champion).toBeUndefined();
    expect(models.get('2')!.tags.rejected).toMatch(/Unavailable: the platform did not answer/);
  });
});
