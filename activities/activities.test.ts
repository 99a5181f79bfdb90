import { describe, expect, it } from 'vitest';
import {
  MlPlatformError,
  type BlobItem,
  type MlPlatform,
  type ModelVersion,
  type ModelVersionInput,
} from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import { PermanentActivityError, toBlobLocation, toDatastoreUri } from './deps.js';
import { createGetModel } from './getModel.js';
import { createRegisterModel } from './registerModel.js';
import { createSmokeTest } from './smokeTest.js';
import { createSubmitJob } from './submitJob.js';
import { createTagModel } from './tagModel.js';
import { createValidateDataset } from './validateDataset.js';

/** A registry-and-blobs fake of the port: only what these activities call. */
function fakePlatform(blobs: BlobItem[] = []) {
  const models: ModelVersion[] = [];
  const submitted: unknown[] = [];
  let conflictsLeft = 0;
  const platform = {
    dataLake: {
      list: async (container: string, prefix = '') =>
        blobs.filter((b) => b.container === container && b.path.startsWith(prefix)),
      download: async () =>
        Buffer.from(JSON.stringify({ keys: ['electronics.smartphone', 'apparel.shoes'] })),
    },
    listModels: async (name: string, filter?: { tag?: { key: string; value?: string } }) =>
      models
        .filter((m) => m.name === name)
        .filter((m) => !filter?.tag || m.tags[filter.tag.key] === filter.tag.value)
        .sort((a, b) => Number(b.version) - Number(a.version)),
    registerModel: async (input: ModelVersionInput) => {
      if (conflictsLeft > 0) {
        conflictsLeft--;
        // Another run registered this version first.
        models.push({
          ...input,
          version: input.version,
          modelType: 'custom_model',
          tags: {},
          properties: {},
        });
        throw new MlPlatformError('Conflict', `version ${input.version} exists with another body`);
      }
      const model: ModelVersion = {
        name: input.name,
        version: input.version,
        modelType: 'custom_model',
        modelUri: input.modelUri,
        tags: { ...input.tags },
        properties: { ...input.properties },
      };
      models.push(model);
      return model;
    },
    getModel: async (name: string, version: string) => {
      const m = models.find((x) => x.name === name && x.version === version);
      if (!m) throw new MlPlatformError('NotFound', `${name}:${version} not found`);
      return m;
    },
    setModelTags: async (name: string, version: string, tags: Record<string, string>) => {
      const m = models.find((x) => x.name === name && x.version === version)!;
      m.tags = { ...m.tags, ...tags };
      return m;
    },
    submitJob: async (job: { name: string }) => {
      submitted.push(job);
      return { name: job.name, status: 'Queued', experimentName: 'x', tags: {}, outputs: {} };
    },
    invokeEndpoint: async () => ({ status: 200, body: {} as unknown }),
  };
  const deps: ActivityDeps = {
    platform: platform as unknown as MlPlatform,
    jobSpecDir: '/app/aml/jobs',
    datastores: { raw: 'rawstore', curated: 'curatedstore' },
    outputsContainer: 'curated',
    runsContainer: 'runs',
    log: () => undefined,
  };
  return {
    deps,
    platform,
    models,
    submitted,
    conflictOnce: () => {
      conflictsLeft = 1;
    },
  };
}

const blob = (path: string, size = 100, etag = '"1"'): BlobItem => ({
  container: 'raw',
  path,
  size,
  etag,
  lastModified: new Date(0),
});

describe('validateDataset', () => {
  it('versions the dataset by content identity and ignores files that are not .csv.gz', async () => {
    const f = fakePlatform([
      blob('clickstream/2019-10.csv.gz'),
      blob('clickstream/2019-11.csv.gz'),
      blob('clickstream/notes.txt'),
    ]);
    const validate = createValidateDataset(f.deps);
    const first = await validate({ dataset: { container: 'raw', prefix: 'clickstream/' }, modelName: 'm' });
    expect(first.blobs.map((b) => b.path)).toEqual([
      'clickstream/2019-10.csv.gz',
      'clickstream/2019-11.csv.gz',
    ]);
    expect(first.totalBytes).toBe(200);
    const again = await validate({ dataset: { container: 'raw', prefix: 'clickstream/' }, modelName: 'm' });
    expect(again.datasetVersion).toBe(first.datasetVersion);

    const changed = fakePlatform([
      blob('clickstream/2019-10.csv.gz', 100, '"2"'),
      blob('clickstream/2019-11.csv.gz'),
    ]);
    const other = await createValidateDataset(changed.deps)({
      dataset: { container: 'raw', prefix: 'clickstream/' },
      modelName: 'm',
    });
    expect(other.datasetVersion).not.toBe(first.datasetVersion);
  });

  it('refuses an empty prefix, a missing blob and an empty blob with permanent errors', async () => {
    const f = fakePlatform([blob('clickstream/empty.csv.gz', 0)]);
    const validate = createValidateDataset(f.deps);
    await expect(
      validate({ dataset: { container: 'raw', prefix: 'nothing/' }, modelName: 'm' }),
    ).rejects.toMatchObject({
      code: 'DATASET_EMPTY',
    });
    await expect(
      validate({
        dataset: { container: 'raw', prefix: 'clickstream/', blobs: ['clickstream/gone.csv.gz'] },
        modelName: 'm',
      }),
    ).rejects.toThrow('raw/clickstream/gone.csv.gz does not exist.');
    await expect(
      validate({ dataset: { container: 'raw', prefix: 'clickstream/' }, modelName: 'm' }),
    ).rejects.toBeInstanceOf(PermanentActivityError);
  });

  it("reports the champion's dataset version and model", async () => {
    const f = fakePlatform([blob('clickstream/2019-10.csv.gz')]);
    f.models.push({
      name: 'm',
      version: '3',
      modelType: 'custom_model',
      modelUri: 'azureml://datastores/curatedstore/paths/jobs/x/model',
      tags: { champion: 'true', datasetVersion: 'abc' },
      properties: {},
    });
    const out = await createValidateDataset(f.deps)({
      dataset: { container: 'raw', prefix: 'clickstream/' },
      modelName: 'm',
    });
    expect(out).toMatchObject({ championVersion: '3', championDatasetVersion: 'abc' });
  });
});

describe('registerModel', () => {
  const input = {
    modelName: 'm',
    modelUri: 'azureml://datastores/curatedstore/paths/jobs/r1-train/model',
    runId: 'r1',
    tags: {},
    properties: {},
  };

  it('registers the next version once per run, with sample keys for the smoke test', async () => {
    const f = fakePlatform();
    const register = createRegisterModel(f.deps);
    expect(await register(input)).toEqual({ name: 'm', version: '1' });
    expect(await register(input)).toEqual({ name: 'm', version: '1' });
    expect(await register({ ...input, runId: 'r2' })).toEqual({ name: 'm', version: '2' });
    expect(f.models[0]!.properties.sampleKeys).toBe('electronics.smartphone,apparel.shoes');
  });

  it('takes the next version when another run registered the same one concurrently', async () => {
    const f = fakePlatform();
    f.conflictOnce();
    expect(await createRegisterModel(f.deps)(input)).toEqual({ name: 'm', version: '2' });
  });
});

describe('tagModel and getModel', () => {
  it('removes tags by emptying them, and getModel leaves empty tags out', async () => {
    const f = fakePlatform();
    await createRegisterModel(f.deps)({
      modelName: 'm',
      modelUri: 'u',
      runId: 'r',
      tags: { champion: 'true' },
      properties: {},
    });
    await createTagModel(f.deps)({
      model: { name: 'm', version: '1' },
      set: { rejected: 'p95 too high' },
      remove: ['champion'],
    });
    const model = await createGetModel(f.deps)({ name: 'm', version: '1' });
    expect(model.tags).toEqual({ runId: 'r', rejected: 'p95 too high' });
  });
});

describe('submitJob', () => {
  it('maps data-lake inputs to datastore URIs and pins outputs under the job name', async () => {
    const f = fakePlatform();
    await createSubmitJob(f.deps)({
      jobName: 'run1-etl',
      kind: 'etl',
      inputs: { raw: 'blob://raw/clickstream/', threads: '2' },
      tags: { runId: 'run1' },
      computeName: 'cpu',
    });
    expect(f.submitted[0]).toMatchObject({
      name: 'run1-etl',
      specPath: '/app/aml/jobs/etl.yml',
      inputs: {
        raw: { type: 'uri_folder', path: 'azureml://datastores/rawstore/paths/clickstream/' },
        threads: '2',
      },
      outputs: {
        series: { type: 'uri_folder', path: 'azureml://datastores/curatedstore/paths/jobs/run1-etl/series/' },
      },
    });
  });

  it('round-trips between blob and datastore addresses and refuses unknown ones', () => {
    const deps = fakePlatform().deps;
    expect(toBlobLocation(deps, toDatastoreUri(deps, 'blob://curated/jobs/a/model/'))).toEqual({
      container: 'curated',
      path: 'jobs/a/model',
    });
    expect(() => toDatastoreUri(deps, 'blob://elsewhere/x')).toThrow(
      'No Azure ML datastore is configured for container "elsewhere".',
    );
    expect(() => toBlobLocation(deps, 'azureml://datastores/unknown/paths/x')).toThrow(
      PermanentActivityError,
    );
  });
});

describe('smokeTest', () => {
  async function smoke(body: unknown, status = 200) {
    const f = fakePlatform();
    await createRegisterModel(f.deps)({
      modelName: 'm',
      modelUri: 'azureml://datastores/curatedstore/paths/x',
      runId: 'r',
      tags: {},
      properties: {},
    });
    f.platform.invokeEndpoint = async () => ({ status, body });
    return createSmokeTest(f.deps)({
      endpointName: 'e',
      deploymentName: 'v1',
      model: { name: 'm', version: '1' },
      horizon: 7,
    });
  }
  const points = (n: number, value = 3) =>
    Array.from({ length: n }, (_, i) => ({ date: `2019-11-0${i + 1}`, purchases: value }));

  it('passes a well-formed answer for every sample key', async () => {
    const result = await smoke({
      model: { name: 'm', version: '1' },
      forecasts: [
        { key: 'electronics.smartphone', points: points(7) },
        { key: 'apparel.shoes', points: points(7) },
      ],
    });
    expect(result.passed).toBe(true);
  });

  it('fails on an error status, a missing key, a short horizon and a negative forecast', async () => {
    expect((await smoke({ error: 'boom' }, 500)).detail).toMatch(/^\/score answered 500/);
    expect((await smoke({ forecasts: [{ key: 'electronics.smartphone', points: points(7) }] })).detail).toBe(
      'no forecast for apparel.shoes',
    );
    expect(
      (
        await smoke({
          forecasts: [
            { key: 'electronics.smartphone', points: points(3) },
            { key: 'apparel.shoes', points: points(7) },
          ],
        })
      ).detail,
    ).toBe('3 days for electronics.smartphone, expected 7');
    const negative = await smoke({
      forecasts: [
        { key: 'electronics.smartphone', points: points(7, -1) },
        { key: 'apparel.shoes', points: points(7) },
      ],
    });
    expect(negative).toMatchObject({
      passed: false,
      detail: 'invalid forecast -1 for electronics.smartphone on 2019-11-01',
    });
  });
});
