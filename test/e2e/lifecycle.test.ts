import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaHost, sampleData, sampleUploads, scoringTraffic, uploadSample } from './support/sagaHost.js';

/**
 * One model's life on the real local platform (jobs as processes, Azurite registry, local endpoint), each
 * test building on the state the one before left: the first upload trains and releases v1; the next
 * upload trains v2 whose green is slow (+800 ms injected into deployment v2) and is rolled back; the one
 * after trains v3, which canaries against v1 and replaces it; a truncated upload fails its run and changes
 * nothing.
 */
let host: SagaHost;
let traffic: ReturnType<typeof scoringTraffic>;
const known = { training: [] as string[], release: [] as string[] };

beforeAll(async () => {
  // Generate every upload before the first lands: uploads of one scenario must not straddle a quiet window.
  for (const upload of Object.values(sampleUploads)) await sampleData(upload.start, upload.days);
  host = await SagaHost.start({
    LOCAL_DEPLOYMENT_FAULTS: JSON.stringify({ v2: { addedLatencyMs: 800 } }),
  });
  traffic = scoringTraffic(host);
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await host?.stop();
}, 60_000);

/** The next run of a type after the ones seen so far, followed to its end. */
async function nextRunToEnd(type: 'training' | 'release') {
  const id = await host.nextRun(type, known[type]);
  known[type].push(id);
  return host.waitRun(id);
}

describe('model lifecycle on the local platform', () => {
  it('first upload: trains, registers v1 and releases it to 100% (nothing served before)', async () => {
    await uploadSample(host, 'history');
    const training = await nextRunToEnd('training');
    expect(training.output?.status, JSON.stringify(training.output)).toBe('registered');
    expect(training.output?.model).toEqual({ name: 'demand-forecast', version: '1' });
    expect(training.steps.map((s) => s.name)).toEqual(['validate', 'etl', 'train', 'gate', 'register']);

    const release = await nextRunToEnd('release');
    expect(release.id).toBe('release-demand-forecast-1');
    expect(release.output?.status, JSON.stringify(release.output)).toBe('promoted');
    expect(release.steps.map((s) => s.name)).toContain('canary-100');
    expect((await host.endpoint())?.traffic).toEqual({ v1: 100 });
    const [v1] = await host.models();
    expect(v1?.tags).toMatchObject({ champion: 'true', gate: 'passed' });
  }, 420_000);

  it('a green with +800 ms latency is rolled back within one analysis interval; blue keeps 100%', async () => {
    await uploadSample(host, 'next');
    const training = await nextRunToEnd('training');
    expect(training.output?.status, JSON.stringify(training.output)).toBe('registered');
    expect(training.output?.model?.version).toBe('2');

    const release = await nextRunToEnd('release');
    expect(release.output?.status, JSON.stringify(release.output)).toBe('rolled-back');
    // The first analysis of the first canary step caught it.
    expect(release.output?.analyses).toHaveLength(1);
    expect(release.output?.analyses?.[0]?.verdict).toBe('breach');
    expect(release.output?.reason).toMatch(/canary at 50%: .*p95/);
    const endpoint = await host.endpoint();
    expect(endpoint?.traffic).toEqual({ v1: 100 });
    expect(endpoint?.deployments.map((d) => d.name)).toEqual(['v1']);
    const [v1, v2] = await host.models();
    expect(v2?.tags.rejected).toMatch(/canary at 50%: .*p95/);
    expect(v2?.tags.champion ?? '').toBe('');
    expect(v1?.tags.champion).toBe('true');
  }, 420_000);

  it('a later upload retrains against the champion, canaries against blue, promotes and retires v1', async () => {
    await uploadSample(host, 'later');
    const training = await nextRunToEnd('training');
    expect(training.output?.status, JSON.stringify(training.output)).toBe('registered');
    expect(training.output?.model?.version).toBe('3');
    expect(training.output?.championVersion).toBe('1');
    expect(training.output?.gate?.checks.map((c) => c.name)).toContain('within_champion_wape');

    const release = await nextRunToEnd('release');
    expect(release.output?.status, JSON.stringify(release.output)).toBe('promoted');
    expect(release.output?.previousDeployment).toBe('v1');
    expect(release.steps.map((s) => s.name)).toEqual([
      'check-model',
      'deploy',
      'smoke-test',
      'canary-50',
      'canary-100',
      'promote',
      'retire',
    ]);
    const endpoint = await host.endpoint();
    expect(endpoint?.traffic).toEqual({ v3: 100 });
    expect(endpoint?.deployments.map((d) => d.name)).toEqual(['v3']);
    const [v1, , v3] = await host.models();
    expect(v3?.tags.champion).toBe('true');
    // The registry keeps removed tags as empty values.
    expect(v1?.tags.champion ?? '').toBe('');
    expect(v1?.tags.retired).toMatch(/^\d{4}-\d\d-\d\dT/);
  }, 420_000);

  it('a truncated upload fails its run naming the file and why; nothing is registered or deployed', async () => {
    // A month's dump cut off after 2 kB, as an interrupted copy leaves it: the header reads fine, the
    // stream then breaks off mid-file.
    const whole = await readFile(await sampleData(sampleUploads.later.start, sampleUploads.later.days));
    await host.upload('2019-06-12.csv.gz', whole.subarray(0, 2000));
    const training = await nextRunToEnd('training');
    expect(training.runtimeStatus).toBe('Failed');
    const etl = training.steps.find((s) => s.name === 'etl');
    expect(etl?.status).toBe('failed');
    expect(etl?.detail).toMatch(/2019-06-12\.csv\.gz: cannot decompress: unexpected end of file/);
    expect((await host.models()).map((m) => m.version)).toEqual(['1', '2', '3']);
    expect((await host.endpoint())?.traffic).toEqual({ v3: 100 });
    expect(await host.runIds('release')).toEqual(known.release);
  }, 420_000);
});
