import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  resolveWebJobsStorage,
  startAzurite,
  StorageError,
  storageReachable,
  type StorageHandle,
} from './azurite.js';

describe('azurite', () => {
  let storage: StorageHandle;
  beforeAll(async () => {
    storage = await startAzurite();
  });
  afterAll(async () => {
    await storage.stop();
  });

  it('starts in memory on ephemeral loopback ports and stores blobs', async () => {
    expect(storage.blobEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    expect(storage.blobEndpoint).not.toContain(':10000/');
    const blobs = BlobServiceClient.fromConnectionString(storage.connectionString);
    const container = blobs.getContainerClient('probe');
    await container.createIfNotExists();
    await container.getBlockBlobClient('a.txt').upload('hi', 2);
    const text = await container.getBlockBlobClient('a.txt').downloadToBuffer();
    expect(text.toString()).toBe('hi');
  });

  it('reuses a running Azurite named by a connection string', async () => {
    const reused = await resolveWebJobsStorage(storage.connectionString);
    expect(reused.owned).toBe(false);
    expect(reused.blobEndpoint).toBe(storage.blobEndpoint);
    await reused.stop();
    expect(
      await storageReachable({
        blob: storage.blobEndpoint,
        queue: storage.queueEndpoint,
        table: storage.tableEndpoint,
      }),
    ).toBe(true);
  });

  it('refuses storage that is not on loopback', async () => {
    const remote =
      'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=eA==;BlobEndpoint=https://x.blob.core.windows.net;QueueEndpoint=https://x.queue.core.windows.net;TableEndpoint=https://x.table.core.windows.net';
    await expect(resolveWebJobsStorage(remote)).rejects.toMatchObject({ code: 'STORAGE_NOT_LOOPBACK' });
    await expect(resolveWebJobsStorage('AccountName=x')).rejects.toBeInstanceOf(StorageError);
  });

  it('stops the child so its endpoints go away', async () => {
    const other = await startAzurite();
    const endpoints = { blob: other.blobEndpoint, queue: other.queueEndpoint, table: other.tableEndpoint };
    expect(await storageReachable(endpoints)).toBe(true);
    await other.stop();
    expect(await storageReachable(endpoints, 500)).toBe(false);
  });
});
