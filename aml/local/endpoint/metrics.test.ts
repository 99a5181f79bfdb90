import { describe, expect, it } from 'vitest';
import { nearestRank, SlidingWindowMetrics } from './metrics.js';

describe('sliding window metrics', () => {
  it('computes count, nearest-rank percentiles and error rates', () => {
    let now = 1_000_000;
    const metrics = new SlidingWindowMetrics({ now: () => now });
    for (let i = 1; i <= 100; i += 1) {
      metrics.record(i, i <= 5 ? 500 : i <= 15 ? 404 : 200);
      now += 1;
    }
    const snapshot = metrics.snapshot(60_000);
    expect(snapshot.count).toBe(100);
    expect(snapshot.p50Ms).toBe(50);
    expect(snapshot.p95Ms).toBe(95);
    expect(snapshot.p99Ms).toBe(99);
    expect(snapshot.count5xx).toBe(5);
    expect(snapshot.count4xx).toBe(10);
    expect(snapshot.rate5xx).toBeCloseTo(0.05);
    expect(snapshot.rate4xx).toBeCloseTo(0.1);
    expect(snapshot.meanMs).toBeCloseTo(50.5);
  });

  it('sees only requests inside the window', () => {
    let now = 0;
    const metrics = new SlidingWindowMetrics({ now: () => now });
    metrics.record(1000, 500);
    now = 10_000;
    metrics.record(10, 200);
    metrics.record(20, 200);
    const recent = metrics.snapshot(5_000);
    expect(recent.count).toBe(2);
    expect(recent.rate5xx).toBe(0);
    expect(recent.p99Ms).toBe(20);
    expect(metrics.snapshot(20_000).count).toBe(3);
  });

  it('reports an empty window as null latencies and zero rates', () => {
    const snapshot = new SlidingWindowMetrics().snapshot(1_000);
    expect(snapshot).toMatchObject({ count: 0, p50Ms: null, p95Ms: null, rate5xx: 0, rate4xx: 0 });
  });

  it('drops samples past the retention and caps memory', () => {
    let now = 0;
    const metrics = new SlidingWindowMetrics({ now: () => now, retentionMs: 100, maxSamples: 10 });
    for (let i = 0; i < 25; i += 1) metrics.record(i, 200);
    expect(metrics.snapshot(1_000).count).toBe(10);
    expect(metrics.snapshot(1_000).p50Ms).toBe(19);
    now = 500;
    metrics.record(1, 200);
    expect(metrics.snapshot(10_000).count).toBe(1);
  });

  it('nearest rank of a single sample is that sample', () => {
    expect(nearestRank([7], 0.99)).toBe(7);
  });
});
