import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError, EtlInputError } from './errors.js';
import { type Engine } from './engine.js';
import { type InputFile } from './inputs.js';
import { type StageStats } from './report.js';
import {
  ETL_CODE_VERSION,
  quarantineByReasonSql,
  rejectedLinesSql,
  stagePartialsSql,
  stageQuarantineSql,
  stageScanSql,
  stageStatsSql,
} from './sql.js';

/** Files a staged input leaves in its stage directory. */
export const STAGE_FILES = {
  partials: 'partials.parquet',
  quarantine: 'quarantine.parquet',
  stats: 'stats.json',
};

const num = (v: unknown): number => Number(v ?? 0);

/**
 * Stages one input: parses, validates, de-duplicates and writes its partial daily aggregates, its
 * quarantined lines and its counts into `stageDir`. Rows are accounted for exactly:
 * read = accepted + duplicates + quarantined.
 */
export async function stageFile(
  engine: Engine,
  input: InputFile,
  stageDir: string,
  tag: string,
  onPercent?: (percent: number) => void,
): Promise<StageStats> {
  await mkdir(stageDir, { recursive: true });
  const table = `staged_${tag}`;
  const rejects = `rejects_${tag}`;
  try {
    await engine.run(stageScanSql(input.file, rejects, table), onPercent);
  } catch (cause) {
    const message = (cause as Error).message;
    if (/out of memory|could not allocate|disk (is )?full|no space/i.test(message)) {
      throw new EtlError('ENGINE_FAILED', `${input.file}: DuckDB ran out of resources: ${message}`, {
        cause,
        transient: true,
      });
    }
    throw new EtlInputError('CORRUPT_INPUT', input.file, `cannot be read as clickstream CSV: ${message}`, {
      cause,
    });
  }
  await engine.run(rejectedLinesSql(rejects));
  const quarantineFile = join(stageDir, STAGE_FILES.quarantine);
  await engine.run(stageQuarantineSql(table, rejects, quarantineFile));
  await engine.run(stagePartialsSql(table, join(stageDir, STAGE_FILES.partials)));
  const [counts] = await engine.rows(stageStatsSql(table, rejects));
  const byReason = await engine.rows(quarantineByReasonSql(quarantineFile));
  for (const name of [table, `${rejects}_lines`, `${rejects}_errors`, `${rejects}_scans`]) {
    await engine.run(`DROP TABLE IF EXISTS ${name}`);
  }
  const quarantinedByReason = Object.fromEntries(byReason.map((r) => [String(r.reason), num(r.n)]));
  const rowsQuarantined = Object.values(quarantinedByReason).reduce((a, b) => a + b, 0);
  const validRows = num(counts?.valid_rows);
  const rowsAccepted = num(counts?.accepted_rows);
  const stats: StageStats = {
    etlCodeVersion: ETL_CODE_VERSION,
    sha256: input.sha256,
    rowsRead: num(counts?.parsed_rows) + num(counts?.rejected_lines),
    rowsAccepted,
    rowsQuarantined,
    quarantinedByReason,
    duplicatesRemoved: validRows - rowsAccepted,
    firstDate: (counts?.first_date as string | null) ?? null,
    lastDate: (counts?.last_date as string | null) ?? null,
  };
  if (stats.rowsRead !== stats.rowsAccepted + stats.duplicatesRemoved + stats.rowsQuarantined) {
    throw new EtlError(
      'ENGINE_FAILED',
      `${input.file}: row accounting does not add up: ${JSON.stringify(stats)}`,
    );
  }
  await writeFile(join(stageDir, STAGE_FILES.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}
