import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageReachable } from '../../local/storage/azurite.js';
import { eventually, tempStateDir } from './helpers.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

// What `npm start` does, minus the build: the CLI as a child process against the real app entry
// (functions/index.ts through tsx), with in-memory Azurite and a free port.
describe('local/cli.ts start against the real app', () => {
  let child: ChildProcessWithoutNullStreams;
  let output = '';
  let baseUrl: string;
  let stateDir: string;
  const exited = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });

  beforeAll(async () => {
    stateDir = await tempStateDir('cli-state-');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.AzureWebJobsStorage;
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/cli.ts', 'start', '--memory', '--port', '0', '--state', stateDir],
      { cwd: repoRoot, env },
    );
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    baseUrl = await eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`the host exited early:\n${output}`);
        return /Host started: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      },
      'the "Host started" line',
      2400,
    );
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited();
    }
  });

  it('lists the functions with their URLs and loads the app without test mode', () => {
    expect(output).toMatch(new RegExp(`health: \\[GET\\] ${baseUrl}/api/health`));
    expect(output).toMatch(/config: \[GET\] .*\/api\/config/);
    expect(output).toMatch(/Keys created in .*keys\.json/);
    expect(output).not.toMatch(/test mode/i);
  });

  it('answers GET /api/health anonymously with the version and dependency state', async () => {
    const res = await fetch(`${baseUrl}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      app: string;
      version: string;
      functions: { registered: number; names: string[] };
      storage: { reachable: boolean };
    };
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(body.version).toBe(pkg.version);
    expect(body.storage.reachable).toBe(true);
    expect(body.functions.names).toContain('health');
    expect(body.functions.registered).toBe(body.functions.names.length);
  });

  it('answers 401 for a function-level route without a key, 200 with one', async () => {
    expect((await fetch(`${baseUrl}/api/config`)).status).toBe(401);
    const keys = JSON.parse(await readFile(path.join(stateDir, 'keys.json'), 'utf8')) as {
      functionKeys: { default: string };
    };
    const ok = await fetch(`${baseUrl}/api/config`, {
      headers: { 'x-functions-key': keys.functionKeys.default },
    });
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).not.toMatch(/AccountKey/);
  });

  it('stops cleanly on SIGTERM, taking its Azurite down', async () => {
    const blobPort = /Azurite started blob=(\d+) queue=(\d+) table=(\d+)/.exec(output);
    expect(blobPort).not.toBeNull();
    const endpoint = (port: string | undefined) => `http://127.0.0.1:${port ?? '0'}/devstoreaccount1`;
    const endpoints = {
      blob: endpoint(blobPort?.[1]),
      queue: endpoint(blobPort?.[2]),
      table: endpoint(blobPort?.[3]),
    };
    expect(await storageReachable(endpoints)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited()).toBe(0);
    expect(output).toMatch(/SIGTERM received: stopping the host/);
    expect(output).toMatch(/Host stopped/);
    expect(await storageReachable(endpoints, 500)).toBe(false);
  });
});
