import { describe, expect, it } from 'vitest';
import type { NotifyInput, SubmitJobInput, TrainingRunInput } from '../../activities/contracts.js';
import type {
  ReleaseCoordinatorState,
  ReleaseRequest,
  TrainingCoordinatorState,
  TrainingRequest,
} from '../../orchestrators/coordinators.js';
import { callsOf, newScenario, scenario, servingScenario } from '../fixtures/saga-app/fakes.js';
import { driveUntil, raise, releaseInput, runtimeStatus, useSagaHost, trainingInput } from './support.js';

const h = useSagaHost();

const isDone = async (id: string) => ['Completed', 'Failed'].includes((await runtimeStatus(h.t, id)) ?? '');

describe('release coordinator', () => {
  it('releases one model at a time: a newer version goes next, an older one and repeats are skipped', async () => {
    scenario.current = servingScenario('1', { '1': {}, '2': {}, '3': {} });
    const state: ReleaseCoordinatorState = { endpointName: 'forecast', pending: [], seen: [], releases: 0 };
    const id = await h.t.start('releaseCoordinator', state, 'release-coordinator-forecast');
    const request = (version: string, eventId: string): ReleaseRequest => ({
      release: releaseInput(version),
      dedupeKey: eventId,
    });

    await raise(h.t, id, 'work', request('2', 'evt-2'));
    await driveUntil(
      h.clock,
      async () => (await runtimeStatus(h.t, 'release-demand-forecast-2')) !== undefined,
    );
    // While v2 is being released: the same event again, an older version, a newer version.
    await raise(h.t, id, 'work', request('2', 'evt-2'));
    await raise(h.t, id, 'work', request('1', 'evt-1'));
    await raise(h.t, id, 'work', request('3', 'evt-3'));
    await driveUntil(h.clock, () => isDone('release-demand-forecast-3'));

    expect(await runtimeStatus(h.t, 'release-demand-forecast-2')).toBe('Completed');
    expect(await runtimeStatus(h.t, 'release-demand-forecast-3')).toBe('Completed');
    expect(await runtimeStatus(h.t, 'release-demand-forecast-1')).toBeUndefined();
    expect(scenario.current.endpoint.traffic).toEqual({ v3: 100 });
    const superseded = (callsOf('notify') as NotifyInput[]).filter((n) => n.event === 'release.superseded');
    expect(superseded.map((n) => n.runId)).toEqual(['release-demand-forecast-1']);
    expect(callsOf('createDeployment')).toHaveLength(2);
    expect(await runtimeStatus(h.t, id)).toBe('Running');
  });
});

describe('training coordinator', () => {
  it('trains arrivals within the quiet window together once and ignores repeated deliveries', async () => {
    scenario.current = newScenario();
    const state: TrainingCoordinatorState = { modelName: 'demand-forecast', pending: [], seen: [], runs: 0 };
    const id = await h.t.start('trainingCoordinator', state, 'training-coordinator-demand-forecast');
    const arrival = (blob: string, etag: string, runId: string): TrainingRequest => {
      const run: TrainingRunInput = trainingInput({
        dataset: { container: 'raw', prefix: 'clickstream/', blobs: [blob] },
      });
      return { runId, dedupeKey: `${blob}@${etag}`, run, quietWindowSeconds: 60 };
    };

    await raise(h.t, id, 'work', arrival('clickstream/2019-10.csv.gz', 'e1', 'train-a'));
    await raise(h.t, id, 'work', arrival('clickstream/2019-11.csv.gz', 'e1', 'train-b'));
    await raise(h.t, id, 'work', arrival('clickstream/2019-10.csv.gz', 'e1', 'train-a'));
    await driveUntil(h.clock, () => isDone('train-a'));
    // The same blob delivered again after its run is not trained again.
    await raise(h.t, id, 'work', arrival('clickstream/2019-10.csv.gz', 'e1', 'train-a'));
    await driveUntil(h.clock, async () => {
      const status = await h.t.call('GET', `/runtime/webhooks/durabletask/instances/${id}`);
      return (status.body as { customStatus?: { state?: string } }).customStatus?.state === 'idle';
    });

    expect(await runtimeStatus(h.t, 'train-a')).toBe('Completed');
    expect(await runtimeStatus(h.t, 'train-b')).toBeUndefined();
    const etl = (callsOf('submitJob') as SubmitJobInput[]).filter((j) => j.kind === 'etl');
    expect(etl).toHaveLength(1);
    const validated = callsOf('validateDataset') as { dataset: { blobs: string[] } }[];
    expect(validated[0]!.dataset.blobs).toEqual(['clickstream/2019-10.csv.gz', 'clickstream/2019-11.csv.gz']);
  });
});
