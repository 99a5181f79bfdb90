/** What the canary analysis reads for one deployment over a trailing time window. */
export interface MetricsSnapshot {
  windowMs: number;
  /** Requests that finished inside the window. */
  count: number;
  count4xx: number;
  count5xx: number;
  /** Fractions of `count`, 0 when there were no requests. */
  rate4xx: number;
  rate5xx: number;
  /** Nearest-rank latency percentiles in ms; null when the window holds no request. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Mean over the window, null when empty. */
  meanMs: number | null;
}

export interface SlidingWindowOptions {
  /** How long samples are kept; windows longer than this see only this much. */
  retentionMs?: number;
  /** Upper bound on kept samples so a long load test cannot grow memory without limit. */
  maxSamples?: number;
  /** Clock in ms; injectable so tests control time. */
  now?: () => number;
}

/** The nearest-rank percentile of an ascending array (p in (0, 1]). */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const index = Math.max(0, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.min(index, sorted.length - 1)] as number;
}

/**
 * Per-deployment request samples (finish time, latency, status) in a ring buffer, pruned by age.
 * Written by hand: the window must answer "the last N seconds" exactly, which bucketed histograms
 * (hdr-histogram) cannot do without a rolling set of them; a sorted copy per query is cheap at canary sizes.
 */
export class SlidingWindowMetrics {
  private readonly retentionMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly at: Float64Array;
  private readonly latency: Float64Array;
  private readonly status: Uint16Array;
  private head = 0;
  private size = 0;

  constructor(options: SlidingWindowOptions = {}) {
    this.retentionMs = options.retentionMs ?? 15 * 60_000;
    this.capacity = options.maxSamples ?? 200_000;
    this.now = options.now ?? Date.now;
    this.at = new Float64Array(this.capacity);
    this.latency = new Float64Array(this.capacity);
    this.status = new Uint16Array(this.capacity);
  }

  /** Records one finished request. */
  record(latencyMs: number, statusCode: number): void {
    const at = this.now();
    this.prune(at);
    const slot = (this.head + this.size) % this.capacity;
    this.at[slot] = at;
    this.latency[slot] = latencyMs;
    this.status[slot] = statusCode;
    if (this.size < this.capacity) this.size += 1;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** Figures over the requests that finished in the last `windowMs`. */
  snapshot(windowMs: number): MetricsSnapshot {
    const since = this.now() - windowMs;
    const latencies: number[] = [];
    let count4xx = 0;
    let count5xx = 0;
    let total = 0;
    for (let i = 0; i < this.size; i += 1) {
      const slot = (this.head + i) % this.capacity;
      if ((this.at[slot] as number) < since) continue;
      const latency = this.latency[slot] as number;
      const status = this.status[slot] as number;
      latencies.push(latency);
      total += latency;
      if (status >= 500) count5xx += 1;
      else if (status >= 400) count4xx += 1;
    }
    const sorted = Float64Array.from(latencies).sort();
    const count = sorted.length;
    return {
      windowMs,
      count,
      count4xx,
      count5xx,
      rate4xx: count === 0 ? 0 : count4xx / count,
      rate5xx: count === 0 ? 0 : count5xx / count,
      p50Ms: count === 0 ? null : nearestRank(sorted, 0.5),
      p95Ms: count === 0 ? null : nearestRank(sorted, 0.95),
      p99Ms: count === 0 ? null : nearestRank(sorted, 0.99),
      meanMs: count === 0 ? null : total / count,
    };
  }

  /** Drops every sample (a deployment re-created under the same name starts clean). */
  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private prune(now: number): void {
    const oldest = now - this.retentionMs;
    while (this.size > 0 && (this.at[this.head] as number) < oldest) {
      this.head = (this.head + 1) % this.capacity;
      this.size -= 1;
    }
  }
}
