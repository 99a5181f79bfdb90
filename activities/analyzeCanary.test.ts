import { describe, expect, it } from 'vitest';
import { judgeCanary } from './analyzeCanary.js';
import type { CanaryObservation, CanarySlo } from './contracts.js';

const slo: CanarySlo = { maxP95LatencyMs: 600, max5xxRate: 0.01, minRequests: 100, maxRegressionVsBlue: 0.2 };
const obs = (deployment: string, requests: number, p95: number, errors: number): CanaryObservation => ({
  deployment,
  requests,
  p95LatencyMs: p95,
  errorRate5xx: errors,
});

describe('judgeCanary', () => {
  it('is healthy within every SLO and close to blue', () => {
    const result = judgeCanary(obs('green', 500, 40, 0), obs('blue', 4500, 38, 0), slo);
    expect(result.verdict).toBe('healthy');
  });

  it('breaches on 5% errors', () => {
    const result = judgeCanary(obs('green', 500, 40, 0.05), obs('blue', 4500, 38, 0), slo);
    expect(result).toMatchObject({ verdict: 'breach' });
    expect(result.reason).toMatch(/5xx rate 5\.00% > 1\.00%/);
  });

  it('breaches on p95 above the SLO', () => {
    const result = judgeCanary(obs('green', 500, 850, 0), undefined, slo);
    expect(result.verdict).toBe('breach');
    expect(result.reason).toMatch(/p95 latency 850 ms > 600 ms/);
  });

  it('breaches when much slower than blue even under the absolute SLO', () => {
    const result = judgeCanary(obs('green', 500, 300, 0), obs('blue', 4500, 100, 0), slo);
    expect(result.verdict).toBe('breach');
    expect(result.reason).toMatch(/worse than blue/);
  });

  it('treats a latency difference under a tenth of the SLO as noise, however large relative to blue', () => {
    expect(judgeCanary(obs('green', 500, 52, 0), obs('blue', 4500, 32, 0), slo).verdict).toBe('healthy');
    expect(judgeCanary(obs('green', 500, 95, 0), obs('blue', 4500, 32, 0), slo).verdict).toBe('breach');
  });

  it('waits for enough requests before judging latency', () => {
    expect(judgeCanary(obs('green', 20, 900, 0), undefined, slo).verdict).toBe('insufficient-data');
    expect(judgeCanary(obs('green', 0, 0, 0), undefined, slo).verdict).toBe('insufficient-data');
  });

  it('breaches on a small sample when most requests fail', () => {
    expect(judgeCanary(obs('green', 10, 30, 0.8), undefined, slo).verdict).toBe('breach');
  });
});
