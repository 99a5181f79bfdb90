import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { linkTree } from './files.js';
import { basename, dirname, join, resolve } from 'node:path';
import { type Engine, openEngine } from './engine.js';
import { EtlError, EtlInputError } from './errors.js';
import { checkHeader, hashFile, type InputFile, resolveInputs } from './inputs.js';
import { type EtlReport, type KeyType, KEY_TYPES, type StageStats } from './report.js';
import { DEFAULT_WINDOW_BYTES, type MergeResult, mergeSeries } from './merge.js';
import { ETL_CODE_VERSION, literal } from './sql.js';
import { STAGE_FILES, stageFile } from './stage.js';

/** Options of {@link runEtl}. */
export interface RunEtlOptions {
  /** Files and/or glob patterns of raw clickstream (.csv.gz or .csv). */
  inputs: string | readonly string[];
  /** Output directory; replaced as a whole only when the run succeeds. */
  outDir: string;
  keyTypes?: readonly KeyType[];
  onProgress?: (progress: EtlProgress) => void;
  threads?: number;
  /** DuckDB memory limit (default '512MB'). */
  memoryLimit?: string;
  /** A file whose quarantined share of rows exceeds this fails the run as not the schema (default 0.5). */
  maxQuarantineShare?: number;
  /** Staged Parquet bytes per merge window (default 48 MiB, ~3 M rows); smaller uses less memory. */
  mergeWindowBytes?: number;
}

/** Progress of a run, per phase. */
export interface EtlProgress {
  phase: 'check' | 'stage' | 'merge' | 'done';
  filesDone: number;
  filesTotal: number;
  file?: string;
  /** DuckDB's progress through the current statement (0-100), when known. */
  percent?: number;
  rowsRead: number;
  /** Input bytes (compressed) fully processed so far. */
  bytesDone: number;
}

/** Where a run keeps each input's staged (validated, de-duplicated) rows, by content hash, for reuse. */
const PARTIALS_DIR = 'staged';
/** Where a run keeps each merged window's daily aggregates, keyed by the day files it covers, for reuse. */
const MERGED_DIR = 'merged';

/**
 * Turns raw clickstream files into daily series per key type (Parquet, hive-partitioned by key_type),
 * a quarantine of rejected lines and etl-report.json. Files already staged in `outDir` by an earlier run
 * (same content hash and ETL code version) are reused, so adding a month re-processes only that month.
 */
export async function runEtl(options: RunEtlOptions): Promise<EtlReport> {
  const started = performance.now();
  const keyTypes = [...new Set(options.keyTypes ?? KEY_TYPES)];
  for (const k of keyTypes) {
    if (!KEY_TYPES.includes(k))
      throw new EtlError('BAD_OPTIONS', `unknown key type ${k}; use ${KEY_TYPES.join(', ')}`);
  }
  if (keyTypes.length === 0) throw new EtlError('BAD_OPTIONS', 'keyTypes is empty');
  const maxQuarantineShare = options.maxQuarantineShare ?? 0.5;
  const outDir = resolve(options.outDir);
  const files = await resolveInputs(options.inputs);
  const progress: EtlProgress = {
    phase: 'check',
    filesDone: 0,
    filesTotal: files.length,
    rowsRead: 0,
    bytesDone: 0,
  };
  const emit = (patch: Partial<EtlProgress>): void =>
    options.onProgress?.({ ...Object.assign(progress, patch) });

  // Check every file before any heavy work, so a bad file fails the run in seconds.
  for (const file of files) await checkHeader(file);
  const inputs: InputFile[] = [];
  for (const file of files) inputs.push(await hashFile(file));
  rejectSameContent(inputs);

  await mkdir(dirname(outDir), { recursive: true });
  const work = `${outDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let engine: Engine | undefined;
  try {
    await mkdir(join(work, PARTIALS_DIR), { recursive: true });
    await mkdir(join(work, 'quarantine'), { recursive: true });
    engine = await openEngine({
      spillDir: join(work, '.spill'),
      threads: options.threads,
      memoryLimit: options.memoryLimit,
    });

    const staged: { input: InputFile; stats: StageStats; cached: boolean; dir: string }[] = [];
    for (const [i, input] of inputs.entries()) {
      emit({ phase: 'stage', file: input.file, percent: 0 });
      const dir = join(work, PARTIALS_DIR, input.sha256);
      let stats = await reuseStage(join(outDir, PARTIALS_DIR, input.sha256), dir);
      const cached = stats !== undefined;
      stats ??= await stageFile(engine, input, dir, work, String(i), (percent) => emit({ percent }));
      checkQuarantineShare(input.file, stats, maxQuarantineShare);
      staged.push({ input, stats, cached, dir });
      emit({
        filesDone: i + 1,
        rowsRead: progress.rowsRead + stats.rowsRead,
        bytesDone: progress.bytesDone + input.bytes,
        percent: 100,
      });
    }

    for (const [i, { input, dir }] of staged.entries()) {
      const name = `${String(i).padStart(3, '0')}-${basename(input.file).replace(/\.csv(\.gz)?$/, '')}.parquet`;
      await engine.run(`COPY (SELECT ${literal(input.file)} AS source_file, line, reason, raw
        FROM read_parquet(${literal(join(dir, STAGE_FILES.quarantine))}))
        TO ${literal(join(work, 'quarantine', name))} (FORMAT parquet)`);
    }

    emit({ phase: 'merge', file: undefined, percent: 0 });
    const seriesDir = join(work, 'series');
    for (const keyType of keyTypes) await mkdir(join(seriesDir, `key_type=${keyType}`), { recursive: true });
    const merged = await mergeSeries(
      engine,
      staged.map((s) => s.dir),
      keyTypes,
      (keyType) => join(seriesDir, `key_type=${keyType}`, 'data_0.parquet'),
      {
        previousDir: join(outDir, MERGED_DIR),
        dir: join(work, MERGED_DIR),
        windowBytes: options.mergeWindowBytes ?? DEFAULT_WINDOW_BYTES,
      },
      (percent) => emit({ percent }),
    );
    const validRows = staged.reduce((a, s) => a + s.stats.validRows, 0);
    if (merged.validRows !== validRows) {
      throw new EtlError(
        'ENGINE_FAILED',
        `merge saw ${merged.validRows} valid rows, the stages ${validRows}`,
      );
    }
    const keyRows = await engine.rows(`SELECT key_type, count(DISTINCT key) AS keys, count(*) AS n
      FROM read_parquet(${literal(join(seriesDir, '*', '*.parquet'))}, hive_partitioning = true) GROUP BY key_type`);
    engine.close();
    engine = undefined;
    await rm(join(work, '.spill'), { recursive: true, force: true });

    const report = buildReport(staged, merged, keyTypes, keyRows, performance.now() - started);
    await writeFile(join(work, 'etl-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await swapIn(work, outDir);
    emit({ phase: 'done', percent: 100 });
    return report;
  } catch (error) {
    engine?.close();
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/** Same bytes under two names would be counted twice; the caller must pick one. */
function rejectSameContent(inputs: readonly InputFile[]): void {
  const seen = new Map<string, string>();
  for (const { file, sha256 } of inputs) {
    const other = seen.get(sha256);
    if (other)
      throw new EtlInputError('BAD_OPTIONS', file, `has the same content as ${other}; give each file once`);
    seen.set(sha256, file);
  }
}

function checkQuarantineShare(file: string, stats: StageStats, max: number): void {
  if (stats.validRows === 0) {
    throw new EtlInputError(
      'NO_VALID_ROWS',
      file,
      `none of its ${stats.rowsRead} rows is valid: ${JSON.stringify(stats.quarantinedByReason)}`,
    );
  }
  const share = stats.rowsQuarantined / Math.max(1, stats.rowsRead);
  if (share > max) {
    throw new EtlInputError(
      'MOSTLY_MALFORMED',
      file,
      `${(share * 100).toFixed(1)}% of rows are malformed (limit ${max * 100}%): ${JSON.stringify(stats.quarantinedByReason)}`,
    );
  }
}

/** Reuses a previous run's stage of the same content if its ETL code version matches; hard-links when it can. */
async function reuseStage(previous: string, dir: string): Promise<StageStats | undefined> {
  let stats: StageStats;
  try {
    stats = JSON.parse(await readFile(join(previous, STAGE_FILES.stats), 'utf8')) as StageStats;
    await stat(join(previous, STAGE_FILES.rows));
    await stat(join(previous, STAGE_FILES.quarantine));
  } catch {
    return undefined; // Nothing reusable: stage it afresh.
  }
  if (stats.etlCodeVersion !== ETL_CODE_VERSION) return undefined;
  await linkTree(previous, dir);
  return stats;
}

function buildReport(
  staged: readonly { input: InputFile; stats: StageStats; cached: boolean }[],
  merged: MergeResult,
  keyTypes: KeyType[],
  keyRows: readonly Record<string, unknown>[],
  durationMs: number,
): EtlReport {
  const sum = (pick: (s: StageStats) => number): number => staged.reduce((a, s) => a + pick(s.stats), 0);
  const quarantinedByReason: Record<string, number> = {};
  for (const { stats } of staged) {
    for (const [reason, n] of Object.entries(stats.quarantinedByReason)) {
      quarantinedByReason[reason] = (quarantinedByReason[reason] ?? 0) + n;
    }
  }
  const firsts = staged
    .map((s) => s.stats.firstDate)
    .filter((d): d is string => d !== null)
    .sort();
  const lasts = staged
    .map((s) => s.stats.lastDate)
    .filter((d): d is string => d !== null)
    .sort();
  const keys: Partial<Record<KeyType, number>> = {};
  for (const k of keyTypes) keys[k] = Number(keyRows.find((r) => r.key_type === k)?.keys ?? 0);
  const versionInput = [
    ETL_CODE_VERSION,
    keyTypes.join(','),
    ...staged.map((s) => s.input.sha256).sort(),
  ].join('\n');
  return {
    datasetVersion: `ds-${createHash('sha256').update(versionInput).digest('hex').slice(0, 16)}`,
    inputs: staged.map(({ input, stats, cached }) => ({ ...input, cached, rowsRead: stats.rowsRead })),
    rowsRead: sum((s) => s.rowsRead),
    rowsAccepted: merged.rowsAccepted,
    rowsQuarantined: sum((s) => s.rowsQuarantined),
    quarantinedByReason,
    duplicatesRemoved: merged.duplicatesRemoved,
    keys,
    dateRange: firsts[0] && lasts.at(-1) ? { first: firsts[0], last: lasts.at(-1) as string } : null,
    seriesRows: keyRows.reduce((a, r) => a + Number(r.n ?? 0), 0),
    mergeWindows: { total: merged.windows, reused: merged.windowsReused },
    keyTypes,
    etlCodeVersion: ETL_CODE_VERSION,
    durationMs: Math.round(durationMs),
  };
}

/** Replaces outDir with the finished work dir; the old output is removed only after the new one is in place. */
async function swapIn(work: string, outDir: string): Promise<void> {
  const old = `${outDir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hadOld = await stat(outDir).then(
    () => true,
    () => false,
  );
  if (hadOld) await rename(outDir, old);
  await rename(work, outDir);
  if (hadOld) await rm(old, { recursive: true, force: true });
}
