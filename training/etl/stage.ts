import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError, EtlInputError } from './errors.js';
import { type Engine } from './engine.js';
import { type FeedResult, openFeed } from './feed.js';
import { type InputFile } from './inputs.js';
import { type StageStats } from './report.js';
import {
  ETL_CODE_VERSION,
  quarantineByReasonSql,
  rejectedLinesSql,
  stageQuarantineSql,
  stageScanSql,
  stageStatsSql,
} from './sql.js';

/** Files a staged input leaves in its stage directory. */
export const STAGE_FILES = {
  rows: 'rows',
  quarantine: 'quarantine.parquet',
  stats: 'stats.json',
};

/** Partition of the staged rows that holds rows which parsed but are invalid. */
export const QUARANTINE_PART = 'part=quarantine';

const num = (v: unknown): number => Number(v ?? 0);

/** Parquet files of one partition directory (none when it does not exist). */
export async function partitionFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  return names.filter((n) => n.endsWith('.parquet')).map((n) => join(dir, n));
}

/**
 * Stages one input: parses and validates it, and writes its rows partitioned by day, its quarantined
 * lines and its counts into `stageDir`. Rows are accounted for exactly: read = valid + quarantined.
 */
export async function stageFile(
  engine: Engine,
  input: InputFile,
  stageDir: string,
  scratchDir: string,
  tag: string,
  onPercent?: (percent: number) => void,
): Promise<StageStats> {
  await mkdir(stageDir, { recursive: true });
  const rowsDir = join(stageDir, STAGE_FILES.rows);
  const rejects = `rejects_${tag}`;
  const feed = await openFeed(input.file, join(scratchDir, `input-${tag}.csv`));
  let fed: FeedResult;
  try {
    try {
      await engine.run(stageScanSql(feed.path, rejects, rowsDir), onPercent);
    } catch (cause) {
      feed.abort();
      await feed.done.catch(() => undefined);
      throw scanError(input.file, cause);
    }
    fed = await feed.done.catch((cause: unknown) => {
      throw new EtlInputError('CORRUPT_INPUT', input.file, `cannot decompress: ${(cause as Error).message}`, {
        cause,
      });
    });
  } finally {
    await rm(feed.path, { force: true });
  }
  await engine.run(rejectedLinesSql(rejects));
  const rowFiles: string[] = [];
  for (const part of await readdir(rowsDir).catch(() => []))
    rowFiles.push(...(await partitionFiles(join(rowsDir, part))));
  const [counts] = await engine.rows(stageStatsSql(rowFiles, rejects));
  const seen = num(counts?.parsed_rows) + num(counts?.rejected_lines);
  // Lines the reader skipped without a reject (blank lines) are quarantined too: nothing goes unaccounted.
  const dataLines = Math.max(0, fed.lines - 1);
  const emptyLines = dataLines - seen;
  if (emptyLines < 0) {
    throw new EtlError(
      'ENGINE_FAILED',
      `${input.file}: the reader saw ${seen} rows but the file has ${dataLines}`,
    );
  }
  const quarantineFile = join(stageDir, STAGE_FILES.quarantine);
  const invalid = await partitionFiles(join(rowsDir, QUARANTINE_PART));
  await engine.run(stageQuarantineSql(invalid, rejects, emptyLines, quarantineFile));
  const byReason = await engine.rows(quarantineByReasonSql(quarantineFile));
  for (const name of [`${rejects}_lines`, `${rejects}_errors`, `${rejects}_scans`]) {
    await engine.run(`DROP TABLE IF EXISTS ${name}`);
  }
  const quarantinedByReason = Object.fromEntries(byReason.map((r) => [String(r.reason), num(r.n)]));
  const rowsQuarantined = Object.values(quarantinedByReason).reduce((a, b) => a + b, 0);
  const stats: StageStats = {
    etlCodeVersion: ETL_CODE_VERSION,
    sha256: input.sha256,
    rowsRead: dataLines,
    validRows: num(counts?.valid_rows),
    rowsQuarantined,
    quarantinedByReason,
    firstDate: (counts?.first_date as string | null) ?? null,
    lastDate: (counts?.last_date as string | null) ?? null,
  };
  if (stats.rowsRead !== stats.validRows + stats.rowsQuarantined) {
    throw new EtlError(
      'ENGINE_FAILED',
      `${input.file}: row accounting does not add up: ${JSON.stringify(stats)}`,
    );
  }
  await writeFile(join(stageDir, STAGE_FILES.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}

function scanError(file: string, cause: unknown): EtlError {
  const message = (cause as Error).message;
  if (/out of memory|could not allocate|disk (is )?full|no space/i.test(message)) {
    return new EtlError('ENGINE_FAILED', `${file}: DuckDB ran out of resources: ${message}`, {
      cause,
      transient: true,
    });
  }
  return new EtlInputError('CORRUPT_INPUT', file, `cannot be read as clickstream CSV: ${message}`, { cause });
}
