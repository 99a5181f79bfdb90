import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { type Engine } from './engine.js';
import { EtlError } from './errors.js';
import { type KeyType } from './report.js';
import { linkTree } from './files.js';
import { ETL_CODE_VERSION, literal, mergeWindowSql, seriesSql, windowDailySql } from './sql.js';
import { partitionFiles, QUARANTINE_PART, STAGE_FILES } from './stage.js';

/** Default staged Parquet bytes per merge window: about 3 M rows, a hash table that fits 512 MB. */
export const DEFAULT_WINDOW_BYTES = 48 * 1024 * 1024;

/** What merging produced. */
export interface MergeResult {
  rowsAccepted: number;
  duplicatesRemoved: number;
  /** Valid rows seen (accepted + duplicates), to check against the stages' counts. */
  validRows: number;
  windows: number;
  /** Windows whose daily aggregates were reused from the previous run. */
  windowsReused: number;
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

/** Where merged windows are kept for reuse: the previous run's copy and this run's. */
export interface WindowCache {
  previousDir: string;
  dir: string;
  /** Staged bytes per window (whole days; a window closes once it reaches this size). */
  windowBytes: number;
}

interface WindowCounts {
  distinctRows: number;
  rows: number;
}

/** A window's identity: the staged day files it covers (content-addressed by input hash) and the code. */
function windowKey(files: readonly string[]): string {
  const ids = files.map((f) => f.split(sep).slice(-4).join('/')).sort();
  return createHash('sha256')
    .update([ETL_CODE_VERSION, ...ids].join('\n'))
    .digest('hex')
    .slice(0, 32);
}

async function readCachedWindow(
  dir: string,
  keyTypes: readonly KeyType[],
): Promise<WindowCounts | undefined> {
  try {
    const counts = JSON.parse(await readFile(join(dir, 'counts.json'), 'utf8')) as WindowCounts;
    for (const keyType of keyTypes) await stat(join(dir, `${keyType}.parquet`));
    return counts;
  } catch {
    return undefined; // Not merged before with these key types: merge it now.
  }
}

/**
 * Merges the staged rows of every input into zero-filled daily series per key type, one window of days at a
 * time so memory is bounded by the window, not by the input. A day's rows from all inputs share a window,
 * so duplicates and distinct users are exact. A window whose day files are unchanged since the previous run
 * is reused from its cached daily aggregates, so adding a month merges only the new days.
 */
export async function mergeSeries(
  engine: Engine,
  stageDirs: readonly string[],
  keyTypes: readonly KeyType[],
  seriesFile: (keyType: KeyType) => string,
  cache: WindowCache,
  onPercent?: (percent: number) => void,
): Promise<MergeResult> {
  const days = await filesByDay(stageDirs);
  const windows: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const day of days) {
    current.push(...day.files);
    bytes += day.bytes;
    if (bytes >= cache.windowBytes) {
      windows.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length) windows.push(current);
  if (windows.length === 0) throw new EtlError('NO_VALID_ROWS', 'no valid rows in any input');

  const result: MergeResult = {
    rowsAccepted: 0,
    duplicatesRemoved: 0,
    validRows: 0,
    windows: 0,
    windowsReused: 0,
  };
  for (const [w, files] of windows.entries()) {
    const key = windowKey(files);
    const dir = join(cache.dir, key);
    let counts = await readCachedWindow(join(cache.previousDir, key), keyTypes);
    if (counts) {
      await linkTree(join(cache.previousDir, key), dir);
      result.windowsReused++;
    } else {
      counts = await mergeWindow(engine, files, keyTypes, dir);
    }
    for (const keyType of keyTypes) {
      const daily = `read_parquet(${literal(join(dir, `${keyType}.parquet`))})`;
      await engine.run(
        w === 0
          ? `CREATE OR REPLACE TEMP TABLE daily_${keyType} AS SELECT * FROM ${daily}`
          : `INSERT INTO daily_${keyType} SELECT * FROM ${daily}`,
      );
    }
    result.rowsAccepted += counts.distinctRows;
    result.duplicatesRemoved += counts.rows - counts.distinctRows;
    result.validRows += counts.rows;
    result.windows++;
    onPercent?.((90 * (w + 1)) / windows.length);
  }
  for (const keyType of keyTypes) {
    await engine.run(seriesSql(`daily_${keyType}`, seriesFile(keyType)));
    await engine.run(`DROP TABLE IF EXISTS daily_${keyType}`);
  }
  onPercent?.(100);
  return result;
}

/** De-duplicates one window and writes its daily aggregates per key type and its counts into `dir`. */
async function mergeWindow(
  engine: Engine,
  files: readonly string[],
  keyTypes: readonly KeyType[],
  dir: string,
): Promise<WindowCounts> {
  await mkdir(dir, { recursive: true });
  await engine.run(mergeWindowSql(files, 'merge_window'));
  const [row] = await engine.rows(
    'SELECT count(*) AS distinct_rows, coalesce(sum(copies), 0) AS rows FROM merge_window',
  );
  const counts: WindowCounts = {
    distinctRows: Number(row?.distinct_rows ?? 0),
    rows: Number(row?.rows ?? 0),
  };
  for (const keyType of keyTypes) {
    await engine.run(windowDailySql('merge_window', keyType, 'window_daily', true));
    await engine.run(`COPY window_daily TO ${literal(join(dir, `${keyType}.parquet`))} (FORMAT parquet)`);
  }
  await engine.run('DROP TABLE IF EXISTS window_daily');
  await engine.run('DROP TABLE IF EXISTS merge_window');
  await writeFile(join(dir, 'counts.json'), `${JSON.stringify(counts)}\n`);
  return counts;
}
