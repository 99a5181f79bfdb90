import type * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { testTriggerConfig } from './__fixtures__/triggerConfig.js';
import { MalformedEventError, blobOf, envelope } from './eventData.js';
import { onDatasetDrift, onModelRegistered, onMonitorBreach, onRawBlobCreated } from './eventTriggers.js';

const config = testTriggerConfig;

/** A durable client fake: instances it started and events it raised. */
function fakeClient() {
  const started: { name: string; instanceId: string }[] = [];
  const raised: { instanceId: string; event: string; data: unknown }[] = [];
  const client = {
    getStatus: async (instanceId: string) => {
      if (!started.some((s) => s.instanceId === instanceId)) throw new Error('404');
      return { runtimeStatus: 'Running' };
    },
    startNew: async (name: string, options: { instanceId: string }) => {
      started.push({ name, instanceId: options.instanceId });
      return options.instanceId;
    },
    raiseEvent: async (instanceId: string, event: string, data: unknown) => {
      raised.push({ instanceId, event, data });
    },
  };
  return { client: client as unknown as df.DurableClient, started, raised };
}

const blobEvent = (path: string, etag = '0x8D1', container = 'raw') => ({
  id: `evt-${path}-${etag}`,
  topic: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/lake',
  subject: `/blobServices/default/containers/${container}/blobs/${path}`,
  eventType: 'Microsoft.Storage.BlobCreated',
  eventTime: '2026-03-02T08:00:00Z',
  data: {
    api: 'PutBlob',
    eTag: etag,
    contentLength: 1234,
    url: `https://lake.blob.core.windows.net/${container}/${path}`,
  },
  dataVersion: '',
  metadataVersion: '1',
});

describe('BlobCreated trigger', () => {
  it('sends one training request per blob version to the per-model coordinator, starting it once', async () => {
    const f = fakeClient();
    const first = await onRawBlobCreated(blobEvent('clickstream/2019-10.csv.gz'), f.client, config);
    const again = await onRawBlobCreated(blobEvent('clickstream/2019-10.csv.gz'), f.client, config);
    expect(first).toEqual(again);
    expect(first).toMatchObject({ action: 'started' });
    expect(f.started).toEqual([
      { name: 'trainingCoordinator', instanceId: 'training-coordinator-demand-forecast' },
    ]);
    expect(f.raised).toHaveLength(2);
    expect(f.raised[0]!.data).toMatchObject({
      dedupeKey: 'raw/clickstream/2019-10.csv.gz@0x8D1',
      quietWindowSeconds: 60,
    });
    const newer = await onRawBlobCreated(blobEvent('clickstream/2019-10.csv.gz', '0x8D2'), f.client, config);
    expect(newer).not.toEqual(first);
  });

  it('ignores other containers, prefixes, file types and empty files', async () => {
    const f = fakeClient();
    expect(
      await onRawBlobCreated(blobEvent('clickstream/a.csv.gz', 'e', 'curated'), f.client, config),
    ).toMatchObject({ action: 'ignored' });
    expect(await onRawBlobCreated(blobEvent('other/a.csv.gz'), f.client, config)).toMatchObject({
      action: 'ignored',
    });
    expect(await onRawBlobCreated(blobEvent('clickstream/a.csv'), f.client, config)).toMatchObject({
      action: 'ignored',
    });
    const empty = blobEvent('clickstream/b.csv.gz');
    empty.data.contentLength = 0;
    expect(await onRawBlobCreated(empty, f.client, config)).toMatchObject({
      action: 'ignored',
      reason: expect.stringMatching(/empty/),
    });
    expect(f.raised).toHaveLength(0);
  });

  it('rejects malformed events with the reason', async () => {
    const f = fakeClient();
    await expect(
      onRawBlobCreated({ id: 'x', eventType: 'Microsoft.Storage.BlobCreated' }, f.client, config),
    ).rejects.toThrow('Event x (Microsoft.Storage.BlobCreated) has no data object.');
    const noVersion = blobEvent('clickstream/c.csv.gz');
    delete (noVersion.data as Partial<typeof noVersion.data>).eTag;
    await expect(onRawBlobCreated(noVersion, f.client, config)).rejects.toBeInstanceOf(MalformedEventError);
  });

  it('reads CloudEvents and Azurite URLs', () => {
    const e = envelope({
      id: '1',
      type: 'Microsoft.Storage.BlobCreated',
      subject: '',
      data: { url: 'http://127.0.0.1:10000/devstoreaccount1/raw/clickstream/x%20y.csv.gz' },
    });
    expect(blobOf(e)).toEqual({ container: 'raw', path: 'clickstream/x y.csv.gz' });
  });
});

describe('Azure ML triggers', () => {
  const registered = (name: string, version: unknown) => ({
    id: `reg-${version}`,
    subject: `models/${name}:${version}`,
    eventType: 'Microsoft.MachineLearningServices.ModelRegistered',
    data: { ModelName: name, ModelVersion: version, ModelTags: {}, ModelProperties: {} },
  });

  it('releases our model, reading PascalCase data and numeric versions; other models are ignored', async () => {
    const f = fakeClient();
    expect(await onModelRegistered(registered('demand-forecast', 20), f.client, config)).toEqual({
      action: 'started',
      instanceId: 'release-demand-forecast-20',
    });
    expect(f.raised[0]).toMatchObject({
      instanceId: 'release-coordinator-forecast',
      event: 'work',
      data: { dedupeKey: 'demand-forecast:20' },
    });
    expect(await onModelRegistered(registered('other-model', 1), f.client, config)).toMatchObject({
      action: 'ignored',
    });
    const camel = {
      ...registered('demand-forecast', '21'),
      data: { modelName: 'demand-forecast', modelVersion: '21' },
    };
    expect(await onModelRegistered(camel, f.client, config)).toMatchObject({
      instanceId: 'release-demand-forecast-21',
    });
  });

  it('retrains on drift and on a monitor breach, not on other run status changes', async () => {
    const f = fakeClient();
    const drift = {
      id: 'd1',
      eventType: 'Microsoft.MachineLearningServices.DatasetDriftDetected',
      data: { DataDriftId: 'x', RunId: 'r1' },
    };
    expect(await onDatasetDrift(drift, f.client, config)).toMatchObject({ action: 'started' });
    const run = (tags: Record<string, string>) => ({
      id: 'rs1',
      eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
      data: { RunId: 'monitor-run-1', RunStatus: 'Failed', RunTags: tags },
    });
    expect(await onMonitorBreach(run({}), f.client, config)).toMatchObject({ action: 'ignored' });
    expect(
      await onMonitorBreach(
        run({
          azureml_modelmonitor_threshold_breached:
            'has failed due to one or more features violating metric thresholds',
        }),
        f.client,
        config,
      ),
    ).toMatchObject({ action: 'started' });
    expect(
      f.raised.map((r) => (r.data as { run: { trigger: { source: string } } }).run.trigger.source),
    ).toEqual(['drift', 'monitor']);
  });
});
