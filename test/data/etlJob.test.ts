import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCommandJob, substitutePlaceholders } from '../../aml/azure/jobSpec.js';
import { generateClickstream } from '../../training/data/generator.js';
import { type EtlReport } from '../../training/etl/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'etl-job-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('aml/jobs/etl.yml', () => {
  it('runs the ETL CLI as its command and writes the series output', async () => {
    const raw = join(dir, 'raw');
    const summary = await generateClickstream({
      days: 3,
      products: 30,
      eventsPerDay: 500,
      seed: 3,
      dirty: 0.01,
      out: join(raw, '2019-Oct.csv.gz'),
    });
    const out = join(dir, 'series-out');
    const job = await loadCommandJob(
      { name: 'etl-test', specPath: 'aml/jobs/etl.yml', inputs: { raw: { type: 'uri_folder', path: raw } } },
      resolve('.'),
    );
    expect(job.code).toBe(resolve('.'));
    const command = substitutePlaceholders(job.command, (kind, name) => {
      if (kind === 'outputs') return name === 'series' ? out : undefined;
      const input = job.inputs[name];
      return input?.kind === 'literal' ? input.value : input?.path;
    });
    const { stdout } = await promisify(execFile)('/bin/sh', ['-c', command], { cwd: job.code });
    const report = JSON.parse(await readFile(join(out, 'etl-report.json'), 'utf8')) as EtlReport;
    expect(JSON.parse(stdout)).toEqual(report);
    expect(report.rowsRead).toBe(summary.rows);
    expect(report.rowsQuarantined).toBe(summary.malformedRows);
    expect(Object.keys(report.keys).sort()).toEqual(['brand', 'category_code', 'product_id']);
  });

  it('exits with code 2 and names the file when the input is not the clickstream schema', async () => {
    const bad = join(dir, 'bad.csv');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'a,b\n1,2\n'));
    const error = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'training/cli/etl.ts',
      '--input',
      bad,
      '--out',
      join(dir, 'never'),
    ]).catch((e: unknown) => e as { code: number; stderr: string });
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain(`WRONG_SCHEMA`);
    expect((error as { stderr: string }).stderr).toContain(bad);
  });

  it('exits (code 2, file and reason on stderr) when a gzip breaks off after the progress bar started', async () => {
    const fs = await import('node:fs/promises');
    const whole = join(dir, 'whole.csv.gz');
    await generateClickstream({ days: 5, products: 30, eventsPerDay: 400, seed: 5, out: whole });
    // The first 2 kB still hold the header, so the run starts before the stream breaks off.
    const cut = join(dir, 'cut.csv.gz');
    await fs.writeFile(cut, (await fs.readFile(whole)).subarray(0, 2000));
    const error = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'training/cli/etl.ts', '--input', cut, '--out', join(dir, 'never-cut')],
      { timeout: 45_000 },
    ).catch((e: unknown) => e as { code: number | null; killed: boolean; stderr: string });
    expect(error).toMatchObject({ code: 2, killed: false });
    expect((error as { stderr: string }).stderr).toMatch(/CORRUPT_INPUT.*cut\.csv\.gz: cannot decompress/);
  });
});
