import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventType } from '../../local/durable/history.js';
import { TaskHubStore } from '../../local/durable/store.js';
import { startTestAzurite, type TestAzurite } from './support/azurite.js';
import { killHard, spawnHostChild, type HostChild } from './support/hostChild.js';
import { durablePrefix } from './support/durableHost.js';

const hub = 'CrashTests';
const instances = Array.from({ length: 20 }, (_, i) => `crash-${i}`);
const steps = 10;
const expectedOutput = (steps * (steps + 1)) / 2;

let azurite: TestAzurite | undefined;
let host: HostChild | undefined;
let stateDir = '';

afterAll(async () => {
  if (host) await killHard(host);
  await azurite?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function statusOf(baseUrl: string, id: string): Promise<{ runtimeStatus: string; output: unknown }> {
  const res = await fetch(`${baseUrl}${durablePrefix}/instances/${id}`);
  return (await res.json()) as { runtimeStatus: string; output: unknown };
}

describe('durable task hub crash safety', () => {
  it('survives kill -9 at random moments: every orchestration completes once, each task completes once', async () => {
    azurite = await startTestAzurite();
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'durable-crash-'));
    const env = {
      DURABLE_STORAGE: azurite.connectionString,
      DURABLE_STATE_DIR: stateDir,
      DURABLE_TEST_HUB: hub,
    };
    host = await spawnHostChild(env);
    await Promise.all(
      instances.map(async (id) => {
        const res = await fetch(`${host!.baseUrl}${durablePrefix}/orchestrators/chainN/${id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ steps, delayMs: 150 }),
        });
        expect(res.status).toBe(202);
      }),
    );

    let kills = 0;
    const completedAtKill: number[] = [];
    while (kills < 5) {
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 700)));
      const statuses = await Promise.all(instances.map((id) => statusOf(host!.baseUrl, id)));
      completedAtKill.push(statuses.filter((s) => s.runtimeStatus === 'Completed').length);
      await killHard(host);
      kills++;
      host = await spawnHostChild(env);
    }

    const deadline = Date.now() + 30_000;
    let statuses: { runtimeStatus: string; output: unknown }[] = [];
    while (Date.now() < deadline) {
      statuses = await Promise.all(instances.map((id) => statusOf(host!.baseUrl, id)));
      if (statuses.every((s) => s.runtimeStatus === 'Completed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(completedAtKill[0]).toBeLessThan(instances.length);
    expect(statuses.map((s) => s.runtimeStatus)).toEqual(instances.map(() => 'Completed'));
    expect(statuses.map((s) => s.output)).toEqual(instances.map(() => expectedOutput));

    const store = new TaskHubStore(azurite.connectionString, hub);
    for (const id of instances) {
      const history = (await store.loadHistory(id))!;
      const scheduled = history.events
        .filter((e) => e.EventType === EventType.TaskScheduled)
        .map((e) => e.EventId);
      const completions = history.events
        .filter((e) => e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed)
        .map((e) => e.TaskScheduledId as number);
      expect(scheduled, id).toEqual(Array.from({ length: steps }, (_, i) => i));
      expect(
        [...completions].sort((a, b) => a - b),
        id,
      ).toEqual(scheduled);
      expect(
        history.events.filter((e) => e.EventType === EventType.ExecutionCompleted),
        id,
      ).toHaveLength(1);
      expect(
        history.events.filter((e) => e.EventType === EventType.ExecutionStarted),
        id,
      ).toHaveLength(1);
    }
    // Most of the time goes to six host start-ups: ~2 s each on an idle 2-core machine, far more under load.
  }, 240_000);
});
