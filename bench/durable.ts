/**
 * Durable task hub benchmark (npm run bench:durable): per-step overhead of a chained empty activity,
 * throughput of 1,000 concurrent orchestrations x 5 empty activities, and replay cost per episode as a
 * history grows to 1,000 completed activities. Runs the fixture app in process on a private Azurite.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../local/clock.js';
import { EventType } from '../local/durable/history.js';
import { createDurableExtension } from '../local/durable/index.js';
import { TaskHubStore } from '../local/durable/store.js';
import { LocalHost } from '../local/host.js';
import { createLogger } from '../local/log.js';

const TARGETS = { stepMedianMs: 10, activitiesPerSec: 200 };
const hubName = 'BenchHub';
const appDir = path.resolve(import.meta.dirname, '../test/fixtures/durable-app');
const prefix = '/runtime/webhooks/durabletask';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function progress(label: string, done: number, total: number, startedMs: number): void {
  const seconds = (performance.now() - startedMs) / 1000;
  process.stderr.write(
    `\r${label}: ${done}/${total} (${(done / Math.max(seconds, 1e-3)).toFixed(0)}/s, ${seconds.toFixed(1)} s)   `,
  );
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'bench-durable-'));
  // Sessions are created so the replay phase can compare both modes; phases 1-2 run without them.
  const durable = createDurableExtension({ collectStats: true, extendedSessions: true });
  const host = await LocalHost.start({
    appDir,
    port: 0,
    clock: new SystemClock(),
    extensions: [durable],
    storage: 'memory',
    stateDir,
    logger: createLogger('silent'),
    settings: { DURABLE_TEST_HUB: hubName },
  });
  const engine = durable.engine;
  const sessions = engine.sessions!;
  sessions.enabled = false;
  const store = new TaskHubStore(host.storageConnectionString, hubName);
  const start = async (name: string, id: string, input: unknown) => {
    const res = await fetch(`${host.baseUrl}${prefix}/orchestrators/${name}/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    if (res.status !== 202) throw new Error(`start ${id}: ${res.status} ${await res.text()}`);
  };
  const waitFinished = async (count: number, label: string, total: number, startedMs: number) => {
    while (engine.stats.finished < count) {
      progress(label, engine.stats.finished - (count - total), total, startedMs);
      await new Promise((r) => setTimeout(r, 100));
    }
    progress(label, total, total, startedMs);
    process.stderr.write('\n');
  };

  try {
    // 1. Idle per-step overhead: gaps between consecutive episodes of one chain of empty activities.
    const chainSteps = 200;
    let t0 = performance.now();
    await start('noopChain', 'step-chain', chainSteps);
    await waitFinished(1, 'per-step chain', 1, t0);
    const chainWallMs = performance.now() - t0;
    const history = (await store.loadHistory('step-chain'))!;
    const started = history.events
      .filter((e) => e.EventType === EventType.OrchestratorStarted)
      .map((e) => new Date(e.Timestamp).getTime());
    const gaps = started.slice(1).map((t, i) => t - started[i]!);

    // 2. Throughput: 1,000 orchestrations x 5 empty activities, started together.
    const orchestrations = 1000;
    const activitiesBefore = engine.stats.activities;
    const finishedBefore = engine.stats.finished;
    t0 = performance.now();
    const cpuBefore = process.cpuUsage();
    const ids = Array.from({ length: orchestrations }, (_, i) => `tp-${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => start('noopChain', id, 5)));
      progress('throughput (started)', i + 50, orchestrations, t0);
    }
    process.stderr.write('\n');
    const startedAllMs = performance.now() - t0;
    await waitFinished(finishedBefore + orchestrations, 'throughput (finished)', orchestrations, t0);
    const throughputWallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpuBefore);
    const hostCpuSec = (cpu.user + cpu.system) / 1e6;
    const activities = engine.stats.activities - activitiesBefore;
    const activitiesPerSec = activities / (throughputWallMs / 1000);

    // 3. Replay cost: one chain of 1,000 empty activities; time per episode as the history grows,
    //    replaying every episode (default) and then with extended sessions (kept executor).
    const replaySteps = 1000;
    const replay = async (id: string, label: string) => {
      engine.stats.episodeMs.length = 0;
      const begin = performance.now();
      const target = engine.stats.finished + 1;
      await start('noopChain', id, replaySteps);
      await waitFinished(target, label, 1, begin);
      const wallMs = performance.now() - begin;
      const episodes = [...engine.stats.episodeMs];
      return {
        wallMs,
        first50: percentile(episodes.slice(0, 50), 50),
        last50: percentile(episodes.slice(-50), 50),
      };
    };
    const replayed = await replay('replay-chain', 'replay chain');
    sessions.enabled = true;
    const session = await replay('session-chain', 'session chain');
    sessions.enabled = false;
    const replayWallMs = replayed.wallMs;

    const figures = {
      stepMedianMs: percentile(gaps, 50),
      stepP95Ms: percentile(gaps, 95),
      chainSteps,
      chainWallMs: Math.round(chainWallMs),
      orchestrations,
      activities,
      activitiesPerSec: Math.round(activitiesPerSec),
      throughputWallMs: Math.round(throughputWallMs),
      throughputStartAllMs: Math.round(startedAllMs),
      throughputHostCpuSec: Number(hostCpuSec.toFixed(2)),
      activitiesPerHostCpuSec: Math.round(activities / hostCpuSec),
      replaySteps,
      replayWallMs: Math.round(replayWallMs),
      replayEpisodeMsFirst50: Number(replayed.first50.toFixed(2)),
      replayEpisodeMsAt1000: Number(replayed.last50.toFixed(2)),
      sessionEpisodeMsFirst50: Number(session.first50.toFixed(2)),
      sessionEpisodeMsAt1000: Number(session.last50.toFixed(2)),
      sessionWallMs: Math.round(session.wallMs),
      loadAverage: os.loadavg()[0],
    };
    const pass = {
      stepMedianMs: figures.stepMedianMs <= TARGETS.stepMedianMs,
      activitiesPerSec: figures.activitiesPerSec >= TARGETS.activitiesPerSec,
    };
    const table: [string, string, string][] = [
      ['step overhead median', `${figures.stepMedianMs.toFixed(1)} ms`, `<= ${TARGETS.stepMedianMs} ms`],
      ['step overhead p95', `${figures.stepP95Ms.toFixed(1)} ms`, ''],
      [`chain of ${chainSteps} wall`, `${(chainWallMs / 1000).toFixed(2)} s`, ''],
      ['throughput', `${figures.activitiesPerSec} activities/s`, `>= ${TARGETS.activitiesPerSec}/s`],
      [`${orchestrations} x 5 wall`, `${(throughputWallMs / 1000).toFixed(2)} s`, ''],
      ['  of which starting all', `${(startedAllMs / 1000).toFixed(2)} s`, ''],
      [
        '  host process CPU',
        `${figures.throughputHostCpuSec} s`,
        `${figures.activitiesPerHostCpuSec} activities/CPU-s`,
      ],
      ['replay: episode, first 50', `${figures.replayEpisodeMsFirst50} ms`, 'median'],
      ['replay: episode, last 50', `${figures.replayEpisodeMsAt1000} ms`, 'median, ~1,000 completed'],
      [`chain of ${replaySteps} wall`, `${(replayWallMs / 1000).toFixed(2)} s`, ''],
      ['session: episode, first 50', `${figures.sessionEpisodeMsFirst50} ms`, 'extended sessions'],
      ['session: episode, last 50', `${figures.sessionEpisodeMsAt1000} ms`, 'extended sessions'],
      [`session chain of ${replaySteps}`, `${(session.wallMs / 1000).toFixed(2)} s`, ''],
      ['load average (1 min)', (figures.loadAverage ?? 0).toFixed(1), ''],
    ];
    console.log('\nDurable task hub benchmark');
    for (const [name, value, target] of table)
      console.log(`${name.padEnd(28)} ${value.padStart(20)}  ${target}`);
    console.log(JSON.stringify({ bench: 'durable', ...figures, targets: TARGETS, pass }));
  } finally {
    await host.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
