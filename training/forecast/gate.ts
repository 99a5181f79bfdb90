/**
 * The quality gate: a pure decision over backtest metrics, called by the gate activity. The candidate
 * must meet absolute accuracy thresholds, beat the seasonal-naive baseline, and not be worse than the
 * current champion (re-fitted on the same backtest) by more than a tolerance.
 */

/** What the gate reads from a candidate's metrics.json. */
export interface GateMetrics {
  overall: { mape: number | null; wape: number | null };
  perKey: { mape: { p90: number | null } };
  baselines: { 'seasonal-naive': { overall: { wape: number | null } } };
}

/** The champion's figures on the candidate's backtest. */
export interface ChampionMetrics {
  overall: { wape: number | null };
}

/** Thresholds; every one is configurable. */
export interface GateOptions {
  /** Highest overall MAPE allowed (0.2 = 20%). */
  maxMape: number;
  /** Highest P90 of per-key MAPE allowed. */
  maxP90KeyMape: number;
  /** Allowed relative WAPE loss against the champion (0.02 = 2% worse still passes). */
  championTolerance: number;
}

/** Default thresholds from the issue. */
export const DEFAULT_GATE_OPTIONS: GateOptions = {
  maxMape: 0.2,
  maxP90KeyMape: 0.25,
  championTolerance: 0.02,
};

/** One check: its value against its threshold. */
export interface GateCheck {
  name: 'overall_mape' | 'p90_key_mape' | 'beats_seasonal_naive_wape' | 'within_champion_wape';
  value: number | null;
  threshold: number | null;
  passed: boolean;
}

/** The decision record. */
export interface GateDecision {
  passed: boolean;
  checks: GateCheck[];
  reason: string;
}

const DESCRIPTIONS: Record<GateCheck['name'], string> = {
  overall_mape: 'overall MAPE',
  p90_key_mape: 'P90 per-key MAPE',
  beats_seasonal_naive_wape: 'WAPE against the seasonal-naive baseline',
  within_champion_wape: 'WAPE against the champion',
};

function atMost(name: GateCheck['name'], value: number | null, threshold: number | null): GateCheck {
  return { name, value, threshold, passed: value !== null && threshold !== null && value <= threshold };
}

function percent(value: number | null): string {
  return value === null ? 'undefined' : `${(value * 100).toFixed(1)}%`;
}

/** Decides whether a candidate may be registered. */
export function evaluateGate(
  candidate: GateMetrics,
  options: Partial<GateOptions> & { champion?: ChampionMetrics | null } = {},
): GateDecision {
  const o = { ...DEFAULT_GATE_OPTIONS, ...options };
  const wape = candidate.overall.wape;
  const baselineWape = candidate.baselines['seasonal-naive'].overall.wape;
  const checks: GateCheck[] = [
    atMost('overall_mape', candidate.overall.mape, o.maxMape),
    atMost('p90_key_mape', candidate.perKey.mape.p90, o.maxP90KeyMape),
    {
      name: 'beats_seasonal_naive_wape',
      value: wape,
      threshold: baselineWape,
      passed: wape !== null && baselineWape !== null && wape < baselineWape,
    },
  ];
  const championWape = options.champion?.overall.wape;
  if (options.champion) {
    const threshold =
      championWape === null || championWape === undefined ? null : championWape * (1 + o.championTolerance);
    checks.push(atMost('within_champion_wape', wape, threshold));
  }
  const failed = checks.filter((c) => !c.passed);
  const reason =
    failed.length === 0
      ? `Candidate passed all ${checks.length} checks (MAPE ${percent(candidate.overall.mape)}, WAPE ${percent(wape)} vs seasonal naive ${percent(baselineWape)}${options.champion ? ` and champion ${percent(championWape ?? null)}` : ''}).`
      : `Candidate failed ${failed
          .map((c) => `${DESCRIPTIONS[c.name]} (${percent(c.value)} vs threshold ${percent(c.threshold)})`)
          .join(', ')}.`;
  return { passed: failed.length === 0, checks, reason };
}
