import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine } from './engine.js';
import { EtlError, EtlInputError } from './errors.js';
import { type KeyType } from './report.js';
import { type DayLines, type Fragment, type SplitMode, SplitOrderError } from './split.js';
import { runSplitJob, type SplitFile } from './splitJob.js';
import { RowLoader } from './loader.js';
import {
  dayDailySql,
  deleteBatchesSql,
  dropRejectsSql,
  ETL_CODE_VERSION,
  literal,
  newTextsSql,
  quarantineByReasonSql,
  type ScanMode,
  scanQuarantineSql,
  scanSql,
  scanStatsSql,
  scanValidRowsSql,
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

/** Names the tables of each unit attempt apart. */
let unitTables = 0;

/** Days loaded and waiting for the SQL before the split pauses. */
const MAX_QUEUED_DAYS = 2;

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
  // A single file is first split the fast way: plain lines encoded, fragments of processed days deleted
  // at once. Input out of time order (or files sharing days) needs every line's text, kept to the end.
  const single = files.length === 1;
  try {
    return await attempt(
      engine,
      files,
      keyTypes,
      dir,
      scratch,
      { keepEmitted: !single, encode: single },
      onBytes,
    );
  } catch (error) {
    if (!(error instanceof SplitOrderError)) throw error;
    return attempt(engine, files, keyTypes, dir, scratch, { keepEmitted: true, encode: false }, onBytes);
  }
}

async function attempt(
  engine: Engine,
  files: readonly { file: string; bytes: number }[],
  keyTypes: readonly KeyType[],
  dir: string,
  scratch: string,
  mode: SplitMode,
  onBytes?: (compressedBytes: number) => void,
): Promise<UnitStats> {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  await engine.run(unitTablesSql(keyTypes));
  const loader = new RowLoader(engine.loader, `etl_unit_${unitTables++}`);
  await loader.open();
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

  /**
   * One scan; adds its counts to `counts`, its quarantine to the unit and, when `rowsTable` is given, its
   * valid rows to that day's rows (copies already counted elsewhere are scanned without).
   */
  const scan = async (
    batch: number,
    fragments: readonly Fragment[],
    mode: ScanMode,
    counts: BatchCounts,
    rowsTable?: string,
  ) => {
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
    if (rowsTable && num(row?.distinct_rows) > 0) {
      for (const key of ['category_code', 'brand'] as const) {
        const texts = await engine.rows(newTextsSql(SCAN_TABLE, key, loader.prefix));
        await loader.idsFor(
          key,
          texts.map((t) => String(t.text)),
        );
      }
      await engine.run(scanValidRowsSql(SCAN_TABLE, rowsTable, loader.prefix));
    }
  };

  const runDay = async (lines: DayLines): Promise<void> => {
    const batch = nextBatch++;
    const counts: BatchCounts = { validRows: 0, distinctRows: 0, parsedRows: 0, rejectedLines: 0, days: [] };
    const table = await loader.finishDay(lines.day);
    counts.validRows += table.rows;
    counts.distinctRows += table.rows;
    counts.parsedRows += table.rows;
    if (lines.needsDedupe) {
      await scan(batch, [...lines.fragments, ...lines.copies], 'day-dedupe', counts, table.name);
    } else {
      await scan(batch, lines.fragments, 'day', counts, table.name);
    }
    if (counts.distinctRows > 0) {
      for (const keyType of keyTypes) {
        await engine.run(dayDailySql(batch, keyType, lines.day, table.name, loader.prefix));
      }
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
    await loader.dropDay(lines.day);
    if (!mode.keepEmitted) {
      await Promise.all([...lines.fragments, ...lines.copies].map((f) => rm(f.path, { force: true })));
    }
  };

  // Days ready for DuckDB, processed one at a time while the splitter goes on.
  const ready: DayLines[] = [];
  let pumping: Promise<void> | undefined;
  let failure: unknown;
  const pump = async (): Promise<void> => {
    for (let next = ready.shift(); next; next = ready.shift()) {
      try {
        await runDay(next);
      } finally {
        // Wakes the split waiting for room, also after a failed day (it then sees the failure).
        const waiters = dayWaiters;
        dayWaiters = [];
        for (const wake of waiters) wake();
      }
    }
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
  let dayWaiters: (() => void)[] = [];
  /** Resolves when the pump finishes its current day. */
  const dayProcessed = (): Promise<void> => new Promise((resolve) => dayWaiters.push(resolve));

  // Rows are loaded in input order and a day is queued only after its rows (runDay commits them through
  // loader.finishDay, which the remaining and late days need too); with MAX_QUEUED_DAYS waiting,
  // the split pauses until DuckDB catches up, so loaded days never pile up in memory.
  const running = runSplitJob(
    { files: [...files], scratch, mode },
    {
      rows: async (batch) => {
        if (failure) throw failure;
        await loader.add(batch);
      },
      day: async (lines) => {
        ready.push(lines);
        schedule();
        while (ready.length >= MAX_QUEUED_DAYS && !failure) await dayProcessed();
        if (failure) throw failure;
      },
      bytes: (b) => onBytes?.(b),
    },
  );
  let split: SplitFile[];
  try {
    const outcome = await running.done;
    split = outcome.files;
    ready.push(...outcome.remaining);
    schedule();
    await drain();
    // Days that got lines after they were processed: redo them with all their lines.
    const redo = outcome.late.map((d) => batchOfDay.get(d.day)).filter((b) => b !== undefined);
    if (redo.length) await engine.run(deleteBatchesSql(redo, keyTypes));
    for (const b of redo) batches.delete(b);
    for (const lines of outcome.late) await runDay(lines);
    // Lines that cannot be valid, from every file of the unit.
    const suspects = nextBatch++;
    const counts: BatchCounts = { validRows: 0, distinctRows: 0, parsedRows: 0, rejectedLines: 0, days: [] };
    await scan(suspects, outcome.suspects, 'suspect', counts);
    batches.set(suspects, counts);
  } catch (error) {
    // Marks the unit failed first, so no more days are scheduled while the caller closes the engine (a
    // statement running then is a native crash or a hang), then stops the split and lets the SQL finish.
    failure ??= error;
    await running.stop();
    await drain().catch(() => undefined);
    throw error;
  } finally {
    await loader.close();
  }
  await rm(scratch, { recursive: true, force: true });
  return writeUnit(engine, split, [...batches.values()], keyTypes, dir);
}

/** Writes the unit's cache entry and checks that every line is accounted for. */
async function writeUnit(
  engine: Engine,
  split: readonly SplitFile[],
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

function readError(
  fragments: readonly Fragment[],
  cause: unknown,
  code: 'CORRUPT_INPUT' | 'ENGINE_FAILED' = 'CORRUPT_INPUT',
): EtlError {
  const message = (cause as Error).message;
  const sources = [...new Set(fragments.map((f) => f.source))].join(', ');
  if (/out of memory|could not allocate|disk (is )?full|no space/i.test(message)) {
    return new EtlError('ENGINE_FAILED', `${sources}: DuckDB ran out of resources: ${message}`, {
      cause,
      transient: true,
    });
  }
  if (code === 'ENGINE_FAILED') {
    return new EtlError(
      'ENGINE_FAILED',
      `${sources}: the compacted lines could not be read back: ${message}`,
      {
        cause,
      },
    );
  }
  return new EtlInputError('CORRUPT_INPUT', sources, `cannot be read as clickstream CSV: ${message}`, {
    cause,
  });
}
