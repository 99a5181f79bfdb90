import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TrainingDataError } from './errors.js';
import { emptySeries, type KeySeries } from './series.js';

/** Key levels the ETL writes series for. */
export type KeyType = 'product_id' | 'category_code' | 'brand';

/** SQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Reads the ETL's daily series of one key level (`DIR/series/key_type=<keyType>/*.parquet`). */
export async function readSeries(dataDir: string, keyType: KeyType): Promise<KeySeries[]> {
  const folder = join(dataDir, 'series', `key_type=${keyType}`);
  if (!existsSync(folder)) throw new TrainingDataError('NO_SERIES', `no series folder ${folder}`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`
      SELECT key::VARCHAR AS key, (date - DATE '1970-01-01')::INTEGER AS day,
             purchases::DOUBLE AS purchases, views::DOUBLE AS views, carts::DOUBLE AS carts,
             price_mean::DOUBLE AS price
      FROM read_parquet(${literal(join(folder, '*.parquet'))}, hive_partitioning = false)
      ORDER BY key, day`);
    const columns = reader.getColumnsObjectJS() as {
      key: string[];
      day: number[];
      purchases: number[];
      views: number[];
      carts: number[];
      price: (number | null)[];
    };
    return groupByKey(columns);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Turns key-sorted rows into zero-filled series, one per key. */
function groupByKey(c: {
  key: string[];
  day: number[];
  purchases: number[];
  views: number[];
  carts: number[];
  price: (number | null)[];
}): KeySeries[] {
  const result: KeySeries[] = [];
  let begin = 0;
  while (begin < c.key.length) {
    const key = c.key[begin] as string;
    let end = begin;
    while (end < c.key.length && c.key[end] === key) end++;
    const startDay = c.day[begin] as number;
    const series = emptySeries(key, startDay, (c.day[end - 1] as number) - startDay + 1);
    for (let i = begin; i < end; i++) {
      const at = (c.day[i] as number) - startDay;
      series.purchases[at] = c.purchases[i] as number;
      series.views[at] = c.views[i] as number;
      series.carts[at] = c.carts[i] as number;
      series.price[at] = c.price[i] ?? Number.NaN;
    }
    result.push(series);
    begin = end;
  }
  return result;
}
