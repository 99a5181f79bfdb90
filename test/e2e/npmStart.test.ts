import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
let output = '';
let exitCode: number | null = null;
let stateDir: string;

/**
 * `npm start` as a user runs it, from source: generated clickstream uploaded to the raw container fires
 * BlobCreated, the training saga runs real ETL and training jobs, the gate passes, the registered model is
 * released through a canary under scoring traffic and ends serving at 100%.
 */
beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'npm-start-'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/start.ts',
      '--memory',
      '--exit',
      '--port',
      '0',
      '--state',
      stateDir,
      '--timeout',
      '840',
    ],
    { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
}, 900_000);

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('npm start (end to end on the local host)', () => {
  it('runs from blob upload to a promoted model and exits cleanly', () => {
    expect(exitCode, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/Uploaded raw\/clickstream\/2019-05\.csv\.gz → BlobCreated/);
    // Four uploads within the quiet window make one training run.
    expect(output.match(/^\[\s*\d+ s\] training run /gm)).toHaveLength(1);
    expect(output).toMatch(/succeeded etl /);
    expect(output).toMatch(/succeeded train /);
    expect(output).toMatch(/gate pass beats_seasonal_naive_wape/);
    expect(output).toMatch(/training Completed: registered registered demand-forecast:1/);
    expect(output).toMatch(/release run release-demand-forecast-1/);
    expect(output).toMatch(/succeeded smoke-test/);
    expect(output).toMatch(/canary-100 — 100% green, \d+\/20 s: healthy/);
    expect(output).toMatch(/release Completed: promoted demand-forecast:1 serves 100% as v1/);
    const traffic = /Scoring traffic: (\d+) requests sent, (\d+) failed\./.exec(output);
    expect(Number(traffic?.[1])).toBeGreaterThan(100);
    expect(Number(traffic?.[2])).toBe(0);
    expect(output).toMatch(/Scoring URL: http:\/\/127\.0\.0\.1:\d+\/score/);
  });
});
