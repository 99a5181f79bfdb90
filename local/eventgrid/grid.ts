/**
 * The local Event Grid: accepts events for a custom topic and for system sources (storage, Azure ML),
 * matches them against subscriptions and pushes each to its function through the Functions host's
 * Event Grid webhook, retrying with backoff and dead-lettering to a blob container like the service.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { SystemClock, type Clock } from '../clock.js';
import type { HostLogger } from '../log.js';
import type { EventGridEvent } from './schema.js';
import { matchesSubscription, type EventSubscription } from './subscriptions.js';

/** Retry policy of deliveries. */
export interface DeliveryRetryPolicy {
  /** Attempts before dead-lettering (Event Grid's default is 30). */
  maxDeliveryAttempts: number;
  /** Wait before attempt n+1 is delaysMs[n-1] (the last value repeats). */
  delaysMs: number[];
}

/** Options of a LocalEventGrid. */
export interface LocalEventGridOptions {
  /** Name of the custom topic the app publishes to. */
  topicName: string;
  subscriptions: EventSubscription[];
  /** The URL that delivers to a function: the host's `/runtime/webhooks/eventgrid?functionName=...`. */
  webhookUrl(functionName: string): string;
  /** Where undeliverable events go (Event Grid's dead-letter destination). */
  deadLetter?: ContainerClient;
  retry?: Partial<DeliveryRetryPolicy>;
  clock?: Clock;
  logger?: HostLogger;
}

/** Statuses Event Grid does not retry: the event goes straight to the dead-letter destination. */
const nonRetryableStatuses = new Set([400, 401, 403, 413]);

/** The ARM id a local custom topic poses as. */
export function customTopicId(
  topicName: string,
  subscriptionId = '00000000-0000-0000-0000-000000000000',
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/local/providers/Microsoft.EventGrid/topics/${topicName}`;
}

interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  lastStatus: number | undefined;
  lastOutcome: string;
}

/** The event router: publish, deliver with retries, dead-letter. */
export class LocalEventGrid {
  readonly topicId: string;
  readonly #options: LocalEventGridOptions;
  readonly #retry: DeliveryRetryPolicy;
  readonly #clock: Clock;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #subscriptions: EventSubscription[];
  /** Counters for logs and tests. */
  readonly stats = { published: 0, delivered: 0, retried: 0, deadLettered: 0 };

  constructor(options: LocalEventGridOptions) {
    this.#options = options;
    this.topicId = customTopicId(options.topicName);
    this.#subscriptions = [...options.subscriptions];
    this.#retry = {
      maxDeliveryAttempts: options.retry?.maxDeliveryAttempts ?? 10,
      delaysMs: options.retry?.delaysMs ?? [1_000, 5_000, 10_000, 30_000, 60_000],
    };
    this.#clock = options.clock ?? new SystemClock();
  }

  /** Current subscriptions. */
  get subscriptions(): readonly EventSubscription[] {
    return this.#subscriptions;
  }

  /** Adds or replaces (by name) a subscription. */
  subscribe(sub: EventSubscription): void {
    this.#subscriptions = [...this.#subscriptions.filter((s) => s.name !== sub.name), sub];
  }

  /** Routes accepted events to every matching subscription; delivery continues in the background. */
  publish(events: EventGridEvent[]): void {
    for (const event of events) {
      this.stats.published++;
      const targets = this.#subscriptions.filter((s) => matchesSubscription(s, event));
      if (targets.length === 0) {
        this.#options.logger?.debug('Event Grid: no subscription matches', {
          eventType: event.eventType,
          subject: event.subject,
        });
      }
      for (const sub of targets) {
        const p = this.#deliver(sub, event).finally(() => this.#inFlight.delete(p));
        this.#inFlight.add(p);
      }
    }
  }

  /** Resolves when every delivery so far has been delivered or dead-lettered. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops retrying: what is still pending is dead-lettered with reason `Stopped`. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.idle();
  }

  async #deliver(sub: EventSubscription, event: EventGridEvent): Promise<void> {
    const outcome = await this.#attemptAll(sub, event);
    if (outcome.delivered) {
      this.stats.delivered++;
      return;
    }
    await this.#deadLetter(sub, event, outcome);
  }

  async #attemptAll(sub: EventSubscription, event: EventGridEvent): Promise<DeliveryOutcome> {
    let lastStatus: number | undefined;
    let lastOutcome = 'NotAttempted';
    const { maxDeliveryAttempts, delaysMs } = this.#retry;
    for (let attempt = 0; attempt < maxDeliveryAttempts; attempt++) {
      if (attempt > 0) {
        this.stats.retried++;
        const delay = delaysMs[Math.min(attempt - 1, delaysMs.length - 1)] ?? 1_000;
        try {
          await this.#clock.sleepUntil(new Date(this.#clock.now().getTime() + delay), this.#abort.signal);
        } catch {
          return { delivered: false, attempts: attempt, lastStatus, lastOutcome: 'Stopped' };
        }
      }
      try {
        const res = await fetch(this.#options.webhookUrl(sub.functionName), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'aeg-event-type': 'Notification',
            'aeg-subscription-name': sub.name.toUpperCase(),
            'aeg-delivery-count': String(attempt),
            'aeg-data-version': event.dataVersion,
            'aeg-metadata-version': '1',
          },
          body: JSON.stringify([event]),
          signal: AbortSignal.timeout(60_000),
        });
        lastStatus = res.status;
        await res.arrayBuffer();
        if (res.status >= 200 && res.status <= 204)
          return { delivered: true, attempts: attempt + 1, lastStatus, lastOutcome: 'Ok' };
        lastOutcome = `HTTP ${res.status}`;
        this.#options.logger?.warn('Event Grid delivery failed', {
          subscription: sub.name,
          function: sub.functionName,
          eventId: event.id,
          status: res.status,
          attempt: attempt + 1,
        });
        if (nonRetryableStatuses.has(res.status))
          return { delivered: false, attempts: attempt + 1, lastStatus, lastOutcome };
      } catch (err) {
        lastOutcome = err instanceof Error ? err.message : String(err);
        this.#options.logger?.warn('Event Grid delivery failed', {
          subscription: sub.name,
          eventId: event.id,
          error: lastOutcome,
        });
      }
    }
    return { delivered: false, attempts: maxDeliveryAttempts, lastStatus, lastOutcome };
  }

  async #deadLetter(sub: EventSubscription, event: EventGridEvent, outcome: DeliveryOutcome): Promise<void> {
    this.stats.deadLettered++;
    const now = this.#clock.now();
    const reason =
      outcome.lastOutcome === 'Stopped'
        ? 'Stopped'
        : outcome.lastStatus !== undefined && nonRetryableStatuses.has(outcome.lastStatus)
          ? 'NonRetryableFailure'
          : 'MaxDeliveryAttemptsExceeded';
    this.#options.logger?.error('Event Grid dead-lettered an event', {
      subscription: sub.name,
      eventId: event.id,
      reason,
    });
    const container = this.#options.deadLetter;
    if (!container) return;
    const pad = (n: number) => String(n).padStart(2, '0');
    // Event Grid's dead-letter blob layout: {topic}/{subscription}/{yyyy}/{MM}/{dd}/{HH}/{id}.json
    const blobName = [
      this.#options.topicName.toUpperCase(),
      sub.name.toUpperCase(),
      now.getUTCFullYear(),
      pad(now.getUTCMonth() + 1),
      pad(now.getUTCDate()),
      pad(now.getUTCHours()),
      `${event.id}.json`,
    ].join('/');
    const body = JSON.stringify([
      {
        ...event,
        deadLetterReason: reason,
        deliveryAttempts: outcome.attempts,
        lastDeliveryOutcome: outcome.lastOutcome,
        lastHttpStatusCode: outcome.lastStatus ?? 0,
        publishTime: event.eventTime,
        lastDeliveryAttemptTime: now.toISOString(),
      },
    ]);
    await container.createIfNotExists();
    await container.getBlockBlobClient(blobName).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
  }
}
