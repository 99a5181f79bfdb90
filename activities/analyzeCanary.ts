import type { DeploymentMetrics, MlPlatform } from '../aml/port.js';
import { recordCanaryAnalysis } from '../telemetry/index.js';
import type { AnalyzeCanaryInput, AnalyzeCanaryOutput, CanaryObservation, CanarySlo } from './contracts.js';

function observe(metrics: DeploymentMetrics): CanaryObservation {
  return {
    deployment: metrics.deployment,
    requests: metrics.requests,
    p95LatencyMs: metrics.p95LatencyMs ?? 0,
    errorRate5xx: metrics.errorRate,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/**
 * Judges green against the SLOs and against blue. Absolute SLO breaches count as soon as there is any
 * traffic to judge from; the comparison with blue needs the minimum request count on both sides.
 */
export function judgeCanary(
  green: CanaryObservation,
  blue: CanaryObservation | undefined,
  slo: CanarySlo,
): AnalyzeCanaryOutput {
  const verdict = (v: AnalyzeCanaryOutput['verdict'], reason: string): AnalyzeCanaryOutput => ({
    verdict: v,
    reason,
    green,
    ...(blue ? { blue } : {}),
  });
  if (green.requests === 0) return verdict('insufficient-data', `no requests reached ${green.deployment}`);
  const enough = green.requests >= slo.minRequests;
  // A few failures in a tiny sample are noise; judge error rate and latency once the sample is big enough,
  // except when the error rate is so high that even a small sample proves a breach.
  if (green.errorRate5xx > slo.max5xxRate && (enough || green.errorRate5xx >= 0.5)) {
    return verdict(
      'breach',
      `5xx rate ${pct(green.errorRate5xx)} > ${pct(slo.max5xxRate)} over ${green.requests} requests`,
    );
  }
  if (!enough) {
    return verdict(
      'insufficient-data',
      `${green.requests} requests < minimum ${slo.minRequests} to judge ${green.deployment}`,
    );
  }
  if (green.p95LatencyMs > slo.maxP95LatencyMs) {
    return verdict('breach', `p95 latency ${Math.round(green.p95LatencyMs)} ms > ${slo.maxP95LatencyMs} ms`);
  }
  if (blue && blue.requests >= slo.minRequests) {
    const margin = 1 + slo.maxRegressionVsBlue;
    // A fresh deployment's p95 of a few tens of ms moves by tens of ms with machine load: only a
    // difference of at least a tenth of the SLO is a regression worth rolling back for.
    const noiseMs = Math.max(5, slo.maxP95LatencyMs / 10);
    if (green.p95LatencyMs > blue.p95LatencyMs * margin && green.p95LatencyMs - blue.p95LatencyMs > noiseMs) {
      return verdict(
        'breach',
        `p95 latency ${Math.round(green.p95LatencyMs)} ms is worse than blue's ${Math.round(blue.p95LatencyMs)} ms by more than ${pct(slo.maxRegressionVsBlue)}`,
      );
    }
    if (green.errorRate5xx > blue.errorRate5xx * margin + slo.max5xxRate / 2) {
      return verdict(
        'breach',
        `5xx rate ${pct(green.errorRate5xx)} is worse than blue's ${pct(blue.errorRate5xx)}`,
      );
    }
  }
  return verdict(
    'healthy',
    `p95 ${Math.round(green.p95LatencyMs)} ms, 5xx ${pct(green.errorRate5xx)} over ${green.requests} requests`,
  );
}

/** Activity: reads green's (and blue's) metrics window, judges the canary and records both in telemetry. */
export function createAnalyzeCanary(deps: { platform: MlPlatform }) {
  return async function analyzeCanary(input: AnalyzeCanaryInput): Promise<AnalyzeCanaryOutput> {
    const windowMs = input.windowSeconds * 1000;
    const green = observe(
      await deps.platform.getDeploymentMetrics(input.endpointName, input.green, windowMs),
    );
    const blue = input.blue
      ? observe(await deps.platform.getDeploymentMetrics(input.endpointName, input.blue, windowMs))
      : undefined;
    const analysis = judgeCanary(green, blue, input.slo);
    recordCanaryAnalysis(input.endpointName, analysis);
    return analysis;
  };
}
