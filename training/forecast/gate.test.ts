import { describe, expect, it } from 'vitest';
import { evaluateGate, type GateMetrics } from './gate.js';

function metrics(
  mape: number | null,
  p90: number | null,
  wape: number | null,
  naiveWape: number | null,
): GateMetrics {
  return {
    overall: { mape, wape },
    perKey: { mape: { p90 } },
    baselines: { 'seasonal-naive': { overall: { wape: naiveWape } } },
  };
}

const good = metrics(0.12, 0.2, 0.15, 0.25);

describe('evaluateGate', () => {
  it('passes a candidate that meets every threshold, naming each check', () => {
    const decision = evaluateGate(good, { champion: { overall: { wape: 0.15 } } });
    expect(decision.passed).toBe(true);
    expect(decision.checks.map((c) => [c.name, c.passed])).toEqual([
      ['overall_mape', true],
      ['p90_key_mape', true],
      ['beats_seasonal_naive_wape', true],
      ['within_champion_wape', true],
    ]);
    expect(decision.reason).toMatch(/^Candidate passed all 4 checks/);
  });

  it.each([
    ['overall_mape', metrics(0.21, 0.2, 0.15, 0.25), {}],
    ['p90_key_mape', metrics(0.12, 0.26, 0.15, 0.25), {}],
    ['beats_seasonal_naive_wape', metrics(0.12, 0.2, 0.25, 0.25), {}],
    ['within_champion_wape', good, { champion: { overall: { wape: 0.14 } }, championTolerance: 0.05 }],
    ['overall_mape', metrics(null, 0.2, 0.15, 0.25), {}],
  ] as const)('fails on %s alone, with that check in the reason', (name, candidate, options) => {
    const decision = evaluateGate(candidate, options);
    expect(decision.passed).toBe(false);
    expect(decision.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual([name]);
    expect(decision.reason).toMatch(/^Candidate failed /);
    expect(decision.reason.split('(').length).toBe(2); // exactly one failed check is described
  });

  it('applies configurable thresholds and the champion tolerance', () => {
    expect(evaluateGate(metrics(0.3, 0.2, 0.15, 0.25), { maxMape: 0.35 }).passed).toBe(true);
    expect(evaluateGate(metrics(0.12, 0.4, 0.15, 0.25), { maxP90KeyMape: 0.45 }).passed).toBe(true);
    // 0.15 vs champion 0.145: 3.4% worse passes a 5% tolerance and fails a 2% one.
    const champion = { overall: { wape: 0.145 } };
    expect(evaluateGate(good, { champion, championTolerance: 0.05 }).passed).toBe(true);
    const strict = evaluateGate(good, { champion, championTolerance: 0.02 });
    expect(strict.passed).toBe(false);
    expect(strict.checks.at(-1)).toMatchObject({ name: 'within_champion_wape', value: 0.15 });
    expect(strict.checks.at(-1)?.threshold).toBeCloseTo(0.1479, 4);
  });

  it('has no champion check without a champion', () => {
    expect(evaluateGate(good).checks.map((c) => c.name)).not.toContain('within_champion_wape');
  });
});
