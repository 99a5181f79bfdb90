import { type SpecialDays } from './calendar.js';
import { dayOfMonth, dayOfWeek } from './dates.js';
import { type KeySeries } from './series.js';

/**
 * The one feature function shared by training and inference, so the two can never disagree.
 *
 * A row describes "forecast origin t (the last observed day), h days ahead". Every value is computed
 * from days t-27…t only, so a model needs just the last HISTORY_DAYS of a key to forecast it.
 * Purchase-like features are divided by the key's scale (its 28-day mean purchases) so one pooled
 * model serves keys of any size; the model predicts purchases / scale.
 */
export const HISTORY_DAYS = 28;
/** Scale floor, so keys with no recent purchases still get a finite, small forecast. */
export const MIN_SCALE = 0.05;
/** Version of the feature definitions below; stored in model.json and checked on load. */
export const FEATURE_SET_VERSION = 1;

const LAGS = [1, 2, 3, 4, 5, 6, 7, 14, 28] as const;
const SPECIAL_LOOKAHEAD_DAYS = 14;

/** Names of the features, in column order. */
export const FEATURE_NAMES: readonly string[] = [
  'horizon_day',
  'target_dow',
  'target_day_of_month',
  'target_special_rule',
  'target_special_kind',
  'target_price_factor',
  'target_days_to_special',
  'origin_special_days_7',
  ...LAGS.map((lag) => `purchases_lag_${lag}`),
  ...LAGS.map((lag) => `views_lag_${lag}`),
  ...LAGS.map((lag) => `carts_lag_${lag}`),
  'purchases_ma_7',
  'purchases_ma_14',
  'purchases_std_7',
  'purchases_std_14',
  'purchases_std_28',
  'same_weekday_last',
  'same_weekday_mean_4',
  'conversion_7',
  'cart_rate_7',
  'price_relative_28',
  'price_change_7',
  'log_purchases_mean_28',
  'log_views_mean_28',
  'zero_share_28',
];
/** Number of feature columns. */
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Value at day index i, NaN when i falls before the series starts. */
function at(values: Float64Array, i: number): number {
  return i >= 0 && i < values.length ? (values[i] as number) : Number.NaN;
}

/** Mean and standard deviation of values[end-n+1 … end] over the days that exist. */
function windowStats(
  values: Float64Array,
  end: number,
  n: number,
): { mean: number; std: number; count: number } {
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  for (let i = Math.max(0, end - n + 1); i <= end; i++) {
    const v = values[i] as number;
    sum += v;
    sumSq += v * v;
    count++;
  }
  if (count === 0) return { mean: Number.NaN, std: Number.NaN, count };
  const mean = sum / count;
  return { mean, std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)), count };
}

/** Mean of the non-missing prices in [end-n+1, end]. */
function priceMean(price: Float64Array, end: number, n: number): number {
  let sum = 0;
  let count = 0;
  for (let i = Math.max(0, end - n + 1); i <= end; i++) {
    const v = price[i] as number;
    if (!Number.isNaN(v)) {
      sum += v;
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** The scale of a key at origin index t: its 28-day mean purchases, floored at MIN_SCALE. */
export function scaleAt(series: KeySeries, originIndex: number): number {
  const { mean } = windowStats(series.purchases, originIndex, HISTORY_DAYS);
  return Number.isNaN(mean) ? MIN_SCALE : Math.max(MIN_SCALE, mean);
}

/**
 * Writes the FEATURE_COUNT features of (origin index t, h days ahead) into out[offset…] and returns
 * the row's scale. Reads only series days ≤ t.
 */
export function fillFeatures(
  series: KeySeries,
  originIndex: number,
  horizonDay: number,
  specialDays: SpecialDays,
  out: Float32Array,
  offset: number,
): number {
  const t = originIndex;
  const targetDay = series.startDay + t + horizonDay;
  const purchases28 = windowStats(series.purchases, t, HISTORY_DAYS);
  const scale = Number.isNaN(purchases28.mean) ? MIN_SCALE : Math.max(MIN_SCALE, purchases28.mean);
  const views28 = windowStats(series.views, t, HISTORY_DAYS);
  const carts28 = windowStats(series.carts, t, HISTORY_DAYS);
  const viewScale = Math.max(1, views28.mean || 0);
  const cartScale = Math.max(MIN_SCALE, carts28.mean || 0);
  let k = offset;
  out[k++] = horizonDay;
  out[k++] = dayOfWeek(targetDay);
  out[k++] = dayOfMonth(targetDay);
  const special = specialDays.info(targetDay);
  out[k++] = special.rule;
  out[k++] = special.kind;
  out[k++] = special.priceFactor;
  out[k++] = specialDays.daysUntilNext(targetDay, SPECIAL_LOOKAHEAD_DAYS);
  let recentSpecial = 0;
  for (let d = 0; d < 7; d++) if (specialDays.has(series.startDay + t - d)) recentSpecial++;
  out[k++] = recentSpecial;
  for (const lag of LAGS) out[k++] = at(series.purchases, t - lag + 1) / scale;
  for (const lag of LAGS) out[k++] = at(series.views, t - lag + 1) / viewScale;
  for (const lag of LAGS) out[k++] = at(series.carts, t - lag + 1) / cartScale;
  const p7 = windowStats(series.purchases, t, 7);
  const p14 = windowStats(series.purchases, t, 14);
  out[k++] = p7.mean / scale;
  out[k++] = p14.mean / scale;
  out[k++] = p7.std / scale;
  out[k++] = p14.std / scale;
  out[k++] = purchases28.std / scale;
  // The latest observed day with the target's weekday, and the mean of the last four such days.
  const sameWeekdayBack = (7 - (horizonDay % 7)) % 7;
  out[k++] = at(series.purchases, t - sameWeekdayBack) / scale;
  let sameSum = 0;
  let sameCount = 0;
  for (let back = sameWeekdayBack; back < HISTORY_DAYS; back += 7) {
    const v = at(series.purchases, t - back);
    if (!Number.isNaN(v)) {
      sameSum += v;
      sameCount++;
    }
  }
  out[k++] = sameCount === 0 ? Number.NaN : sameSum / sameCount / scale;
  const v7 = windowStats(series.views, t, 7);
  const c7 = windowStats(series.carts, t, 7);
  out[k++] = v7.mean > 0 ? p7.mean / v7.mean : Number.NaN;
  out[k++] = v7.mean > 0 ? c7.mean / v7.mean : Number.NaN;
  const price28 = priceMean(series.price, t, HISTORY_DAYS);
  const priceNow = at(series.price, t);
  const priceWeekAgo = at(series.price, t - 7);
  out[k++] = priceNow / price28;
  out[k++] = priceNow / priceWeekAgo - 1;
  out[k++] = Math.log1p(purchases28.mean);
  out[k++] = Math.log1p(views28.mean);
  let zeros = 0;
  for (let i = Math.max(0, t - HISTORY_DAYS + 1); i <= t; i++) if (series.purchases[i] === 0) zeros++;
  out[k++] = purchases28.count === 0 ? Number.NaN : zeros / purchases28.count;
  // Missing history and zero prices give NaN/Infinity; trees treat every non-finite value as missing.
  for (let i = offset; i < k; i++) if (!Number.isFinite(out[i])) out[i] = Number.NaN;
  return scale;
}
