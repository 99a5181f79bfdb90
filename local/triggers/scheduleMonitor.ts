import { BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob';

/** The timer extension's record of a schedule, as the Functions host stores it. */
export interface ScheduleStatus {
  Last: string;
  Next: string;
  LastUpdated: string;
}

/** Container and path prefix the Functions host uses for timer status blobs. */
export const timerStatusContainer = 'azure-webjobs-hosts';

/** The timer extension's ISO format: offset instead of `Z` (`2016-10-04T10:15:00+00:00`). */
export function formatStatusTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$|Z$/, '+00:00');
}

/** Status blobs at `azure-webjobs-hosts/timers/{hostId}/{functionId}/status`, like the Functions host. */
export class BlobScheduleMonitor {
  readonly #container: ContainerClient;
  #ensured: Promise<unknown> | undefined;

  constructor(
    connectionString: string,
    private readonly hostId: string,
  ) {
    this.#container =
      BlobServiceClient.fromConnectionString(connectionString).getContainerClient(timerStatusContainer);
  }

  /** Blob name of one function's status. */
  blobName(functionName: string): string {
    return `timers/${this.hostId}/Host.Functions.${functionName}/status`;
  }

  /** The stored status, or undefined when this timer never ran with the monitor on. */
  async get(functionName: string): Promise<ScheduleStatus | undefined> {
    try {
      const buffer = await this.#container.getBlockBlobClient(this.blobName(functionName)).downloadToBuffer();
      const parsed = JSON.parse(buffer.toString('utf8')) as Partial<ScheduleStatus>;
      if (typeof parsed.Last !== 'string' || typeof parsed.Next !== 'string') return undefined;
      return { Last: parsed.Last, Next: parsed.Next, LastUpdated: parsed.LastUpdated ?? parsed.Last };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Stores the status (overwrites). */
  async update(functionName: string, status: ScheduleStatus): Promise<void> {
    this.#ensured ??= this.#container.createIfNotExists();
    await this.#ensured;
    const text = JSON.stringify(status);
    await this.#container
      .getBlockBlobClient(this.blobName(functionName))
      .upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
  }
}

/** A host id the way the Functions host derives one: lower-case, alphanumerics and dashes, at most 32 chars. */
export function hostIdFrom(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32);
  return id || 'localhost';
}
