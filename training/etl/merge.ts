import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine } from './engine.js';
import { EtlError } from './errors.js';
import { type KeyType } from './report.js';
import { mergeWindowSql, seriesSql, windowDailySql } from './sql.js';
import { partitionFiles, QUARANTINE_PART, STAGE_FILES } from './stage.js';

/** Staged Parquet bytes per merge window: about 3 M rows, a hash table that fits the memory limit. */
const WINDOW_BYTES = 48 * 1024 * 1024;

/** What merging produced. */
export interface MergeResult {
  rowsAccepted: number;
  duplicatesRemoved: number;
  /** Valid rows seen (accepted + duplicates), to check against the stages' counts. */
  validRows: number;
}

/** Files of every staged input, grouped by day, in day order. */
async function filesByDay(
  stageDirs: readonly string[],
): Promise<{ day: string; files: string[]; bytes: number }[]> {
  const days = new Map<string, { files: string[]; bytes: number }>();
  for (const dir of stageDirs) {
    const rowsDir = join(dir, STAGE_FILES.rows);
    for (const part of await readdir(rowsDir).catch(() => [])) {
      if (part === QUARANTINE_PART || !part.startsWith('part=')) continue;
      const entry = days.get(part) ?? { files: [], bytes: 0 };
      for (const file of await partitionFiles(join(rowsDir, part))) {
        entry.files.push(file);
        entry.bytes += (await stat(file)).size;
      }
      days.set(part, entry);
    }
  }
  return [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, e]) => ({ day, ...e }));
}

/**
 * Merges the staged rows of every input into zero-filled daily series per key type, one window of days at a
 * time so memory is bounded by the window, not by the input. A day's rows from all inputs share a window,
 * so duplicates and distinct users are exact.
 */
export async function mergeSeries(
  engine: Engine,
  stageDirs: readonly string[],
  keyTypes: readonly KeyType[],
  seriesFile: (keyType: KeyType) => string,
  onPercent?: (percent: number) => void,
): Promise<MergeResult> {
  const days = await filesByDay(stageDirs);
  const windows: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const day of days) {
    current.push(...day.files);
    bytes += day.bytes;
    if (bytes >= WINDOW_BYTES) {
      windows.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length) windows.push(current);

  const result: MergeResult = { rowsAccepted: 0, duplicatesRemoved: 0, validRows: 0 };
  for (const [w, files] of windows.entries()) {
    await engine.run(mergeWindowSql(files, 'merge_window'));
    const [counts] = await engine.rows(
      'SELECT count(*) AS distinct_rows, coalesce(sum(copies), 0) AS rows FROM merge_window',
    );
    const distinct = Number(counts?.distinct_rows ?? 0);
    const rows = Number(counts?.rows ?? 0);
    result.rowsAccepted += distinct;
    result.duplicatesRemoved += rows - distinct;
    result.validRows += rows;
    for (const keyType of keyTypes) {
      await engine.run(windowDailySql('merge_window', keyType, `daily_${keyType}`, w === 0));
    }
    onPercent?.((90 * (w + 1)) / windows.length);
  }
  await engine.run('DROP TABLE IF EXISTS merge_window');
  if (windows.length === 0) throw new EtlError('NO_VALID_ROWS', 'no valid rows in any input');
  for (const keyType of keyTypes) {
    await engine.run(seriesSql(`daily_${keyType}`, seriesFile(keyType)));
    await engine.run(`DROP TABLE IF EXISTS daily_${keyType}`);
  }
  onPercent?.(100);
  return result;
}
