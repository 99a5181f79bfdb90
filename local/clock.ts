/**
 * Time for the local host. Timers and durable timers wait on a Clock so tests can fast-forward
 * (a 7-day durable timer completes in milliseconds) while `npm start` uses the real clock.
 */
export interface Clock {
  now(): Date;
  /** Resolves at `when` (or at once if it has passed); rejects with an AbortError when `signal` aborts. */
  sleepUntil(when: Date, signal?: AbortSignal): Promise<void>;
}

function abortError(): Error {
  const err = new Error('The wait was aborted.');
  err.name = 'AbortError';
  return err;
}

// setTimeout takes at most a signed 32-bit delay; longer waits are chained.
const maxTimeoutMs = 2_147_483_647;

/** The wall clock. */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  sleepUntil(when: Date, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      let timer: NodeJS.Timeout;
      const arm = () => {
        const remaining = when.getTime() - Date.now();
        if (remaining <= 0) {
          signal?.removeEventListener('abort', onAbort);
          resolve();
          return;
        }
        timer = setTimeout(arm, Math.min(remaining, maxTimeoutMs));
        timer.unref?.();
      };
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
    });
  }
}

interface PendingSleep {
  when: number;
  resolve: () => void;
}

/** A clock that only moves when told to: `advance` and `advanceTo` release every wait that falls due. */
export class ManualClock implements Clock {
  #now: number;
  #pending: PendingSleep[] = [];

  constructor(start: Date | string = '2026-01-05T00:00:00.000Z') {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  sleepUntil(when: Date, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (when.getTime() <= this.#now) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const entry: PendingSleep = {
        when: when.getTime(),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#pending = this.#pending.filter((p) => p !== entry);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.push(entry);
    });
  }

  /** Number of waits not yet due. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** The earliest time anything waits for, if anything does. */
  nextDue(): Date | undefined {
    if (this.#pending.length === 0) return undefined;
    return new Date(Math.min(...this.#pending.map((p) => p.when)));
  }

  /** Moves time forward by `ms` and releases what fell due, in time order. */
  advance(ms: number): void {
    this.advanceTo(new Date(this.#now + ms));
  }

  /** Moves time to `when` (never backwards) and releases what fell due, in time order. */
  advanceTo(when: Date): void {
    const target = Math.max(this.#now, when.getTime());
    const due = this.#pending.filter((p) => p.when <= target).sort((a, b) => a.when - b.when);
    this.#pending = this.#pending.filter((p) => p.when > target);
    this.#now = target;
    for (const p of due) p.resolve();
  }
}
