import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AzureKeyCredential, EventGridPublisherClient } from '@azure/eventgrid';
import { BlobServiceClient } from '@azure/storage-blob';
import type { EventGridEvent } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../host.js';
import { createMemoryLogger } from '../log.js';
import { localEventGridDevKey, localEventGridExtension, localEventGridPrefix } from './extension.js';

const appDir = fileURLToPath(new URL('./__fixtures__/eg-app/', import.meta.url));
const received = () =>
  (globalThis as { egReceived?: { fn: string; event: EventGridEvent }[] }).egReceived ?? [];

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('local Event Grid inside the local host', () => {
  let host: LocalHost;
  let stateDir: string;
  const extension = localEventGridExtension({
    subscriptions: [
      {
        name: 'raw-blobs',
        functionName: 'onRawBlob',
        includedEventTypes: ['Microsoft.Storage.BlobCreated'],
        subjectBeginsWith: '/blobServices/default/containers/raw/',
      },
      { name: 'app', functionName: 'onAppEvent', includedEventTypes: ['MLOps.Saga.Promoted'] },
    ],
    watchContainers: ['raw'],
    pollIntervalMs: 50,
  });

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'eg-host-'));
    host = await LocalHost.start({
      appDir,
      port: 0,
      storage: 'memory',
      stateDir,
      logger: createMemoryLogger(),
      extensions: [extension],
    });
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('delivers an upload to Azurite to the blob-triggered function as BlobCreated', async () => {
    const blobs = BlobServiceClient.fromConnectionString(host.storageConnectionString);
    const raw = blobs.getContainerClient('raw');
    await raw.createIfNotExists();
    await raw.getBlockBlobClient('2019-Oct.csv.gz').upload('x', 1);
    await until(() => received().some((r) => r.fn === 'onRawBlob'));
    const got = received().find((r) => r.fn === 'onRawBlob');
    expect(got?.event.eventType).toBe('Microsoft.Storage.BlobCreated');
    expect(got?.event.subject).toBe('/blobServices/default/containers/raw/blobs/2019-Oct.csv.gz');
  });

  it('delivers events published with EventGridPublisherClient to the host endpoint', async () => {
    const client = new EventGridPublisherClient(
      `${host.baseUrl}${localEventGridPrefix}/api/events`,
      'EventGrid',
      new AzureKeyCredential(localEventGridDevKey),
      {
        allowInsecureConnection: true,
      },
    );
    await client.send([
      {
        eventType: 'MLOps.Saga.Promoted',
        subject: 'models/demand/versions/3',
        dataVersion: '1',
        data: { version: 3 },
      },
    ]);
    await until(() => received().some((r) => r.fn === 'onAppEvent'));
    const got = received().find((r) => r.fn === 'onAppEvent');
    expect(got?.event.data).toEqual({ version: 3 });
    expect(got?.event.topic).toBe(extension.grid?.topicId);
    expect(received().filter((r) => r.fn === 'onRawBlob')).toHaveLength(1);
  });
});
