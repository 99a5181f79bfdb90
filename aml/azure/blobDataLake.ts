/**
 * The data lake over `@azure/storage-blob`. The same code serves both worlds: Azure Blob Storage with a
 * managed identity, and Azurite with its connection string (Azurite speaks the same REST API).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { RestError, type BlobServiceClient } from '@azure/storage-blob';
import { MlPlatformError, type BlobItem, type BlobLease, type DataLake } from '../port.js';

/** Maps a storage RestError to the port's error codes. */
export function storageError(err: unknown, what: string): MlPlatformError {
  if (!(err instanceof RestError)) {
    return new MlPlatformError(
      'Unavailable',
      `${what}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const status = err.statusCode ?? 0;
  const platformCode = err.code ?? String(status);
  const details = { platformCode, status, cause: err };
  const message = `${what}: ${platformCode}`;
  if (status === 404) return new MlPlatformError('NotFound', message, details);
  if (status === 409 || status === 412) return new MlPlatformError('Conflict', message, details);
  if (status === 401 || status === 403) return new MlPlatformError('Unauthorized', message, details);
  if (status === 429 || status === 503) return new MlPlatformError('Throttled', message, details);
  if (status >= 500 || status === 0) return new MlPlatformError('Unavailable', message, details);
  return new MlPlatformError('InvalidRequest', message, details);
}

/** DataLake backed by a BlobServiceClient; containers are created on first write. */
export class BlobDataLake implements DataLake {
  readonly #created = new Set<string>();

  constructor(readonly service: BlobServiceClient) {}

  async #container(name: string) {
    const client = this.service.getContainerClient(name);
    if (!this.#created.has(name)) {
      await client.createIfNotExists();
      this.#created.add(name);
    }
    return client;
  }

  async upload(
    container: string,
    blobPath: string,
    data: Buffer | string | Readable,
    options: { contentType?: string; metadata?: Record<string, string>; ifNoneMatch?: boolean } = {},
  ): Promise<{ etag: string }> {
    const blob = (await this.#container(container)).getBlockBlobClient(blobPath);
    const common = {
      ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.ifNoneMatch ? { conditions: { ifNoneMatch: '*' } } : {}),
    };
    try {
      const res =
        data instanceof Readable
          ? await blob.uploadStream(data, 8 * 1024 * 1024, 4, common)
          : await blob.upload(data, Buffer.byteLength(data), common);
      return { etag: res.etag ?? '' };
    } catch (err) {
      throw storageError(err, `Upload of ${container}/${blobPath} failed`);
    }
  }

  async download(container: string, blobPath: string): Promise<Buffer> {
    try {
      return await this.service.getContainerClient(container).getBlobClient(blobPath).downloadToBuffer();
    } catch (err) {
      throw storageError(err, `Download of ${container}/${blobPath} failed`);
    }
  }

  async downloadToFile(container: string, blobPath: string, file: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    try {
      await this.service.getContainerClient(container).getBlobClient(blobPath).downloadToFile(file);
    } catch (err) {
      throw storageError(err, `Download of ${container}/${blobPath} failed`);
    }
  }

  async list(container: string, prefix?: string): Promise<BlobItem[]> {
    const items: BlobItem[] = [];
    try {
      const client = this.service.getContainerClient(container);
      for await (const b of client.listBlobsFlat({ includeMetadata: true, ...(prefix ? { prefix } : {}) })) {
        items.push({
          container,
          path: b.name,
          size: b.properties.contentLength ?? 0,
          etag: b.properties.etag,
          lastModified: b.properties.lastModified,
          ...(b.metadata ? { metadata: b.metadata } : {}),
        });
      }
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return [];
      throw storageError(err, `Listing ${container}/${prefix ?? ''} failed`);
    }
    return items;
  }

  async acquireLease(container: string, blobPath: string, durationSeconds: number): Promise<BlobLease> {
    const blob = (await this.#container(container)).getBlockBlobClient(blobPath);
    try {
      await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (err) {
      // The lock blob already exists: that is the normal case after the first lease.
      if (!(err instanceof RestError && err.statusCode === 409))
        throw storageError(err, `Lease blob ${container}/${blobPath}`);
    }
    const leaseClient = blob.getBlobLeaseClient();
    try {
      await leaseClient.acquireLease(durationSeconds);
    } catch (err) {
      throw storageError(err, `Lease on ${container}/${blobPath} not acquired`);
    }
    return {
      leaseId: leaseClient.leaseId,
      renew: async () => {
        await leaseClient
          .renewLease()
          .catch((err: unknown) => Promise.reject(storageError(err, 'Lease renewal failed')));
      },
      release: async () => {
        await leaseClient
          .releaseLease()
          .catch((err: unknown) => Promise.reject(storageError(err, 'Lease release failed')));
      },
    };
  }
}
