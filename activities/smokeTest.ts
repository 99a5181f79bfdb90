import type { ActivityDeps } from './deps.js';
import type { SmokeTestInput, SmokeTestOutput } from './contracts.js';

interface ScoreResponse {
  model?: { name?: string; version?: string };
  forecasts?: { key: string; points: { date: string; purchases: number }[] }[];
}

/**
 * Activity: scores the new deployment directly (not through the traffic split) for a few of the model's
 * keys and checks the answer is well formed: one finite, non-negative forecast per key and day.
 */
export function createSmokeTest(deps: ActivityDeps) {
  return async function smokeTest(input: SmokeTestInput): Promise<SmokeTestOutput> {
    const model = await deps.platform.getModel(input.model.name, input.model.version);
    const keys = (model.properties.sampleKeys ?? '').split(',').filter(Boolean);
    if (keys.length === 0) {
      return {
        passed: false,
        latencyMs: 0,
        detail: `${input.model.name}:${input.model.version} lists no sample keys`,
      };
    }
    const started = performance.now();
    const result = await deps.platform.invokeEndpoint(
      input.endpointName,
      { keys, horizon: input.horizon },
      { deployment: input.deploymentName },
    );
    const latencyMs = performance.now() - started;
    const fail = (detail: string): SmokeTestOutput => ({ passed: false, latencyMs, detail });
    if (result.status !== 200)
      return fail(`/score answered ${result.status}: ${JSON.stringify(result.body).slice(0, 300)}`);
    const body = result.body as ScoreResponse;
    const forecasts = body.forecasts ?? [];
    for (const key of keys) {
      const forecast = forecasts.find((f) => f.key === key);
      if (!forecast) return fail(`no forecast for ${key}`);
      if (forecast.points.length !== input.horizon) {
        return fail(`${forecast.points.length} days for ${key}, expected ${input.horizon}`);
      }
      const bad = forecast.points.find((p) => !Number.isFinite(p.purchases) || p.purchases < 0);
      if (bad) return fail(`invalid forecast ${bad.purchases} for ${key} on ${bad.date}`);
    }
    if (body.model?.version !== undefined && body.model.version !== input.model.version) {
      return fail(
        `deployment ${input.deploymentName} serves version ${body.model.version}, not ${input.model.version}`,
      );
    }
    return {
      passed: true,
      latencyMs,
      detail: `${keys.length} keys × ${input.horizon} days in ${Math.round(latencyMs)} ms`,
    };
  };
}
