import { formatIsoDay, parseIsoDay, type EpochDay } from './dates.js';

/** One day of one key, as the inference server receives recent history for keys the model has not seen. */
export interface DailyObservation {
  /** `YYYY-MM-DD` */
  date: string;
  purchases: number;
  views?: number;
  carts?: number;
  /** Mean price that day; null or absent when nothing was priced. */
  priceMean?: number | null;
}

/** A daily series of one key in columns, day i = startDay + i; missing price is NaN. */
export interface KeySeries {
  readonly key: string;
  readonly startDay: EpochDay;
  readonly purchases: Float64Array;
  readonly views: Float64Array;
  readonly carts: Float64Array;
  readonly price: Float64Array;
}

/** Number of days in a series. */
export function seriesLength(series: KeySeries): number {
  return series.purchases.length;
}

/** Last calendar day covered by a series. */
export function lastDay(series: KeySeries): EpochDay {
  return series.startDay + series.purchases.length - 1;
}

/** Builds a series from observations; days missing between first and last are zero-filled. */
export function seriesFromObservations(key: string, observations: readonly DailyObservation[]): KeySeries {
  if (observations.length === 0) throw new RangeError(`history for key ${key} is empty`);
  const days = observations.map((o) => parseIsoDay(o.date));
  const startDay = Math.min(...days);
  const length = Math.max(...days) - startDay + 1;
  const series = emptySeries(key, startDay, length);
  observations.forEach((o, i) => {
    const at = (days[i] as number) - startDay;
    series.purchases[at] = o.purchases;
    series.views[at] = o.views ?? 0;
    series.carts[at] = o.carts ?? 0;
    series.price[at] = o.priceMean ?? Number.NaN;
  });
  return series;
}

/** A zero-filled series with no prices. */
export function emptySeries(key: string, startDay: EpochDay, length: number): KeySeries {
  return {
    key,
    startDay,
    purchases: new Float64Array(length),
    views: new Float64Array(length),
    carts: new Float64Array(length),
    price: new Float64Array(length).fill(Number.NaN),
  };
}

/** The days [from, to] of a series (clamped to what it covers), as a new series. */
export function sliceSeries(series: KeySeries, from: EpochDay, to: EpochDay): KeySeries {
  const start = Math.max(0, from - series.startDay);
  const end = Math.min(seriesLength(series), to - series.startDay + 1);
  return {
    key: series.key,
    startDay: series.startDay + start,
    purchases: series.purchases.slice(start, Math.max(start, end)),
    views: series.views.slice(start, Math.max(start, end)),
    carts: series.carts.slice(start, Math.max(start, end)),
    price: series.price.slice(start, Math.max(start, end)),
  };
}

/** Observations of a series, for storing history in model.json. */
export function seriesToObservations(series: KeySeries): DailyObservation[] {
  return Array.from(series.purchases, (purchases, i) => {
    const price = series.price[i] as number;
    return {
      date: formatIsoDay(series.startDay + i),
      purchases,
      views: series.views[i] as number,
      carts: series.carts[i] as number,
      priceMean: Number.isNaN(price) ? null : price,
    };
  });
}
