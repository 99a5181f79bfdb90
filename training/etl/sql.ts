import { createHash } from 'node:crypto';
import { EVENT_TYPES } from '../data/schema.js';
import { KEY_TYPES, type KeyType } from './report.js';

/**
 * The SQL that defines the ETL. The ETL code version is a hash of this text (rendered for fixed
 * placeholder paths), so any change to what the ETL computes changes the dataset version.
 */

const SCHEMA_VERSION = '1';

/** A SQL string literal. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * Prices are exact decimals so sums do not depend on the order parallel threads add them in: the same
 * input gives bit-identical revenue and price_mean on every run.
 */
const PRICE_TYPE = 'DECIMAL(18, 4)';

const eventTypeList = EVENT_TYPES.map(literal).join(', ');

/**
 * Reads one raw file. Typed columns the reader can check cheaply (time, ids) are cast by it and failures
 * land in the rejects table with the raw line; event_type and price stay text so a quarantined line keeps
 * its exact text. The source never quotes, so quoting is off and any quote character marks broken quoting.
 */
function readRaw(file: string, rejects: string): string {
  return `read_csv(${literal(file)}, compression = 'none', header = true, auto_detect = false, delim = ',', quote = '', escape = '',
    max_line_size = 1048576,
    columns = {'event_time': 'VARCHAR', 'event_type': 'VARCHAR', 'product_id': 'BIGINT',
      'category_id': 'BIGINT', 'category_code': 'VARCHAR', 'brand': 'VARCHAR', 'price': 'VARCHAR',
      'user_id': 'BIGINT', 'user_session': 'VARCHAR'},
    store_rejects = true, rejects_table = ${literal(`${rejects}_errors`)}, rejects_scan = ${literal(`${rejects}_scans`)})`;
}

/** The raw line rebuilt from parsed fields (exact for the text columns; ids re-rendered). */
const rawLine = `concat_ws(',', coalesce(event_time, ''),
  coalesce(event_type, ''), coalesce(product_id::VARCHAR, ''), coalesce(category_id::VARCHAR, ''),
  coalesce(category_code, ''), coalesce(brand, ''), coalesce(price, ''), coalesce(user_id::VARCHAR, ''),
  coalesce(user_session, ''))`;

/**
 * event_time as TIMESTAMP, or NULL when it is not exactly `YYYY-MM-DD HH:MM:SS UTC`. Checked by shape and
 * cast with the fast ISO parser: a format string in the CSV reader costs more than the whole rest of the parse.
 */
const parseTime = `CASE WHEN length(event_time) = 23 AND suffix(event_time, ' UTC') AND event_time[5] = '-'
    AND event_time[8] = '-' AND event_time[11] = ' ' THEN TRY_CAST(left(event_time, 19) AS TIMESTAMP) END`;

/** Why a parsed row is invalid, or NULL when it is valid. */
const rowReason = `CASE
    WHEN contains(concat(event_time, event_type, category_code, brand, price, user_session), '"') THEN 'broken_quoting'
    WHEN event_time IS NULL THEN 'missing_event_time'
    WHEN ts IS NULL THEN 'bad_event_time'
    WHEN event_type IS NULL OR event_type NOT IN (${eventTypeList}) THEN 'unknown_event_type'
    WHEN product_id IS NULL THEN 'missing_product_id'
    WHEN user_id IS NULL THEN 'missing_user_id'
    WHEN price IS NOT NULL AND TRY_CAST(price AS ${PRICE_TYPE}) IS NULL THEN 'bad_price'
    WHEN TRY_CAST(price AS ${PRICE_TYPE}) < 0 THEN 'negative_price'
  END`;

/**
 * Stage of a file: one streaming scan, no hash table, that classifies every parsed row and writes it as
 * Parquet partitioned by day (`part=YYYY-MM-DD`), invalid rows under `part=quarantine`. Memory stays flat
 * whatever the file size; de-duplication happens later per window of days (see mergeWindowSql), where a
 * duplicate always lands because it has the same event time.
 */
export function stageScanSql(file: string, rejects: string, rowsDir: string): string {
  return `COPY (
    SELECT CASE WHEN reason IS NULL THEN strftime(ts, '%Y-%m-%d') ELSE 'quarantine' END AS part,
      ts::DATE AS date, ts AS event_time, product_id, user_id, reason,
      hash(event_type, category_id, category_code, brand, price, user_session) AS row_hash,
      CASE WHEN reason IS NOT NULL THEN ${rawLine} END AS raw,
      CASE event_type ${EVENT_TYPES.map((t, i) => `WHEN ${literal(t)} THEN ${i}`).join(' ')} END::UTINYINT AS etype,
      TRY_CAST(price AS ${PRICE_TYPE}) AS price_value, category_code, brand
    FROM (SELECT *, ${rowReason} AS reason FROM (SELECT *, ${parseTime} AS ts FROM ${readRaw(file, rejects)}))
  ) TO ${literal(rowsDir)} (FORMAT parquet, PARTITION_BY (part), OVERWRITE_OR_IGNORE true)`;
}

/** Parquet files as a SQL source. */
export const parquetFiles = (files: readonly string[]): string =>
  `read_parquet([${files.map(literal).join(', ')}], hive_partitioning = false)`;

/** Reader rejects, one per raw line, with the reason the line is quarantined (table `<rejects>_lines`). */
export function rejectedLinesSql(rejects: string): string {
  return `CREATE OR REPLACE TEMP TABLE ${rejects}_lines AS SELECT line, arg_min(reason, column_idx) AS reason, any_value(csv_line) AS raw FROM (
    SELECT line, coalesce(column_idx, 0) AS column_idx, csv_line,
      CASE
        WHEN contains(csv_line, '"') THEN 'broken_quoting'
        WHEN error_type IN ('TOO MANY COLUMNS', 'MISSING COLUMNS') THEN 'wrong_column_count'
        WHEN error_type = 'CAST' AND column_name = 'event_time' THEN 'bad_event_time'
        WHEN error_type = 'CAST' THEN 'bad_' || column_name
        WHEN error_type = 'INVALID UNICODE' THEN 'invalid_encoding'
        WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'line_too_long'
        ELSE 'unparseable_line'
      END AS reason
    FROM ${rejects}_errors)
  GROUP BY line`;
}

/** Quarantine rows of one file: reader rejects, blank lines, and rows that parsed but are invalid. */
export function stageQuarantineSql(
  invalidFiles: readonly string[],
  rejects: string,
  emptyLines: number,
  out: string,
): string {
  const parsed = invalidFiles.length
    ? `UNION ALL SELECT NULL::BIGINT AS line, reason, raw FROM ${parquetFiles(invalidFiles)}`
    : '';
  return `COPY (
    SELECT line, reason, raw FROM ${rejects}_lines
    UNION ALL
    SELECT NULL::BIGINT AS line, 'empty_line' AS reason, '' AS raw FROM range(${emptyLines})
    ${parsed}
    ORDER BY line NULLS LAST, reason, raw
  ) TO ${literal(out)} (FORMAT parquet)`;
}

/** Counts for the report from a staged file's row files (none when every line was rejected by the reader). */
export function stageStatsSql(rowFiles: readonly string[], rejects: string): string {
  const source = rowFiles.length
    ? parquetFiles(rowFiles)
    : '(SELECT NULL::VARCHAR AS reason, NULL::DATE AS date WHERE false)';
  return `SELECT
    (SELECT count(*) FROM ${rejects}_lines) AS rejected_lines,
    count(*) AS parsed_rows,
    count(*) FILTER (reason IS NULL) AS valid_rows,
    min(date) FILTER (reason IS NULL)::VARCHAR AS first_date,
    max(date) FILTER (reason IS NULL)::VARCHAR AS last_date
  FROM ${source}`;
}

/** Quarantine counts by reason from a staged quarantine file. */
export function quarantineByReasonSql(quarantineFile: string): string {
  return `SELECT reason, count(*) AS n FROM read_parquet(${literal(quarantineFile)}) GROUP BY reason ORDER BY reason`;
}

// Keys are grouped in their native type (product_id as BIGINT keeps the per-user hash table narrow) and
// rendered as VARCHAR only in the output.
const keyColumn: Record<KeyType, string> = {
  product_id: 'product_id',
  category_code: 'category_code',
  brand: 'brand',
};

/**
 * One window of days from every input's staged rows, de-duplicated: exact duplicate rows are grouped on
 * (time, product, user, hash of the other columns), fixed-width keys that keep the hash table small; a false
 * match needs a 64-bit hash collision between two rows with the same second, product and user.
 */
export function mergeWindowSql(files: readonly string[], table: string): string {
  return `CREATE OR REPLACE TEMP TABLE ${table} AS
    SELECT date, product_id, user_id, any_value(category_code) AS category_code, any_value(brand) AS brand,
      any_value(etype) AS etype, any_value(price_value) AS price_value, count(*) AS copies
    FROM ${parquetFiles(files)}
    GROUP BY date, event_time, product_id, user_id, row_hash`;
}

/**
 * Daily aggregates of one key type over a de-duplicated window, appended to `daily`. Distinct users come
 * from a first aggregation per (key, day, user). Keys are grouped in their native type (product_id as BIGINT
 * keeps that hash table narrow) and rendered as VARCHAR only in the output.
 */
export function windowDailySql(window: string, keyType: KeyType, daily: string, create: boolean): string {
  const key = keyColumn[keyType];
  // BIGINT casts keep the sums Parquet-safe (HUGEINT would be written as DOUBLE) for the window cache.
  const select = `SELECT key, date, sum(views)::BIGINT AS views, sum(carts)::BIGINT AS carts,
      sum(removes)::BIGINT AS removes, sum(purchases)::BIGINT AS purchases, sum(revenue) AS revenue,
      sum(price_sum) AS price_sum, sum(price_n)::BIGINT AS price_n, count(*)::BIGINT AS users
    FROM (
      SELECT ${key} AS key, date, user_id,
        count(*) FILTER (etype = 0) AS views,
        count(*) FILTER (etype = 1) AS carts,
        count(*) FILTER (etype = 2) AS removes,
        count(*) FILTER (etype = 3) AS purchases,
        sum(price_value) FILTER (etype = 3) AS revenue,
        sum(price_value) FILTER (price_value > 0) AS price_sum,
        count(*) FILTER (price_value > 0) AS price_n
      FROM ${window}
      WHERE ${key} IS NOT NULL${keyType === 'product_id' ? '' : ` AND ${key} <> ''`}
      GROUP BY ALL
    ) GROUP BY key, date`;
  return create ? `CREATE OR REPLACE TEMP TABLE ${daily} AS ${select}` : `INSERT INTO ${daily} ${select}`;
}

/** The zero-filled series of one key type: one row per key per calendar day from first to last active day. */
export function seriesSql(daily: string, outFile: string): string {
  return `COPY (
    WITH days AS (
      SELECT key, unnest(generate_series(min(date), max(date), INTERVAL 1 DAY))::DATE AS date
      FROM ${daily} GROUP BY key
    )
    SELECT d.key::VARCHAR AS key, d.date, coalesce(v.views, 0)::BIGINT AS views,
      coalesce(v.carts, 0)::BIGINT AS carts, coalesce(v.removes, 0)::BIGINT AS removes,
      coalesce(v.purchases, 0)::BIGINT AS purchases, coalesce(v.revenue, 0)::DOUBLE AS revenue,
      (v.price_sum / nullif(v.price_n, 0))::DOUBLE AS price_mean, coalesce(v.users, 0)::BIGINT AS users
    FROM days d LEFT JOIN ${daily} v USING (key, date)
    ORDER BY d.key, d.date
  ) TO ${literal(outFile)} (FORMAT parquet)`;
}

/** Version of the ETL code: schema version plus a hash of the SQL it runs. */
export const ETL_CODE_VERSION = `etl-${SCHEMA_VERSION}+${createHash('sha256')
  .update(
    [
      stageScanSql('IN', 'rej', 'ROWS'),
      rejectedLinesSql('rej'),
      stageQuarantineSql(['Q'], 'rej', 0, 'Q'),
      stageStatsSql(['ROWS'], 'rej'),
      mergeWindowSql(['W'], 'win'),
      ...KEY_TYPES.map((k) => windowDailySql('win', k, 'daily', true)),
      seriesSql('daily', 'OUT'),
    ].join('\n'),
  )
  .digest('hex')
  .slice(0, 12)}`;
