import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServerLauncher } from '../../aml/local/endpoint/launcher.js';
import { fixtureKeys, writeFixtureModel } from './model-fixture.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inference-proc-'));
  await writeFixtureModel(join(dir, 'good'));
  await mkdir(join(dir, 'empty'));
  await mkdir(join(dir, 'future'));
  await writeFile(join(dir, 'future', 'model.json'), JSON.stringify({ formatVersion: 99 }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function startServer(env: Record<string, string>): ChildProcess {
  const launcher = defaultServerLauncher();
  const { AZUREML_MODEL_DIR: _ignored, ...parentEnv } = process.env;
  return spawn(launcher.command, launcher.args, {
    env: { ...parentEnv, LOG_LEVEL: 'warn', INFERENCE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

function portOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

describe('inference server process', () => {
  // Concurrent: each case is one process start, mostly waiting on the TypeScript loader.
  it.concurrent.each([
    ['no AZUREML_MODEL_DIR', {}, /AZUREML_MODEL_DIR is not set/],
    ['a directory without a model', { dirName: 'empty' }, /no model\.json/],
    ['a model of another format version', { dirName: 'future' }, /incompatible model.*format version 99/],
    ['a directory that does not exist', { dirName: 'missing' }, /cannot be read/],
  ])('refuses to start with %s: clear message, exit code 2', async (_name, options, pattern) => {
    const env: Record<string, string> =
      'dirName' in options ? { AZUREML_MODEL_DIR: join(dir, options.dirName) } : {};
    const { code, stderr } = await exitOf(startServer(env));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^inference: cannot start: /);
    expect(stderr).toMatch(pattern);
  });

  it('finishes in-flight requests on SIGTERM, then exits 0', async () => {
    const child = startServer({ AZUREML_MODEL_DIR: join(dir, 'good'), INFERENCE_FAULT_LATENCY_MS: '600' });
    const exited = exitOf(child);
    const port = await portOf(child);
    const inFlight = fetch(`http://127.0.0.1:${port}/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [fixtureKeys[0]], horizon: 7 }),
    });
    // Let the request reach the server before asking it to stop.
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { forecasts: unknown[] }).forecasts).toHaveLength(1);
    expect((await exited).code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
