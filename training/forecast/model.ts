import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpecialDays } from './calendar.js';
import { formatIsoDay, parseIsoDay, type EpochDay } from './dates.js';
import { ForecastRequestError, ModelFormatError } from './errors.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET_VERSION } from './features.js';
import { MODEL_FORMAT_VERSION, modelFileSchema, type KeyHistory, type ModelFile } from './modelFile.js';
import { compileGbdt } from './models/gbdt.js';
import { makePredictor, type Predictor } from './predictor.js';
import { lastDay, seriesFromObservations, type DailyObservation, type KeySeries } from './series.js';

/** Horizons the models are trained and served for. */
export type Horizon = 7 | 14 | 28;

/** A loaded model, ready for synchronous forecasts. */
export interface ForecastModel {
  readonly file: ModelFile;
  readonly horizon: Horizon;
  readonly keys: readonly string[];
  readonly lastDate: string;
  readonly series: ReadonlyMap<string, KeySeries>;
  readonly predict: Predictor;
}

/** A forecast request: keys, days ahead, optional start and history for keys the model has not seen. */
export interface ForecastRequest {
  keys: string[];
  horizon: Horizon;
  /** `YYYY-MM-DD`; defaults to the day after each key's last observed day. */
  startDate?: string;
  history?: Record<string, DailyObservation[]>;
}

/** One key's daily forecast. */
export interface KeyForecast {
  key: string;
  points: { date: string; purchases: number }[];
}

/** Forecasts for the known keys, and the keys with neither stored nor supplied history. */
export interface ForecastResponse {
  forecasts: KeyForecast[];
  unknownKeys: string[];
}

/** Reads and validates `dir/model.json`. */
export async function loadModel(dir: string): Promise<ForecastModel> {
  const path = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelFormatError(`cannot read model file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError(`model file ${path} is not valid JSON`, { cause: error });
  }
  return modelFromJson(json, path);
}

/** Validates parsed model.json content and prepares it for forecasting. */
export function modelFromJson(json: unknown, source = 'model.json'): ForecastModel {
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(
      `${source} has format version ${JSON.stringify(version)}; this code reads version ${MODEL_FORMAT_VERSION} only`,
    );
  }
  const parsed = modelFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelFormatError(
      `${source} is malformed: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
    );
  }
  return modelFromFile(parsed.data);
}

/** Prepares a validated model file for forecasting. */
export function modelFromFile(file: ModelFile): ForecastModel {
  if (file.featureSetVersion !== FEATURE_SET_VERSION || file.featureNames.length !== FEATURE_COUNT) {
    throw new ModelFormatError(
      `model uses feature set ${file.featureSetVersion} (${file.featureNames.length} features); this code computes feature set ${FEATURE_SET_VERSION} (${FEATURE_NAMES.length})`,
    );
  }
  if (file.kind === 'gbdt' && !file.gbdt) throw new ModelFormatError('a gbdt model.json has no trees');
  const series = new Map<string, KeySeries>();
  for (const key of file.keys) {
    const history = file.history[key];
    if (!history) throw new ModelFormatError(`model.json has no history for key ${key}`);
    series.set(key, seriesFromHistory(key, history));
  }
  const predict = makePredictor({
    kind: file.kind,
    specialDays: new SpecialDays(file.calendar),
    ...(file.gbdt ? { gbdt: compileGbdt(file.gbdt) } : {}),
    ...(file.movingAverageDays ? { movingAverageDays: file.movingAverageDays } : {}),
  });
  return { file, horizon: file.horizon, keys: file.keys, lastDate: file.lastDate, series, predict };
}

function seriesFromHistory(key: string, history: KeyHistory): KeySeries {
  return {
    key,
    startDay: parseIsoDay(history.startDate),
    purchases: Float64Array.from(history.purchases),
    views: Float64Array.from(history.views),
    carts: Float64Array.from(history.carts),
    price: Float64Array.from(history.priceMean, (p) => p ?? Number.NaN),
  };
}

/** Daily purchase forecasts for the requested keys; pure and synchronous. */
export function forecast(model: ForecastModel, request: ForecastRequest): ForecastResponse {
  if (request.horizon > model.horizon) {
    throw new ForecastRequestError(
      'HORIZON_NOT_SUPPORTED',
      `model was trained for ${model.horizon} days ahead; ${request.horizon} requested`,
    );
  }
  const start: EpochDay | null = request.startDate === undefined ? null : parseRequestDate(request.startDate);
  const forecasts: KeyForecast[] = [];
  const unknownKeys: string[] = [];
  for (const key of request.keys) {
    const supplied = request.history?.[key];
    const series = supplied && supplied.length > 0 ? suppliedSeries(key, supplied) : model.series.get(key);
    if (!series) {
      unknownKeys.push(key);
      continue;
    }
    forecasts.push(forecastKey(model, series, request.horizon, start));
  }
  return { forecasts, unknownKeys };
}

function parseRequestDate(iso: string): EpochDay {
  try {
    return parseIsoDay(iso);
  } catch (error) {
    throw new ForecastRequestError('START_OUT_OF_RANGE', (error as Error).message);
  }
}

function suppliedSeries(key: string, observations: DailyObservation[]): KeySeries {
  try {
    return seriesFromObservations(key, observations);
  } catch (error) {
    throw new ForecastRequestError('BAD_HISTORY', `history for ${key}: ${(error as Error).message}`);
  }
}

function forecastKey(
  model: ForecastModel,
  series: KeySeries,
  horizon: Horizon,
  start: EpochDay | null,
): KeyForecast {
  const last = lastDay(series);
  const firstDay = start ?? last + 1;
  // Forecast from the latest observed day before the first requested day.
  const originDay = Math.min(firstDay - 1, last);
  if (originDay < series.startDay) {
    throw new ForecastRequestError(
      'START_OUT_OF_RANGE',
      `${series.key}: start ${formatIsoDay(firstDay)} is before its history (${formatIsoDay(series.startDay)})`,
    );
  }
  const furthest = firstDay + horizon - 1 - originDay;
  if (furthest > model.horizon) {
    throw new ForecastRequestError(
      'START_OUT_OF_RANGE',
      `${series.key}: ${formatIsoDay(firstDay + horizon - 1)} is ${furthest} days after its last observed day ${formatIsoDay(originDay)}; the model forecasts at most ${model.horizon}`,
    );
  }
  const originIndex = originDay - series.startDay;
  const points: KeyForecast['points'] = [];
  for (let d = 0; d < horizon; d++) {
    const day = firstDay + d;
    points.push({ date: formatIsoDay(day), purchases: model.predict(series, originIndex, day - originDay) });
  }
  return { key: series.key, points };
}
