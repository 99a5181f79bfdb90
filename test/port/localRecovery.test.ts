import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalMlPlatform } from '../../aml/local/platform.js';
import { isTerminalJobStatus } from '../../aml/port.js';
import { startAzurite, type StorageHandle } from '../../local/storage/azurite.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs crash-host.ts until its job runs, then kills it with SIGKILL: no chance to record anything. */
async function crashWhileRunning(stateDir: string, connectionString: string, jobName: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      path.join(projectRoot, 'test/port/fixtures/crash-host.ts'),
      projectRoot,
      stateDir,
      connectionString,
      jobName,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('job running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`crash host exited early with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('local jobs survive a host crash', () => {
  let storage: StorageHandle;
  let stateDir: string;
  beforeAll(async () => {
    storage = await startAzurite();
    stateDir = await mkdtemp(path.join(tmpdir(), 'port-crash-'));
  });
  afterAll(async () => {
    await storage.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('reports a job that was running when the host died as Failed, with the reason', async () => {
    await crashWhileRunning(stateDir, storage.connectionString, 'crashed-job');
    const platform = await LocalMlPlatform.open({
      projectRoot,
      stateDir,
      storageConnectionString: storage.connectionString,
    });
    const job = await platform.getJob('crashed-job');
    expect(job.status).toBe('Failed');
    expect(job.error).toContain('stopped while the job was Running');
    await platform.stop();
  }, 60_000);

  it('re-runs it instead when configured to', async () => {
    await crashWhileRunning(stateDir, storage.connectionString, 'rerun-job');
    const platform = await LocalMlPlatform.open({
      projectRoot,
      stateDir,
      storageConnectionString: storage.connectionString,
      jobRecovery: 'rerun',
    });
    let job = await platform.getJob('rerun-job');
    for (let i = 0; i < 200 && job.status !== 'Running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = await platform.getJob('rerun-job');
    }
    expect(job.status).toBe('Running');
    await platform.cancelJob('rerun-job');
    job = await platform.jobs.settled('rerun-job');
    expect(isTerminalJobStatus(job.status)).toBe(true);
    expect(job.status).toBe('Canceled');
    await platform.stop();
  }, 60_000);
});
