/**
 * Watches Azurite containers and emits `Microsoft.Storage.BlobCreated` for every blob that appears or is
 * rewritten (new ETag), so any upload (by the app, a script or Storage Explorer) triggers the app like the
 * storage system topic does in Azure. Azurite has no change feed or events, hence polling.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BlobServiceClient } from '@azure/storage-blob';
import { SystemClock, type Clock } from '../clock.js';
import type { HostLogger } from '../log.js';
import { blobCreatedEvent, type EventGridEvent } from './schema.js';

/** Options of a BlobWatcher. */
export interface BlobWatcherOptions {
  service: BlobServiceClient;
  containers: string[];
  /** Receives each BlobCreated event. */
  emit(events: EventGridEvent[]): void;
  intervalMs?: number;
  /**
   * File remembering the ETags seen, so blobs written while the host was down are reported after a
   * restart. Without it (or on first start) the blobs already there are the baseline and emit nothing.
   */
  stateFile?: string;
  clock?: Clock;
  logger?: HostLogger;
}

interface WatchState {
  sequence: number;
  etags: Record<string, string>;
}

/** Polls containers and reports new or changed committed blobs. */
export class BlobWatcher {
  readonly #options: BlobWatcherOptions;
  readonly #clock: Clock;
  #state: WatchState = { sequence: 0, etags: {} };
  #baselined = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: BlobWatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? new SystemClock();
  }

  /** Loads remembered state, takes the baseline if there was none, then polls until stopped. */
  async start(): Promise<void> {
    const stateFile = this.#options.stateFile;
    if (stateFile) {
      try {
        this.#state = JSON.parse(await readFile(stateFile, 'utf8')) as WatchState;
        this.#baselined = true;
      } catch {
        // No state yet: the first scan is the baseline.
      }
    }
    if (!this.#baselined) {
      await this.scan(false);
      this.#baselined = true;
    }
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  async #run(signal: AbortSignal): Promise<void> {
    const interval = this.#options.intervalMs ?? 1_000;
    while (!signal.aborted) {
      try {
        await this.scan(true);
      } catch (err) {
        this.#options.logger?.warn('Blob watcher scan failed', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
      try {
        await this.#clock.sleepUntil(new Date(this.#clock.now().getTime() + interval), signal);
      } catch {
        return;
      }
    }
  }

  /** One pass over the containers; returns the events emitted (none when `emit` is false). */
  async scan(emit = true): Promise<EventGridEvent[]> {
    const events: EventGridEvent[] = [];
    const { service } = this.#options;
    for (const container of this.#options.containers) {
      const client = service.getContainerClient(container);
      if (!(await client.exists())) continue;
      for await (const blob of client.listBlobsFlat()) {
        const key = `${container}/${blob.name}`;
        // Listings return the ETag bare; events (and blob properties) carry it quoted.
        const etag = blob.properties.etag.startsWith('"')
          ? blob.properties.etag
          : `"${blob.properties.etag}"`;
        if (this.#state.etags[key] === etag) continue;
        this.#state.etags[key] = etag;
        if (!emit) continue;
        this.#state.sequence++;
        events.push(
          blobCreatedEvent(
            {
              account: service.accountName,
              container,
              path: blob.name,
              url: client.getBlobClient(blob.name).url,
              etag,
              contentType: blob.properties.contentType ?? 'application/octet-stream',
              contentLength: blob.properties.contentLength ?? 0,
              blobType: blob.properties.blobType ?? 'BlockBlob',
            },
            // Event Grid sequencers compare as strings per blob: fixed-width hex keeps that order.
            this.#state.sequence.toString(16).padStart(32, '0'),
            this.#clock.now(),
          ),
        );
      }
    }
    if (events.length > 0) {
      await this.#save();
      this.#options.emit(events);
    } else if (!emit) {
      await this.#save();
    }
    return events;
  }

  async #save(): Promise<void> {
    const stateFile = this.#options.stateFile;
    if (!stateFile) return;
    await mkdir(path.dirname(stateFile), { recursive: true });
    await writeFile(stateFile, JSON.stringify(this.#state));
  }

  /** Stops polling after the current pass. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }
}
