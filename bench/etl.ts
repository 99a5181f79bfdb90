/**
 * ETL benchmark: on a generated clickstream file of >= 10 M rows, ETL wall time against the
 * `gzip -dc FILE > /dev/null` floor measured in the same run, rows/s, MB/s and peak RSS; plus generator rows/s.
 * The big file is generated once into bench/out/ and reused. The ETL runs in a child process so its peak RSS
 * is its own.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { generateClickstream, type GenerateSummary } from '../training/data/generator.js';
import { type EtlReport, runEtl } from '../training/etl/index.js';
import { startProgress } from '../training/shared/progress.js';

const OUT = resolve('bench/out');
const BIG = join(OUT, 'clickstream-10m.csv.gz');
const BIG_OPTIONS = { days: 31, products: 42_000, seed: 42, dirty: 0.001, startDate: '2019-10-01' };
const TARGETS = { etlToFloorRatio: 1.5, peakRssMb: 1024, minRows: 10_000_000 };

interface ChildResult {
  report: EtlReport;
  etlMs: number;
  maxRssMb: number;
}

/** Child mode: run the ETL once and print its figures as JSON. */
async function child(input: string, outDir: string): Promise<void> {
  const started = performance.now();
  const report = await runEtl({ inputs: input, outDir });
  const result: ChildResult = {
    report,
    etlMs: performance.now() - started,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(result));
}

async function generate(
  out: string,
  options: typeof BIG_OPTIONS,
): Promise<{ summary: GenerateSummary; ms: number }> {
  const progress = startProgress('generate', options.days, 'days');
  const started = performance.now();
  const summary = await generateClickstream({
    ...options,
    out,
    onProgress: (p) => progress.update(p.day, { rows: p.rows, bytes: p.uncompressedBytes }),
  });
  progress.stop();
  return { summary, ms: performance.now() - started };
}

/** Wall time of `gzip -dc file > /dev/null`. */
async function gzipFloorMs(file: string): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  try {
    await new Promise<void>((done, fail) => {
      const gz = spawn('gzip', ['-dc', file], { stdio: ['ignore', devNull, 'inherit'] });
      gz.once('error', fail);
      gz.once('exit', (code) => (code === 0 ? done() : fail(new Error(`gzip -dc exited ${code}`))));
    });
  } finally {
    closeSync(devNull);
  }
  return performance.now() - started;
}

async function runChild(input: string, outDir: string): Promise<ChildResult> {
  const out: Buffer[] = [];
  await new Promise<void>((done, fail) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bench/etl.ts', '--child', input, outDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.once('error', fail);
    c.once('exit', (code) => (code === 0 ? done() : fail(new Error(`ETL child exited ${code}`))));
  });
  const lines = Buffer.concat(out).toString('utf8').trim().split('\n');
  return JSON.parse(lines.at(-1) ?? '{}') as ChildResult;
}

async function main(): Promise<void> {
  // Generator speed: a fresh sample each run (one day at the big file's density).
  const sample = await generate(join(OUT, 'generator-sample.csv.gz'), { ...BIG_OPTIONS, days: 2 });
  await rm(sample.summary.out, { force: true });
  const generatorRowsPerSec = sample.summary.rows / (sample.ms / 1000);
  if (!existsSync(BIG)) await generate(BIG, BIG_OPTIONS);
  const bytes = (await stat(BIG)).size;

  // The machine may be shared: the load average is reported with the figures it may have skewed.
  const loadBefore = loadavg()[0] ?? 0;
  const floor1 = await gzipFloorMs(BIG);
  const outDir = join(OUT, 'etl-out');
  await rm(outDir, { recursive: true, force: true });
  const etl = await runChild(BIG, outDir);
  const floor2 = await gzipFloorMs(BIG);
  const floorMs = Math.min(floor1, floor2);
  const loadAfter = loadavg()[0] ?? 0;
  const rows = etl.report.rowsRead;

  // Incremental re-run: same input, everything reused.
  const rerunStarted = performance.now();
  const rerun = await runEtl({ inputs: BIG, outDir });
  const rerunMs = performance.now() - rerunStarted;

  const figures = {
    rows,
    inputMb: bytes / 1e6,
    gzipFloorMs: Math.round(floorMs),
    etlMs: Math.round(etl.etlMs),
    etlToFloorRatio: etl.etlMs / floorMs,
    etlRowsPerSec: Math.round(rows / (etl.etlMs / 1000)),
    etlCompressedMbPerSec: bytes / 1e6 / (etl.etlMs / 1000),
    peakRssMb: Math.round(etl.maxRssMb),
    rerunCachedMs: Math.round(rerunMs),
    rerunAllCached: rerun.inputs.every((i) => i.cached),
    generatorRowsPerSec: Math.round(generatorRowsPerSec),
    rowsQuarantined: etl.report.rowsQuarantined,
    duplicatesRemoved: etl.report.duplicatesRemoved,
    seriesRows: etl.report.seriesRows,
    loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadAfter.toFixed(2)) },
  };
  const pass = {
    minRows: rows >= TARGETS.minRows,
    etlToFloorRatio: figures.etlToFloorRatio <= TARGETS.etlToFloorRatio,
    peakRssMb: figures.peakRssMb <= TARGETS.peakRssMb,
  };
  const table: [string, string, string][] = [
    ['rows read', rows.toLocaleString('en-US'), `>= ${TARGETS.minRows.toLocaleString('en-US')}`],
    ['input (gzip)', `${figures.inputMb.toFixed(1)} MB`, ''],
    ['gzip -dc floor', `${(floorMs / 1000).toFixed(2)} s`, ''],
    ['ETL wall (in process)', `${(etl.etlMs / 1000).toFixed(2)} s`, ''],
    ['ETL / floor', `${figures.etlToFloorRatio.toFixed(2)}x`, `<= ${TARGETS.etlToFloorRatio}x`],
    ['ETL rows/s', figures.etlRowsPerSec.toLocaleString('en-US'), ''],
    ['ETL MB/s (compressed)', figures.etlCompressedMbPerSec.toFixed(1), ''],
    ['ETL peak RSS', `${figures.peakRssMb} MB`, `<= ${TARGETS.peakRssMb} MB`],
    ['re-run, all cached', `${(rerunMs / 1000).toFixed(2)} s`, ''],
    ['generator rows/s', figures.generatorRowsPerSec.toLocaleString('en-US'), ''],
    ['load avg (1 min)', `${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)}`, 'figures skew above ~1'],
  ];
  console.log('\nETL benchmark');
  for (const [name, value, target] of table)
    console.log(`${name.padEnd(24)} ${value.padStart(16)}  ${target}`);
  console.log(JSON.stringify({ bench: 'etl', ...figures, targets: TARGETS, pass }));
}

const args = process.argv.slice(2);
const run = args[0] === '--child' ? child(args[1] ?? '', args[2] ?? '') : main();
run.catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
