/**
 * The local Event Grid as a host extension: the topic endpoint is served by the host at
 * `/local/eventgrid/api/events`, events are delivered through the host's own Event Grid webhook, and a blob
 * watcher turns uploads to the configured Azurite containers into `Microsoft.Storage.BlobCreated`.
 *
 * Settings (local.settings.json Values), all optional:
 * - `LOCAL_EVENTGRID_TOPIC` custom topic name (default `app-events`)
 * - `LOCAL_EVENTGRID_KEY` topic key, base64 (default `localEventGridDevKey`, public like Azurite's key)
 * - `LOCAL_EVENTGRID_SUBSCRIPTIONS` JSON array of EventSubscription; default: every Event Grid-triggered
 *   function receives every event
 * - `LOCAL_EVENTGRID_WATCH_CONTAINERS` comma-separated containers the blob watcher reports
 * - `LOCAL_EVENTGRID_POLL_MS` blob watcher interval (default 1000)
 */
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import type { HostContext, HostExtension } from '../extension.js';
import { BlobWatcher } from './blobWatcher.js';
import { LocalEventGrid, type DeliveryRetryPolicy } from './grid.js';
import type { EventSubscription } from './subscriptions.js';
import { registerTopicRoutes } from './topic.js';

/** The local topic's default key. Loopback only; it guards against mistakes, not attackers. */
export const localEventGridDevKey = Buffer.from('local-event-grid-development-key!').toString('base64');

/** Path of the topic endpoints on the host. */
export const localEventGridPrefix = '/local/eventgrid';

/** Explicit options; each overrides the matching setting. */
export interface LocalEventGridExtensionOptions {
  topicName?: string;
  key?: string;
  subscriptions?: EventSubscription[];
  watchContainers?: string[];
  pollIntervalMs?: number;
  retry?: Partial<DeliveryRetryPolicy>;
  deadLetterContainer?: string;
}

function parseSubscriptions(json: string | undefined): EventSubscription[] | undefined {
  if (!json) return undefined;
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed))
    throw new Error('LOCAL_EVENTGRID_SUBSCRIPTIONS must be a JSON array of subscriptions.');
  return parsed as EventSubscription[];
}

/** Creates the local Event Grid host extension. */
export function localEventGridExtension(options: LocalEventGridExtensionOptions = {}): HostExtension & {
  readonly grid: LocalEventGrid | undefined;
  readonly watcher: BlobWatcher | undefined;
} {
  let grid: LocalEventGrid | undefined;
  let watcher: BlobWatcher | undefined;
  return {
    name: 'local-eventgrid',
    triggerTypes: [],
    get grid() {
      return grid;
    },
    get watcher() {
      return watcher;
    },
    init(ctx: HostContext) {
      const s = ctx.settings;
      const topicName = options.topicName ?? s.LOCAL_EVENTGRID_TOPIC ?? 'app-events';
      const key = options.key ?? s.LOCAL_EVENTGRID_KEY ?? localEventGridDevKey;
      const subscriptions =
        options.subscriptions ??
        parseSubscriptions(s.LOCAL_EVENTGRID_SUBSCRIPTIONS) ??
        ctx.registry.byTriggerType('eventGridTrigger').map((f) => ({ name: f.name, functionName: f.name }));
      const blobs = BlobServiceClient.fromConnectionString(ctx.storageConnectionString);
      const webhookKey = ctx.systemKey('eventgrid_extension');
      grid = new LocalEventGrid({
        topicName,
        subscriptions,
        webhookUrl: (fn) =>
          `${ctx.baseUrl()}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(fn)}&code=${encodeURIComponent(webhookKey)}`,
        deadLetter: blobs.getContainerClient(options.deadLetterContainer ?? 'eventgrid-deadletter'),
        clock: ctx.clock,
        logger: ctx.logger,
        ...(options.retry ? { retry: options.retry } : {}),
      });
      registerTopicRoutes(ctx.http, grid, { key, prefix: localEventGridPrefix });
      const containers =
        options.watchContainers ??
        (s.LOCAL_EVENTGRID_WATCH_CONTAINERS ?? '')
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
      if (containers.length > 0) {
        const target = grid;
        watcher = new BlobWatcher({
          service: blobs,
          containers,
          emit: (events) => target.publish(events),
          intervalMs: options.pollIntervalMs ?? Number(s.LOCAL_EVENTGRID_POLL_MS ?? 1000),
          stateFile: path.join(ctx.stateDir, 'eventgrid', 'blob-watch.json'),
          clock: ctx.clock,
          logger: ctx.logger,
        });
      }
      ctx.logger.info('Local Event Grid', {
        topic: `${localEventGridPrefix}/api/events`,
        subscriptions: subscriptions.length,
        watching: containers.join(',') || 'none',
      });
    },
    async start() {
      await watcher?.start();
    },
    async stop() {
      await watcher?.stop();
      await grid?.stop();
    },
  };
}
