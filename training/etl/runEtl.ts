import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Engine, openEngine } from './engine.js';
import { EtlError, EtlInputError } from './errors.js';
import { linkFile, linkTree } from './files.js';
import { checkHeader, hashFile, type InputFile, resolveInputs } from './inputs.js';
import { type EtlReport, type KeyType, KEY_TYPES } from './report.js';
import { ETL_CODE_VERSION, literal, seriesSql } from './sql.js';
import { processUnit, UNIT_FILES, type UnitStats } from './unit.js';

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
}

/** Progress of a run, per phase. */
export interface EtlProgress {
  phase: 'check' | 'stage' | 'merge' | 'done';
  /** 'stage' is one file's (or one group of files sharing days) parse, validation and daily aggregates. */
  filesDone: number;
  filesTotal: number;
  file?: string;
  /** DuckDB's progress through the current statement (0-100), when known. */
  percent?: number;
  rowsRead: number;
  /** Input bytes (compressed) fully processed so far. */
  bytesDone: number;
}

/** Where a run keeps each unit's daily aggregates, quarantine and counts, by content hash, for reuse. */
const UNITS_DIR = 'units';

/** A unit: one input file, or several that share days (they must be de-duplicated and counted together). */
interface Unit {
  id: string;
  files: InputFile[];
  stats: UnitStats;
  cached: boolean;
  dir: string;
}

/**
 * Turns raw clickstream files into daily series per key type (Parquet, hive-partitioned by key_type),
 * a quarantine of rejected lines and etl-report.json. Files already processed into `outDir` by an earlier
 * run (same content hash and ETL code version) are reused, so adding a month re-processes only that month.
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
  let lastEmit = 0;
  const emit = (patch: Partial<EtlProgress>, throttle = false): void => {
    Object.assign(progress, patch);
    if (throttle && performance.now() - lastEmit < 250) return;
    lastEmit = performance.now();
    options.onProgress?.({ ...progress });
  };

  // Check every file before any heavy work, so a bad file fails the run in seconds.
  for (const file of files) await checkHeader(file);
  const sizes = new Map<string, number>();
  for (const file of files) sizes.set(file, (await stat(file)).size);
  const previous = await previousUnits(join(outDir, UNITS_DIR), keyTypes);

  // While files are split, one core is the split worker's (decompressing and parsing) and DuckDB gets the
  // others: on 2 cores, 2 DuckDB threads measured 17 s and ~30 CPU-s for the bench file against 15 s and
  // ~25 CPU-s with 1.
  const splitThreads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const mergeThreads = options.threads ?? availableParallelism();
  await mkdir(dirname(outDir), { recursive: true });
  const work = `${outDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let engine: Engine | undefined;
  try {
    await mkdir(join(work, UNITS_DIR), { recursive: true });
    await mkdir(join(work, 'quarantine'), { recursive: true });
    engine = await openEngine({
      spillDir: join(work, '.spill'),
      threads: splitThreads,
      memoryLimit: options.memoryLimit,
    });
    const run = async (id: string | undefined, inputs: readonly { file: string; bytes: number }[]) => {
      const dir = join(work, UNITS_DIR, id ?? `pending-${randomBytes(4).toString('hex')}`);
      const stats = await processUnit(engine as Engine, inputs, keyTypes, dir, join(work, 'scratch'), (b) =>
        emit({ percent: Math.min(99, (100 * b) / totalBytes(inputs)) }, true),
      );
      const unitId = id ?? stats.files[0]?.sha256 ?? 'unknown';
      const final = join(work, UNITS_DIR, unitId);
      if (final !== dir) {
        await rm(final, { recursive: true, force: true });
        await rename(dir, final);
      }
      return { stats, dir: final, id: unitId };
    };

    // One unit per file first; a file processed before (same bytes) is reused.
    const singles: Unit[] = [];
    for (const file of files) {
      emit({ phase: 'stage', file, percent: 0 });
      const bytes = sizes.get(file) ?? 0;
      let unit: Unit | undefined;
      if (previous.sizes.has(bytes)) {
        const input = await hashFile(file);
        unit = await reuseUnit(previous.dirs, input.sha256, join(work, UNITS_DIR), [input]);
      }
      if (!unit) {
        const { stats, dir, id } = await run(undefined, [{ file, bytes }]);
        const single = stats.files[0] as UnitStats['files'][number];
        unit = { id, files: [{ file, bytes, sha256: single.sha256 }], stats, cached: false, dir };
      }
      checkQuarantineShare(file, unit.stats, maxQuarantineShare);
      singles.push(unit);
      emit({
        filesDone: progress.filesDone + 1,
        rowsRead: progress.rowsRead + (unit.stats.files[0]?.rowsRead ?? 0),
        bytesDone: progress.bytesDone + bytes,
        percent: 100,
      });
    }
    rejectSameContent(singles.flatMap((u) => u.files));

    // Files that share a day are processed again together, so duplicates and users across them are exact.
    const units: Unit[] = [];
    for (const group of groupBySharedDays(singles)) {
      if (group.length === 1) {
        units.push(group[0] as Unit);
        continue;
      }
      const inputs = group.flatMap((u) => u.files);
      const id = `group-${createHash('sha256')
        .update(
          inputs
            .map((i) => i.sha256)
            .sort()
            .join(','),
        )
        .digest('hex')
        .slice(0, 32)}`;
      emit({ phase: 'stage', file: inputs.map((i) => i.file).join(', '), percent: 0 });
      let unit = await reuseUnit(previous.dirs, id, join(work, UNITS_DIR), inputs);
      if (!unit) {
        const done = await run(id, inputs);
        unit = { id, files: inputs, stats: done.stats, cached: false, dir: done.dir };
      }
      units.push(unit);
    }

    emit({ phase: 'merge', file: undefined, percent: 0 });
    // The split worker is done: the series get every core.
    if (mergeThreads !== splitThreads) await engine.run(`SET threads = ${mergeThreads}`);
    for (const [i, unit] of units.entries()) {
      const first = basename(unit.files[0]?.file ?? 'input').replace(/\.csv(\.gz)?$/, '');
      const more = unit.files.length > 1 ? `+${unit.files.length - 1}` : '';
      const name = `${String(i).padStart(3, '0')}-${first}${more}.parquet`;
      await linkFile(join(unit.dir, UNIT_FILES.quarantine), join(work, 'quarantine', name));
    }
    const seriesDir = join(work, 'series');
    for (const [k, keyType] of keyTypes.entries()) {
      await mkdir(join(seriesDir, `key_type=${keyType}`), { recursive: true });
      await engine.run(
        seriesSql(
          units.map((u) => join(u.dir, UNIT_FILES.daily(keyType))),
          join(seriesDir, `key_type=${keyType}`, 'data_0.parquet'),
        ),
      );
      emit({ percent: (100 * (k + 1)) / keyTypes.length });
    }
    const keyRows = await engine.rows(`SELECT key_type, count(DISTINCT key) AS keys, count(*) AS n
      FROM read_parquet(${literal(join(seriesDir, '*', '*.parquet'))}, hive_partitioning = true) GROUP BY key_type`);
    engine.close();
    engine = undefined;
    await rm(join(work, '.spill'), { recursive: true, force: true });

    const report = buildReport(singles, units, keyTypes, keyRows, performance.now() - started);
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

const totalBytes = (inputs: readonly { bytes: number }[]): number =>
  Math.max(
    1,
    inputs.reduce((a, i) => a + i.bytes, 0),
  );

/** Units a previous run left (stats of the current ETL code and key types), and their files' sizes. */
async function previousUnits(
  dir: string,
  keyTypes: readonly KeyType[],
): Promise<{ dirs: Map<string, UnitStats>; sizes: Set<number> }> {
  const dirs = new Map<string, UnitStats>();
  const sizes = new Set<number>();
  for (const id of await readdir(dir).catch(() => [])) {
    try {
      const stats = JSON.parse(await readFile(join(dir, id, UNIT_FILES.stats), 'utf8')) as UnitStats;
      if (stats.etlCodeVersion !== ETL_CODE_VERSION) continue;
      if (!keyTypes.every((k) => stats.keyTypes.includes(k))) continue;
      await stat(join(dir, id, UNIT_FILES.quarantine));
      for (const k of keyTypes) await stat(join(dir, id, UNIT_FILES.daily(k)));
      dirs.set(join(dir, id), stats);
      for (const f of stats.files) sizes.add(f.bytes);
    } catch {
      // Not a complete unit of this code version: it is not reused.
    }
  }
  return { dirs, sizes };
}

/** Hard-links a previous run's unit of the same content into the work dir. */
async function reuseUnit(
  previous: ReadonlyMap<string, UnitStats>,
  id: string,
  unitsDir: string,
  inputs: readonly InputFile[],
): Promise<Unit | undefined> {
  for (const [dir, stats] of previous) {
    if (basename(dir) !== id) continue;
    const target = join(unitsDir, id);
    await linkTree(dir, target);
    // The same bytes may sit under another name now; the unit's own names are what the report shows.
    const files = inputs.map((i) => ({ ...i, bytes: i.bytes }));
    return { id, files, stats, cached: true, dir: target };
  }
  return undefined;
}

/** Groups units into sets that share at least one day (connected components), in input order. */
function groupBySharedDays(units: readonly Unit[]): Unit[][] {
  const parent = units.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  const firstOwner = new Map<string, number>();
  for (const [i, unit] of units.entries()) {
    for (const day of unit.stats.days) {
      const owner = firstOwner.get(day);
      if (owner === undefined) firstOwner.set(day, i);
      else parent[find(i)] = find(owner);
    }
  }
  const groups = new Map<number, Unit[]>();
  for (const [i, unit] of units.entries()) {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), unit]);
  }
  return [...groups.values()];
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

function checkQuarantineShare(file: string, stats: UnitStats, max: number): void {
  const own = stats.files[0];
  const byReason = JSON.stringify(own?.quarantinedByReason ?? {});
  if (stats.validRows === 0) {
    throw new EtlInputError(
      'NO_VALID_ROWS',
      file,
      `none of its ${own?.rowsRead ?? 0} rows is valid: ${byReason}`,
    );
  }
  const share = (own?.rowsQuarantined ?? 0) / Math.max(1, own?.rowsRead ?? 0);
  if (share > max) {
    throw new EtlInputError(
      'MOSTLY_MALFORMED',
      file,
      `${(share * 100).toFixed(1)}% of rows are malformed (limit ${max * 100}%): ${byReason}`,
    );
  }
}

function buildReport(
  singles: readonly Unit[],
  units: readonly Unit[],
  keyTypes: KeyType[],
  keyRows: readonly Record<string, unknown>[],
  durationMs: number,
): EtlReport {
  const fileStats = units.flatMap((u) => u.stats.files);
  const quarantinedByReason: Record<string, number> = {};
  for (const f of fileStats) {
    for (const [reason, n] of Object.entries(f.quarantinedByReason)) {
      quarantinedByReason[reason] = (quarantinedByReason[reason] ?? 0) + n;
    }
  }
  const days = units.flatMap((u) => u.stats.days).sort();
  const keys: Partial<Record<KeyType, number>> = {};
  for (const k of keyTypes) keys[k] = Number(keyRows.find((r) => r.key_type === k)?.keys ?? 0);
  const inputs = singles.flatMap((u) => u.files);
  const versionInput = [ETL_CODE_VERSION, keyTypes.join(','), ...inputs.map((i) => i.sha256).sort()].join(
    '\n',
  );
  const cached = new Set(units.filter((u) => u.cached).flatMap((u) => u.files.map((f) => f.sha256)));
  return {
    datasetVersion: `ds-${createHash('sha256').update(versionInput).digest('hex').slice(0, 16)}`,
    inputs: singles.map((u) => ({
      file: u.files[0]?.file ?? '',
      bytes: u.files[0]?.bytes ?? 0,
      sha256: u.files[0]?.sha256 ?? '',
      cached: u.cached && cached.has(u.files[0]?.sha256 ?? ''),
      rowsRead: u.stats.files[0]?.rowsRead ?? 0,
    })),
    rowsRead: fileStats.reduce((a, f) => a + f.rowsRead, 0),
    rowsAccepted: units.reduce((a, u) => a + u.stats.rowsAccepted, 0),
    rowsQuarantined: fileStats.reduce((a, f) => a + f.rowsQuarantined, 0),
    quarantinedByReason,
    duplicatesRemoved: units.reduce((a, u) => a + u.stats.duplicatesRemoved, 0),
    keys,
    dateRange: days.length ? { first: days[0] as string, last: days.at(-1) as string } : null,
    seriesRows: keyRows.reduce((a, r) => a + Number(r.n ?? 0), 0),
    groupsOfFilesSharingDays: units.filter((u) => u.files.length > 1).length,
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
