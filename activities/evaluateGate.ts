import { evaluateGate as decide, type ChampionMetrics, type GateMetrics } from '../training/forecast/gate.js';
import { recordGateDecision } from '../telemetry/index.js';
import type { ActivityDeps } from './deps.js';
import { PermanentActivityError, toBlobLocation } from './deps.js';
import type { EvaluateGateInput, GateDecision } from './contracts.js';

interface MetricsJson extends GateMetrics {
  champion?: (ChampionMetrics & { source?: string }) | null;
}

/**
 * Activity: reads the candidate's metrics.json (which also holds the champion re-scored on the same
 * backtest, when there is a champion) and applies the quality gate.
 */
export function createEvaluateGate(deps: ActivityDeps) {
  return async function evaluateGate(input: EvaluateGateInput): Promise<GateDecision> {
    const dir = toBlobLocation(deps, input.modelUri);
    const file = `${dir.path}/metrics.json`;
    let metrics: MetricsJson;
    try {
      metrics = JSON.parse(
        (await deps.platform.dataLake.download(dir.container, file)).toString('utf8'),
      ) as MetricsJson;
    } catch (err) {
      throw new PermanentActivityError(
        'METRICS_UNREADABLE',
        `Cannot read ${dir.container}/${file} from the training job: ${(err as Error).message}`,
      );
    }
    const decision = decide(metrics, { ...input.thresholds, champion: metrics.champion ?? null });
    recordGateDecision(input.modelName, decision);
    return { passed: decision.passed, checks: decision.checks, reason: decision.reason };
  };
}
