import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine } from './engine.js';
import { EtlError, EtlInputError } from './errors.js';
import { type KeyType } from './report.js';
import { type DayLines, DaySplitter, type Fragment, LateDayError, type SplitFileResult } from './split.js';
import {
  dayDailySql,
  deleteBatchesSql,
  dropRejectsSql,
  ETL_CODE_VERSION,
  literal,
  quarantineByReasonSql,
  type ScanMode,
  scanQuarantineSql,
  scanSql,
  scanStatsSql,
  unitDailySql,
  unitQuarantineSql,
  unitTablesSql,
} from './sql.js';

/** Files a processed unit leaves in its directory (the cache entry). */
export const UNIT_FILES = {
  stats: 'stats.json',
  quarantine: 'quarantine.parquet',
  daily: (keyType: KeyType): string => `daily-${keyType}.parquet`,
};

/** One source file's account within a unit. */
export interface UnitFileStats {
  file: string;
  sha256: string;
  bytes: number;
  rowsRead: number;
  rowsQuarantined: number;
  quarantinedByReason: Record<string, number>;
}

/** What processing a unit (one file, or files that share days) produced; kept as stats.json. */
export interface UnitStats {
  etlCodeVersion: string;
  keyTypes: KeyType[];
  files: UnitFileStats[];
  /** Valid rows, duplicates included. */
  validRows: number;
  /** Distinct valid rows: what the aggregates count. */
  rowsAccepted: number;
  duplicatesRemoved: number;
  /** Days with at least one valid row, sorted. */
  days: string[];
}

const num = (v: unknown): number => Number(v ?? 0);

interface BatchCounts {
  validRows: number;
  distinctRows: number;
  parsedRows: number;
  rejectedLines: number;
  /** The day, when it has valid rows. */
  days: string[];
}

const SCAN_TABLE = 'scan_groups';

/**
 * Processes the raw files of one unit into `dir` (daily aggregates per key type, quarantine, stats): Node
 * decompresses and splits the text by day while DuckDB parses, validates, de-duplicates and aggregates
 * the days already complete, so decompression and SQL overlap. A day whose lines come back later (unsorted
 * input, or a day shared by several files) is processed again at the end with all its lines.
 */
export async function processUnit(
  engine: Engine,
  files: readonly { file: string; bytes: number }[],
  keyTypes: readonly KeyType[],
  dir: string,
  scratch: string,
  onBytes?: (compressedBytes: number) => void,
): Promise<UnitStats> {
  // Fragments of processed days are deleted at once unless an input turns out to be out of day order.
  try {
    return await attempt(engine, files, keyTypes, dir, scratch, files.length > 1, onBytes);
  } catch (error) {
    if (!(error instanceof LateDayError)) throw error;
    return attempt(engine, files, keyTypes, dir, scratch, true, onBytes);
  }
}

async function attempt(
  engine: Engine,
  files: readonly { file: string; bytes: number }[],
  keyTypes: readonly KeyType[],
  dir: string,
  scratch: string,
  keepFragments: boolean,
  onBytes?: (compressedBytes: number) => void,
): Promise<UnitStats> {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  await engine.run(unitTablesSql(keyTypes));
  const batches = new Map<number, BatchCounts>();
  const batchOfDay = new Map<string, number>();
  const registered = new Set<string>();
  let nextBatch = 0;

  const register = async (fragments: readonly Fragment[]): Promise<void> => {
    const fresh = fragments.filter((f) => !registered.has(f.path));
    if (fresh.length === 0) return;
    await engine.run(
      `INSERT INTO unit_fragments VALUES ${fresh.map((f) => `(${literal(f.path)}, ${literal(f.source)})`).join(', ')}`,
    );
    // Tens of thousands of checkpoints a day on dirty input: the appender skips rendering and parsing SQL.
    const appender = await engine.connection.createAppender('unit_checkpoints', null, 'temp');
    try {
      for (const f of fresh) {
        for (const [at, line] of f.checkpoints) {
          appender.appendVarchar(f.path);
          appender.appendBigInt(BigInt(at));
          appender.appendBigInt(BigInt(line));
          appender.endRow();
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    for (const f of fresh) registered.add(f.path);
  };

  /** One scan; adds its counts to `counts` and its quarantine to the unit. */
  const scan = async (batch: number, fragments: readonly Fragment[], mode: ScanMode, counts: BatchCounts) => {
    if (fragments.length === 0) return;
    await register(fragments);
    await engine.run(dropRejectsSql);
    try {
      await engine.run(
        scanSql(
          fragments.map((f) => f.path),
          mode,
          SCAN_TABLE,
        ),
      );
    } catch (cause) {
      throw readError(fragments, cause);
    }
    const [row] = await engine.rows(scanStatsSql(SCAN_TABLE));
    counts.validRows += num(row?.valid_rows);
    counts.distinctRows += num(row?.distinct_rows);
    counts.parsedRows += num(row?.parsed_rows);
    counts.rejectedLines += num(row?.rejected_lines);
    await engine.run(scanQuarantineSql(batch, SCAN_TABLE));
  };

  const runDay = async (lines: DayLines): Promise<void> => {
    const batch = nextBatch++;
    const counts: BatchCounts = { validRows: 0, distinctRows: 0, parsedRows: 0, rejectedLines: 0, days: [] };
    if (lines.needsDedupe) {
      await scan(batch, [...lines.fragments, ...lines.copies], 'day-dedupe', counts);
    } else {
      await scan(batch, lines.fragments, 'day', counts);
    }
    if (lines.fragments.length || lines.needsDedupe) {
      for (const keyType of keyTypes) await engine.run(dayDailySql(batch, keyType, lines.day, SCAN_TABLE));
    }
    if (!lines.needsDedupe && lines.copies.length) {
      // Copies the splitter took out: valid ones are duplicates (not distinct rows), the rest quarantined.
      const copies = { ...counts, validRows: 0, distinctRows: 0, parsedRows: 0, rejectedLines: 0 };
      await scan(batch, lines.copies, 'day', copies);
      counts.validRows += copies.validRows;
      counts.parsedRows += copies.parsedRows;
      counts.rejectedLines += copies.rejectedLines;
    }
    if (counts.validRows > 0) counts.days.push(lines.day);
    batches.set(batch, counts);
    batchOfDay.set(lines.day, batch);
    if (!keepFragments) {
      await Promise.all([...lines.fragments, ...lines.copies].map((f) => rm(f.path, { force: true })));
    }
  };

  // Days ready for DuckDB, processed one at a time while the splitter goes on.
  const ready: DayLines[] = [];
  let pumping: Promise<void> | undefined;
  let failure: unknown;
  const pump = async (): Promise<void> => {
    for (let next = ready.shift(); next; next = ready.shift()) await runDay(next);
  };
  const schedule = (): void => {
    if (pumping || failure) return;
    pumping = pump()
      .catch((error: unknown) => {
        failure = error;
      })
      .finally(() => {
        pumping = undefined;
        if (ready.length > 0 && !failure) schedule();
      });
  };
  const drain = async (): Promise<void> => {
    while (pumping) await pumping;
    if (failure) throw failure;
  };

  const splitter = new DaySplitter(
    scratch,
    (day) => {
      ready.push(day);
      schedule();
    },
    keepFragments,
  );
  const split: (SplitFileResult & { file: string; bytes: number })[] = [];
  try {
    let before = 0;
    for (const { file, bytes } of files) {
      const result = await splitter.splitFile(file, (b) => onBytes?.(before + b));
      before += bytes;
      split.push({ ...result, file, bytes });
      if (failure) break;
    }
    const { remaining, late } = splitter.finish();
    ready.push(...remaining.map((d) => splitter.day(d)));
    schedule();
    await drain();
    // Days that got lines after they were processed: redo them with all their lines.
    const redo = late.map((d) => batchOfDay.get(d)).filter((b) => b !== undefined);
    if (redo.length) await engine.run(deleteBatchesSql(redo, keyTypes));
    for (const b of redo) batches.delete(b);
    for (const day of late) await runDay(splitter.day(day));
    // Lines that cannot be valid, from every file of the unit.
    const suspects = nextBatch++;
    const counts: BatchCounts = { validRows: 0, distinctRows: 0, parsedRows: 0, rejectedLines: 0, days: [] };
    await scan(suspects, splitter.suspectFragments(), 'suspect', counts);
    batches.set(suspects, counts);
  } catch (error) {
    // Marks the unit failed first: finish() below hands over the days still open, and scheduling them now
    // would run DuckDB statements while the caller closes the engine (a native crash or a hang).
    failure ??= error;
    await drain().catch(() => undefined);
    throw error;
  } finally {
    splitter.finish();
  }
  await rm(scratch, { recursive: true, force: true });
  return writeUnit(engine, split, [...batches.values()], keyTypes, dir);
}

/** Writes the unit's cache entry and checks that every line is accounted for. */
async function writeUnit(
  engine: Engine,
  split: readonly (SplitFileResult & { file: string; bytes: number })[],
  batches: readonly BatchCounts[],
  keyTypes: readonly KeyType[],
  dir: string,
): Promise<UnitStats> {
  await mkdir(dir, { recursive: true });
  const sum = (pick: (b: BatchCounts) => number): number => batches.reduce((a, b) => a + pick(b), 0);
  const lines = split.reduce((a, s) => a + s.lines, 0);
  const empty = split.reduce((a, s) => a + s.emptyLines, 0);
  const seen = sum((b) => b.parsedRows) + sum((b) => b.rejectedLines) + empty;
  if (seen !== lines) {
    throw new EtlError(
      'ENGINE_FAILED',
      `${split.map((s) => s.file).join(', ')}: the reader saw ${seen} rows (blank lines included) but the input has ${lines}`,
    );
  }
  const quarantineFile = join(dir, UNIT_FILES.quarantine);
  await engine.run(
    unitQuarantineSql(
      split.map((s) => ({ file: s.file, n: s.emptyLines })),
      quarantineFile,
    ),
  );
  for (const keyType of keyTypes)
    await engine.run(unitDailySql(keyType, join(dir, UNIT_FILES.daily(keyType))));
  const byReason = await engine.rows(quarantineByReasonSql(quarantineFile));
  const files: UnitFileStats[] = split.map((s) => {
    const quarantinedByReason = Object.fromEntries(
      byReason.filter((r) => r.source_file === s.file).map((r) => [String(r.reason), num(r.n)]),
    );
    return {
      file: s.file,
      sha256: s.sha256,
      bytes: s.bytes,
      rowsRead: s.lines,
      rowsQuarantined: Object.values(quarantinedByReason).reduce((a, b) => a + b, 0),
      quarantinedByReason,
    };
  });
  const validRows = sum((b) => b.validRows);
  const rowsAccepted = sum((b) => b.distinctRows);
  const stats: UnitStats = {
    etlCodeVersion: ETL_CODE_VERSION,
    keyTypes: [...keyTypes],
    files,
    validRows,
    rowsAccepted,
    duplicatesRemoved: validRows - rowsAccepted,
    days: [...new Set(batches.flatMap((b) => b.days))].sort(),
  };
  const quarantined = files.reduce((a, f) => a + f.rowsQuarantined, 0);
  if (lines !== validRows + quarantined) {
    throw new EtlError('ENGINE_FAILED', `row accounting does not add up: ${JSON.stringify(stats)}`);
  }
  await writeFile(join(dir, UNIT_FILES.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}

function readError(fragments: readonly Fragment[], cause: unknown): EtlError {
  const message = (cause as Error).message;
  const sources = [...new Set(fragments.map((f) => f.source))].join(', ');
  if (/out of memory|could not allocate|disk (is )?full|no space/i.test(message)) {
    return new EtlError('ENGINE_FAILED', `${sources}: DuckDB ran out of resources: ${message}`, {
      cause,
      transient: true,
    });
  }
  return new EtlInputError('CORRUPT_INPUT', sources, `cannot be read as clickstream CSV: ${message}`, {
    cause,
  });
}
