/**
 * The source schema of the "eCommerce behavior data from multi category store" dumps (2019-*.csv.gz):
 * the generator writes it and the ETL reads it, so both take it from here.
 */

/** Columns of the raw clickstream CSV, in file order. */
export const SOURCE_COLUMNS = [
  'event_time',
  'event_type',
  'product_id',
  'category_id',
  'category_code',
  'brand',
  'price',
  'user_id',
  'user_session',
] as const;

/** One raw column name. */
export type SourceColumn = (typeof SOURCE_COLUMNS)[number];

/** The CSV header line (without newline). */
export const SOURCE_HEADER = SOURCE_COLUMNS.join(',');

/** Event types the source uses; anything else is malformed. */
export const EVENT_TYPES = ['view', 'cart', 'remove_from_cart', 'purchase'] as const;

/** One valid event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** strftime/strptime format of `event_time`, e.g. `2019-10-01 00:00:04 UTC`. */
export const EVENT_TIME_FORMAT = '%Y-%m-%d %H:%M:%S UTC';

/**
 * Kinds of malformed rows real dumps carry. The generator injects exactly these and the ETL quarantines
 * them under the same names, so a test can match injected against quarantined per kind.
 */
export const MALFORMED_KINDS = [
  'wrong_column_count',
  'bad_event_time',
  'bad_price',
  'negative_price',
  'unknown_event_type',
  'broken_quoting',
] as const;

/** One malformed-row kind. */
export type MalformedKind = (typeof MALFORMED_KINDS)[number];
