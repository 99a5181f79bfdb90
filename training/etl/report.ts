/** Forecast key types the ETL can aggregate by, in output order. */
export const KEY_TYPES = ['product_id', 'category_code', 'brand'] as const;

/** One forecast key type (a hive partition of the series output). */
export type KeyType = (typeof KEY_TYPES)[number];

/** One input file as the report records it. */
export interface EtlInputReport {
  file: string;
  bytes: number;
  sha256: string;
  /** True when this file's staged rows were reused from an earlier run (same content, same ETL code). */
  cached: boolean;
  rowsRead: number;
}

/**
 * The ETL's account of a run (written as OUT/etl-report.json).
 * Invariant: rowsRead = rowsAccepted + duplicatesRemoved + rowsQuarantined, and
 * rowsQuarantined = sum of quarantinedByReason.
 */
export interface EtlReport {
  /** Content hash of the inputs and the ETL code version: equal inputs and code give an equal version. */
  datasetVersion: string;
  inputs: EtlInputReport[];
  /** Data lines read (headers excluded). */
  rowsRead: number;
  /** Distinct valid rows that went into the aggregates. */
  rowsAccepted: number;
  rowsQuarantined: number;
  quarantinedByReason: Record<string, number>;
  /** Extra copies of exact duplicate valid rows, dropped (found within and across files). */
  duplicatesRemoved: number;
  /** Number of distinct keys per key type. */
  keys: Partial<Record<KeyType, number>>;
  /** First and last calendar day with accepted events (UTC), or null when none. */
  dateRange: { first: string; last: string } | null;
  /** Rows written to the series output (all key types, zero-filled days included). */
  seriesRows: number;
  /** Units of several files processed together because they share days (0 for disjoint monthly files). */
  groupsOfFilesSharingDays: number;
  keyTypes: KeyType[];
  etlCodeVersion: string;
  durationMs: number;
}
