import { DuckDBInstance } from '@duckdb/node-api';
import { type BacktestPoints } from './backtest.js';

/** Writes backtest points (predictions vs actuals) to a Parquet file with DuckDB. */
export async function writeBacktestParquet(points: BacktestPoints, path: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE points (model VARCHAR, fold INTEGER, key VARCHAR, origin_day INTEGER,
      day INTEGER, horizon_day INTEGER, actual DOUBLE, predicted DOUBLE)`);
    const appender = await connection.createAppender('points');
    for (let i = 0; i < points.model.length; i++) {
      appender.appendVarchar(points.model[i] as string);
      appender.appendInteger(points.fold[i] as number);
      appender.appendVarchar(points.key[i] as string);
      appender.appendInteger(points.originDay[i] as number);
      appender.appendInteger(points.day[i] as number);
      appender.appendInteger(points.horizonDay[i] as number);
      appender.appendDouble(points.actual[i] as number);
      appender.appendDouble(points.predicted[i] as number);
      appender.endRow();
    }
    appender.closeSync();
    await connection.run(`COPY (
        SELECT model, fold, key, DATE '1970-01-01' + origin_day AS origin_date, DATE '1970-01-01' + day AS date,
               horizon_day, actual, predicted
        FROM points ORDER BY model, fold, key, date)
      TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
