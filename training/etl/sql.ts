import { createHash } from 'node:crypto';
import { EVENT_TYPES } from '../data/schema.js';
import { KEY_TYPES, type KeyType } from './report.js';
import { SPLIT_RULES_VERSION } from './split.js';

/**
 * The SQL that defines the ETL. The ETL code version is a hash of this text (rendered for fixed
 * placeholder paths), so any change to what the ETL computes changes the dataset version.
 */

const SCHEMA_VERSION = '3';

/** A SQL string literal. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** A SQL list of string literals. */
const literals = (texts: readonly string[]): string => `[${texts.map(literal).join(', ')}]`;

/**
 * Prices are parsed as exact decimals and summed as BIGINT ten-thousandths, so sums do not depend on the
 * order parallel threads add them in (the same input gives bit-identical revenue and price_mean on every
 * run) and stay 64-bit (DECIMAL sums are 128-bit, measured ~30% slower to aggregate). 14 digits keep the
 * scaled value inside BIGINT: a price of 10^10 or more is a bad_price.
 */
const PRICE_TYPE = 'DECIMAL(14, 4)';

/** Price units per currency unit of the BIGINT sums. */
const PRICE_SCALE = 10000;

/** Tables a batch leaves behind for the statements that follow it. */
export const BATCH_TABLES = {
  rejects: 'batch_rejects',
  scans: 'batch_scans',
};

/**
 * Reads plain-CSV fragments (no header) in parallel. Typed columns the reader can check cheaply (ids)
 * are cast by it and failures land in the rejects table with the raw line; event_type and price stay text
 * so a quarantined line keeps its exact text. The source never quotes, so quoting is off.
 */
function readFragments(files: readonly string[]): string {
  return `read_csv(${literals(files)}, header = false, auto_detect = false, delim = ',', quote = '', escape = '',
    max_line_size = 1048576, filename = true, parallel = true,
    columns = {'event_time': 'VARCHAR', 'event_type': 'VARCHAR', 'product_id': 'BIGINT',
      'category_id': 'BIGINT', 'category_code': 'VARCHAR', 'brand': 'VARCHAR', 'price': 'VARCHAR',
      'user_id': 'BIGINT', 'user_session': 'VARCHAR'},
    store_rejects = true, rejects_table = ${literal(BATCH_TABLES.rejects)}, rejects_scan = ${literal(BATCH_TABLES.scans)})`;
}

/** The raw line rebuilt from parsed fields (exact for the text columns; ids re-rendered). */
const rawLine = `concat_ws(',', coalesce(event_time, ''),
  coalesce(event_type, ''), coalesce(product_id::VARCHAR, ''), coalesce(category_id::VARCHAR, ''),
  coalesce(category_code, ''), coalesce(brand, ''), coalesce(price, ''), coalesce(user_id::VARCHAR, ''),
  coalesce(user_session, ''))`;

/**
 * Why a row of a day fragment is invalid, or NULL when it is valid. The splitter already checked event_time
 * (well-formed, a real date and time) and quoting, so only the other fields are left.
 */
const dayReason = `CASE
    WHEN etype IS NULL THEN 'unknown_event_type'
    WHEN product_id IS NULL THEN 'missing_product_id'
    WHEN user_id IS NULL THEN 'missing_user_id'
    WHEN price IS NOT NULL AND price_value IS NULL THEN 'bad_price'
    WHEN price_value < 0 THEN 'negative_price'
  END`;

/** Why a suspect line (the splitter found no well-formed event_time, or a quote) is invalid: never NULL. */
const suspectReason = `CASE
    WHEN contains(concat(event_time, event_type, category_code, brand, price, user_session), '"') THEN 'broken_quoting'
    WHEN event_time IS NULL THEN 'missing_event_time'
    ELSE 'bad_event_time'
  END`;

/** How a scan treats its fragments. */
export type ScanMode =
  /** Lines of one day, exact copies already taken out by the splitter. */
  | 'day'
  /** Lines of one day that may hold copies: de-duplicated here first. */
  | 'day-dedupe'
  /** Lines that cannot be valid: only classified for the quarantine. */
  | 'suspect';

/** Key types whose texts are dictionary-encoded in the day tables. */
export type DictionaryKey = 'category_code' | 'brand';

/** The dictionary table of one key type (id UINTEGER, text VARCHAR). */
export function dictionaryTable(prefix: string, key: DictionaryKey): string {
  return `${prefix}_dict_${key}`;
}

/**
 * A day's table of valid rows, what its daily aggregates are computed from: keys as dictionary ids
 * (0 = empty), the price in ten-thousandths (0 = empty or zero, which count alike everywhere).
 */
export function dayRowsTableSql(name: string): string {
  return `CREATE OR REPLACE TABLE ${name} (etype UTINYINT, product_id BIGINT, category UINTEGER, brand UINTEGER,
    price_units BIGINT, user_id BIGINT)`;
}

/**
 * One scan of raw fragments into `table`: one row per line with its typed fields, or for an invalid line
 * its reason, raw text and fragment; n counts the line's copies (always 1 unless de-duplicating). In
 * 'day-dedupe' mode exact duplicates are grouped first on their typed fields plus a hash of the text-only
 * ones; a false match needs a 64-bit hash collision between two rows of the same product, user, event
 * type, price, category and brand.
 */
export function scanSql(files: readonly string[], mode: ScanMode, table: string): string {
  const reason = mode === 'suspect' ? suspectReason : dayReason;
  const columns = 'product_id, user_id, category_code, brand, etype, price_units, reason, raw, fragment';
  const rows = `SELECT product_id, user_id, category_code, brand, etype, price_units, reason,
      CASE WHEN reason IS NOT NULL THEN ${rawLine} END AS raw,
      CASE WHEN reason IS NOT NULL THEN filename END AS fragment
      ${mode === 'day-dedupe' ? ', CASE WHEN reason IS NULL THEN hash(event_time, category_id, price, user_session) END AS h' : ''}
    FROM (SELECT *, ${reason} AS reason, (price_value * ${PRICE_SCALE})::BIGINT AS price_units FROM (
      SELECT *, TRY_CAST(price AS ${PRICE_TYPE}) AS price_value,
        CASE event_type ${EVENT_TYPES.map((t, i) => `WHEN ${literal(t)} THEN ${i}`).join(' ')} END::UTINYINT AS etype
      FROM ${readFragments(files)}))`;
  const body =
    mode === 'day-dedupe'
      ? `SELECT ${columns}, count(*) AS n FROM (${rows}) GROUP BY ${columns}, h`
      : `SELECT ${columns}, 1 AS n FROM (${rows})`;
  return `CREATE OR REPLACE TEMP TABLE ${table} AS ${body}`;
}

/** Texts of one key among a scan's valid rows that the dictionary does not hold yet. */
export function newTextsSql(table: string, key: DictionaryKey, prefix: string): string {
  return `SELECT DISTINCT ${key} AS text FROM ${table}
    WHERE reason IS NULL AND ${key} IS NOT NULL AND ${key} NOT IN (SELECT text FROM ${dictionaryTable(prefix, key)})`;
}

/** Adds the valid rows of a scan (each once, whatever its copies) to a day's rows, keys as dictionary ids. */
export function scanValidRowsSql(table: string, rowsTable: string, prefix: string): string {
  return `INSERT INTO ${rowsTable}
    SELECT s.etype, s.product_id, coalesce(c.id, 0), coalesce(b.id, 0), coalesce(s.price_units, 0), s.user_id
    FROM ${table} s
      LEFT JOIN ${dictionaryTable(prefix, 'category_code')} c ON c.text = s.category_code
      LEFT JOIN ${dictionaryTable(prefix, 'brand')} b ON b.text = s.brand
    WHERE s.reason IS NULL`;
}

/** Drops the reader's rejects of the previous scan (the reader appends to them). */
export const dropRejectsSql = `DROP TABLE IF EXISTS ${BATCH_TABLES.rejects}; DROP TABLE IF EXISTS ${BATCH_TABLES.scans}`;

/** Counts of a scan: valid rows (with copies), distinct valid rows, parsed rows, lines the reader rejected. */
export function scanStatsSql(table: string): string {
  return `SELECT
    coalesce(sum(n) FILTER (reason IS NULL), 0) AS valid_rows,
    count(*) FILTER (reason IS NULL) AS distinct_rows,
    coalesce(sum(n), 0) AS parsed_rows,
    (SELECT count(*) FROM (SELECT DISTINCT scan_id, file_id, line FROM ${BATCH_TABLES.rejects})) AS rejected_lines
  FROM ${table}`;
}

/** Tables of one unit (a file, or files that share days): daily aggregates per key type and quarantine. */
export function unitTablesSql(keyTypes: readonly KeyType[]): string {
  const sumType = 'BIGINT';
  return [
    `CREATE OR REPLACE TEMP TABLE unit_quarantine (batch INTEGER, fragment VARCHAR, line BIGINT, reason VARCHAR, raw VARCHAR)`,
    `CREATE OR REPLACE TEMP TABLE unit_fragments (path VARCHAR, source_file VARCHAR)`,
    `CREATE OR REPLACE TEMP TABLE unit_checkpoints (path VARCHAR, fragment_line BIGINT, source_line BIGINT)`,
    ...keyTypes.map(
      (
        k,
      ) => `CREATE OR REPLACE TEMP TABLE unit_daily_${k} (batch INTEGER, key ${k === 'product_id' ? 'BIGINT' : 'VARCHAR'},
        date DATE, views BIGINT, carts BIGINT, removes BIGINT, purchases BIGINT, revenue ${sumType},
        price_sum ${sumType}, price_n BIGINT, users BIGINT)`,
    ),
  ].join(';\n');
}

/** Forgets what earlier batches produced (their days are processed again). */
export function deleteBatchesSql(batches: readonly number[], keyTypes: readonly KeyType[]): string {
  const list = batches.join(', ');
  return ['unit_quarantine', ...keyTypes.map((k) => `unit_daily_${k}`)]
    .map((t) => `DELETE FROM ${t} WHERE batch IN (${list})`)
    .join(';\n');
}

/** Quarantine rows of a scan: reader rejects (one per line) and rows that parsed but are invalid. */
export function scanQuarantineSql(batch: number, table: string): string {
  const t = BATCH_TABLES;
  return `INSERT INTO unit_quarantine
    SELECT ${batch}, fragment, line, arg_min(reason, column_idx), any_value(raw) FROM (
      SELECT s.file_path AS fragment, e.line, coalesce(e.column_idx, 0) AS column_idx, e.csv_line AS raw,
        CASE
          WHEN contains(e.csv_line, '"') THEN 'broken_quoting'
          WHEN e.error_type IN ('TOO MANY COLUMNS', 'MISSING COLUMNS') THEN 'wrong_column_count'
          WHEN e.error_type = 'CAST' THEN 'bad_' || e.column_name
          WHEN e.error_type = 'INVALID UNICODE' THEN 'invalid_encoding'
          WHEN e.error_type = 'LINE SIZE OVER MAXIMUM' THEN 'line_too_long'
          ELSE 'unparseable_line'
        END AS reason
      FROM ${t.rejects} e JOIN ${t.scans} s USING (scan_id, file_id))
    GROUP BY fragment, line
    UNION ALL
    SELECT ${batch}, fragment, NULL, reason, raw FROM (
      SELECT fragment, reason, raw, unnest(range(n)) FROM ${table} WHERE reason IS NOT NULL)`;
}

/** The day-table column holding each key type. */
const dayRowsKeyColumn: Record<KeyType, string> = {
  product_id: 'product_id',
  category_code: 'category',
  brand: 'brand',
};

/**
 * Daily aggregates of one key type over a day's rows, in two aggregations: the counts and sums per
 * (key, event type), a small table, and the distinct (key, user) pairs for exact distinct users. Keys are
 * grouped as integers (dictionary ids for texts) and rendered only here.
 */
export function dayDailySql(
  batch: number,
  keyType: KeyType,
  day: string,
  rowsTable: string,
  prefix: string,
): string {
  const id = dayRowsKeyColumn[keyType];
  // product_id is its own key; the texts are dictionary ids (0 = empty), rendered through the dictionary.
  const encoded = keyType !== 'product_id';
  const where = encoded ? `WHERE ${id} <> 0` : '';
  const key = encoded ? 'd.text' : 's.id';
  const dictionary = encoded ? `JOIN ${dictionaryTable(prefix, keyType)} d ON d.id = s.id` : '';
  return `INSERT INTO unit_daily_${keyType}
    SELECT ${batch}, ${key}, DATE ${literal(day)}, s.views, s.carts, s.removes, s.purchases, s.revenue,
      s.price_sum, s.price_n, u.users
    FROM (
      SELECT id,
        coalesce(sum(n) FILTER (etype = 0), 0)::BIGINT AS views,
        coalesce(sum(n) FILTER (etype = 1), 0)::BIGINT AS carts,
        coalesce(sum(n) FILTER (etype = 2), 0)::BIGINT AS removes,
        coalesce(sum(n) FILTER (etype = 3), 0)::BIGINT AS purchases,
        coalesce(sum(price_sum) FILTER (etype = 3), 0)::BIGINT AS revenue,
        sum(price_sum)::BIGINT AS price_sum,
        sum(price_n)::BIGINT AS price_n
      FROM (
        SELECT ${id} AS id, etype, count(*) AS n, sum(price_units) AS price_sum,
          count(nullif(price_units, 0)) AS price_n
        FROM ${rowsTable} ${where} GROUP BY ALL
      ) GROUP BY id
    ) s
    JOIN (
      SELECT id, count(*) AS users FROM (SELECT DISTINCT ${id} AS id, user_id FROM ${rowsTable} ${where}) GROUP BY id
    ) u ON u.id = s.id
    ${dictionary}`;
}

/** A unit's daily aggregates of one key type, as the Parquet the unit cache keeps. */
export function unitDailySql(keyType: KeyType, out: string): string {
  return `COPY (SELECT key, date, views, carts, removes, purchases, revenue / ${PRICE_SCALE} AS revenue,
      price_sum / ${PRICE_SCALE} AS price_sum, price_n, users FROM unit_daily_${keyType})
    TO ${literal(out)} (FORMAT parquet)`;
}

/**
 * A unit's quarantine: every rejected line with its source file and line number (NULL when the line's
 * place is not known), plus one row per blank line of each source.
 */
export function unitQuarantineSql(emptyLines: readonly { file: string; n: number }[], out: string): string {
  const blanks = emptyLines
    .filter((e) => e.n > 0)
    .map((e) => `UNION ALL SELECT ${literal(e.file)}, NULL::BIGINT, 'empty_line', '' FROM range(${e.n})`)
    .join('\n');
  return `COPY (
    SELECT source_file, line, reason, raw FROM (
      SELECT f.source_file, c.source_line + (q.line - c.fragment_line) AS line, q.reason, q.raw
      FROM unit_quarantine q JOIN unit_fragments f ON f.path = q.fragment
      ASOF LEFT JOIN unit_checkpoints c ON c.path = q.fragment AND q.line >= c.fragment_line
      ${blanks})
    ORDER BY source_file, line NULLS LAST, reason, raw
  ) TO ${literal(out)} (FORMAT parquet)`;
}

/** Quarantine counts by source file and reason from a unit's quarantine file. */
export function quarantineByReasonSql(quarantineFile: string): string {
  return `SELECT source_file, reason, count(*) AS n FROM read_parquet(${literal(quarantineFile)})
    GROUP BY ALL ORDER BY ALL`;
}

/**
 * The zero-filled series of one key type from the units' daily aggregates (units never share a day):
 * one row per key per calendar day from the key's first to last active day. Rows are in no particular
 * order (readers sort by key and date): sorting the 1.3 M rows of the bench's product series cost twice
 * as much as everything else in this statement.
 */
export function seriesSql(dailyFiles: readonly string[], outFile: string): string {
  return `COPY (
    WITH daily AS (SELECT * FROM read_parquet(${literals(dailyFiles)})),
    days AS (
      SELECT key, unnest(generate_series(min(date), max(date), INTERVAL 1 DAY))::DATE AS date
      FROM daily GROUP BY key
    )
    SELECT d.key::VARCHAR AS key, d.date, coalesce(v.views, 0)::BIGINT AS views,
      coalesce(v.carts, 0)::BIGINT AS carts, coalesce(v.removes, 0)::BIGINT AS removes,
      coalesce(v.purchases, 0)::BIGINT AS purchases, coalesce(v.revenue, 0)::DOUBLE AS revenue,
      (v.price_sum / nullif(v.price_n, 0))::DOUBLE AS price_mean, coalesce(v.users, 0)::BIGINT AS users
    FROM days d LEFT JOIN daily v USING (key, date)
  ) TO ${literal(outFile)} (FORMAT parquet)`;
}

/** Version of the ETL code: schema version plus a hash of the split rules and the SQL it runs. */
export const ETL_CODE_VERSION = `etl-${SCHEMA_VERSION}+${createHash('sha256')
  .update(
    [
      SPLIT_RULES_VERSION,
      scanSql(['F'], 'day', 'T'),
      scanSql(['F'], 'day-dedupe', 'T'),
      scanSql(['F'], 'suspect', 'T'),
      dayRowsTableSql('R'),
      newTextsSql('T', 'brand', 'P'),
      scanValidRowsSql('T', 'R', 'P'),
      scanStatsSql('T'),
      unitTablesSql(KEY_TYPES),
      scanQuarantineSql(0, 'T'),
      ...KEY_TYPES.map((k) => dayDailySql(0, k, '2019-10-01', 'R', 'P')),
      ...KEY_TYPES.map((k) => unitDailySql(k, 'OUT')),
      unitQuarantineSql([{ file: 'F', n: 1 }], 'OUT'),
      seriesSql(['D'], 'OUT'),
    ].join('\n'),
  )
  .digest('hex')
  .slice(0, 12)}`;
