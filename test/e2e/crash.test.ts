import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaHost, sampleData, sampleUploads, scoringTraffic } from './support/sagaHost.js';

/**
 * The host process dies without warning (SIGKILL) while the training job runs and again while the release
 * bakes its canary; each time a new host process on the same storage and state picks the sagas up. They
 * finish as if nothing happened: one run of each, one job per step, one model version, one deployment.
 */
let host: SagaHost;
let traffic: ReturnType<typeof scoringTraffic>;

beforeAll(async () => {
  const { start, days } = sampleUploads.history;
  await sampleData(start, days);
  host = await SagaHost.start();
  traffic = scoringTraffic(host);
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await host?.stop();
}, 60_000);

describe('sagas across host crashes', () => {
  it('a kill during training: the restarted host finishes the run with one job per step and one model', async () => {
    const { name, start, days } = sampleUploads.history;
    await host.upload(name, await sampleData(start, days));
    const runId = await host.nextRun('training', []);
    await host.waitRun(runId, (run) => run.step === 'train' && /-train: Running/.test(String(run.progress)));
    const running = (await host.jobs()).find((j) => j.name.endsWith('-train'));
    expect(running?.status).toBe('Running');
    await host.kill();
    await host.restart();

    const run = await host.waitRun(runId);
    expect(run.output?.status, JSON.stringify(run.output)).toBe('registered');
    expect(await host.runIds('training')).toEqual([runId]);
    const jobs = await host.jobs();
    expect(jobs.map((j) => `${j.name}:${j.status}`).sort()).toEqual([
      `${runId}-etl:Completed`,
      `${runId}-train:Completed`,
    ]);
    expect((await host.models()).map((m) => m.version)).toEqual(['1']);
  }, 420_000);

  it('a kill during the canary: the restarted host promotes the model with one release and one deployment', async () => {
    const releaseId = await host.nextRun('release', []);
    await host.waitRun(releaseId, (run) => run.step === 'canary-100');
    await host.kill();
    expect((await host.endpoint())?.traffic).toEqual({ v1: 100 });
    await host.restart();

    const release = await host.waitRun(releaseId);
    expect(release.output?.status, JSON.stringify(release.output)).toBe('promoted');
    expect(await host.runIds('release')).toEqual([releaseId]);
    const endpoint = await host.endpoint();
    expect(endpoint?.deployments.map((d) => d.name)).toEqual(['v1']);
    expect(endpoint?.traffic).toEqual({ v1: 100 });
    const models = await host.models();
    expect(models.map((m) => [m.version, m.tags.champion])).toEqual([['1', 'true']]);
    expect(traffic.sent).toBeGreaterThan(0);
  }, 420_000);
});
