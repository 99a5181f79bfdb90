import { type KeySeries } from '../series.js';

/** Same weekday last week: the latest observed day with the target day's weekday. */
export function seasonalNaive(series: KeySeries, originIndex: number, horizonDay: number): number {
  const back = (7 - (horizonDay % 7)) % 7;
  const i = originIndex - back;
  return i >= 0 ? (series.purchases[i] as number) : (series.purchases[0] as number);
}

/** Mean purchases of the `days` days up to the origin, for every day ahead. */
export function movingAverage(series: KeySeries, originIndex: number, days: number): number {
  let sum = 0;
  let count = 0;
  for (let i = Math.max(0, originIndex - days + 1); i <= originIndex; i++) {
    sum += series.purchases[i] as number;
    count++;
  }
  return count === 0 ? 0 : sum / count;
}
