import { specialDayAt } from '../data/generator.js';
import { dayOfWeek, type EpochDay } from './dates.js';
import { seededRandom } from './models/gbdt.js';
import { emptySeries, type KeySeries } from './series.js';

/** Settings for synthetic daily series with known structure. */
export interface SyntheticOptions {
  keys: number;
  days: number;
  startDay: EpochDay;
  seed: number;
  /** Multiplies every key's level (default 1). */
  level?: number;
}

/** Poisson sample: inversion for small rates, a rounded normal approximation above 50. */
export function poissonSample(rate: number, random: () => number): number {
  if (rate <= 0) return 0;
  if (rate > 50) {
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(rate + Math.sqrt(rate) * gaussian));
  }
  let k = 0;
  let p = Math.exp(-rate);
  let cdf = p;
  const u = random();
  while (u > cdf && k < 1000) {
    k++;
    p *= rate / k;
    cdf += p;
  }
  return k;
}

const WEEKLY = [1.35, 0.85, 0.8, 0.85, 0.95, 1.15, 1.4]; // Sunday … Saturday

/**
 * Daily series with a weekly profile, a slow trend, a 60-day cycle, the store calendar's special-day
 * uplifts and price
 * elasticity; views and carts move with the underlying demand, so they carry signal too.
 */
export function syntheticSeries(options: SyntheticOptions): KeySeries[] {
  const random = seededRandom(options.seed);
  const result: KeySeries[] = [];
  for (let k = 0; k < options.keys; k++) {
    const level = (options.level ?? 1) * Math.exp(1 + 3 * random());
    const weeklyAmplitude = 0.5 + random();
    const trend = (random() - 0.4) * 0.002;
    const phase = random() * 2 * Math.PI;
    const series = emptySeries(`key-${String(k).padStart(4, '0')}`, options.startDay, options.days);
    let price = 10 + 40 * random();
    const referencePrice = price;
    for (let i = 0; i < options.days; i++) {
      const day = options.startDay + i;
      if (random() < 0.05) price = referencePrice * (0.75 + 0.4 * random());
      const weekly = 1 + weeklyAmplitude * ((WEEKLY[dayOfWeek(day)] as number) - 1);
      const rate =
        level *
        weekly *
        Math.exp(trend * i) *
        (1 + 0.25 * Math.sin((2 * Math.PI * i) / 60 + phase)) *
        (specialDayAt(day)?.uplift ?? 1) *
        Math.pow(price / referencePrice, -1.5);
      series.purchases[i] = poissonSample(rate, random);
      series.views[i] = poissonSample(rate * 35 * (0.9 + 0.2 * random()), random);
      series.carts[i] = poissonSample(rate * 3, random);
      series.price[i] = Math.round(price * 100) / 100;
    }
    result.push(series);
  }
  return result;
}
