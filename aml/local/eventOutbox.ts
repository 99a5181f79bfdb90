/**
 * Outbox for the ML system events the local platform emits. Azure ML emits events independently of the
 * work they describe, so an unreachable Event Grid must not fail a job or a registration: events wait
 * here, in order, and are re-sent with backoff until the local Event Grid takes them.
 */
import type { EventGridEvent } from '../../local/eventgrid/schema.js';

/** Options of an EventOutbox. */
export interface EventOutboxOptions {
  send(events: EventGridEvent[]): Promise<void>;
  onError?(err: unknown, pending: number): void;
  /** First wait before a retry (default 250 ms); it doubles up to maxDelayMs. */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 30 s). */
  maxDelayMs?: number;
}

/** Ordered, retrying delivery of events. */
export class EventOutbox {
  readonly #options: EventOutboxOptions;
  #pending: EventGridEvent[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #stopped = false;

  constructor(options: EventOutboxOptions) {
    this.#options = options;
    this.#delay = options.initialDelayMs ?? 250;
  }

  /** Events not yet accepted by the Event Grid. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Queues events and starts sending them; resolves once this attempt ended (sent or scheduled for retry). */
  enqueue(events: EventGridEvent[]): Promise<void> {
    this.#pending.push(...events);
    return this.flush();
  }

  /** Sends what is pending now. */
  flush(): Promise<void> {
    this.#flushing ??= this.#send().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #send(): Promise<void> {
    while (this.#pending.length > 0 && !this.#stopped) {
      const batch = this.#pending.slice(0, 100);
      try {
        await this.#options.send(batch);
      } catch (err) {
        this.#options.onError?.(err, this.#pending.length);
        this.#scheduleRetry();
        return;
      }
      this.#pending = this.#pending.slice(batch.length);
      this.#delay = this.#options.initialDelayMs ?? 250;
    }
  }

  #scheduleRetry(): void {
    if (this.#timer || this.#stopped) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#options.maxDelayMs ?? 30_000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
    this.#timer.unref();
  }

  /** Stops retrying; what is still pending is returned (and dropped). */
  stop(): EventGridEvent[] {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const left = this.#pending;
    this.#pending = [];
    return left;
  }
}
