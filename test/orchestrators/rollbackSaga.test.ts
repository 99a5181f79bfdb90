import { beforeEach, describe, expect, it } from 'vitest';
import type { RollbackInput, RollbackOutput, SetTrafficInput } from '../../activities/contracts.js';
import { callsOf, scenario, servingScenario } from '../fixtures/saga-app/fakes.js';
import { releaseConfig, runUntil, useSagaHost } from './support.js';

const h = useSagaHost();

const input: RollbackInput = {
  modelName: 'demand-forecast',
  reason: 'forecasts too low',
  config: releaseConfig,
};

beforeEach(() => {
  // v1 served until v2 was promoted; v2 serves 100% now.
  scenario.current = servingScenario('2', {
    '1': { retired: '2026-03-01T00:00:00Z' },
    '2': { champion: 'true' },
  });
});

describe('rollback saga', () => {
  it('puts the previous champion back at 100% and tags the current one rejected with the reason', async () => {
    const id = await h.t.start('rollbackSaga', input, 'rollback-1');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    const output = status.output as RollbackOutput;
    expect(output).toMatchObject({ status: 'rolled-back', from: { version: '2' }, to: { version: '1' } });
    expect((callsOf('setTraffic') as SetTrafficInput[]).map((c) => c.traffic)).toEqual([
      { v1: 100, v2: 0 },
      { v1: 100 },
    ]);
    expect(scenario.current.endpoint.traffic).toEqual({ v1: 100 });
    expect(callsOf('deleteDeployment')).toEqual([{ endpointName: 'forecast', deploymentName: 'v2' }]);
    expect(scenario.current.models.get('1')!.tags.champion).toBe('true');
    // The registry says v1 serves: champion again, no longer retired.
    expect(scenario.current.models.get('1')!.tags.retired).toBeUndefined();
    expect(scenario.current.models.get('2')!.tags).toMatchObject({
      rejected: 'rolled back by hand: forecasts too low',
    });
    expect(scenario.current.models.get('2')!.tags.champion).toBeUndefined();
  });

  it('says so when no earlier model served', async () => {
    scenario.current.models.delete('1');
    const id = await h.t.start('rollbackSaga', input, 'rollback-2');
    const status = await runUntil(h.t, h.clock, id, ['Completed', 'Failed']);
    expect(status.output).toMatchObject({ status: 'nothing-to-roll-back-to' });
    expect(callsOf('createDeployment')).toHaveLength(0);
    expect(scenario.current.endpoint.traffic).toEqual({ v2: 100 });
  });
});
