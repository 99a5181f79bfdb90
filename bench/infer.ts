/**
 * Inference benchmark (`npm run bench:infer`): through the local managed online endpoint with two
 * deployments at 90/10 (blue/green, one instance each, request logs on), a loopback load of 7-day forecasts
 * for one key. Each load phase runs in a forked process, so the latencies are what a separate client sees and
 * the load generator does not compete for the router's event loop. Reports requests/s at saturation
 * (autocannon, closed loop) and p50/p95/p99 at a fixed 500 req/s (target p95 ≤ 5 ms on 2 cores; the seed SLO
 * is 600 ms), plus the router's own metrics window.
 *
 * The 500 req/s figure comes from an open-loop paced client: one request every 2 ms, whatever the answers do.
 * autocannon's `overallRate` is not that: each connection sends its per-second quota back to back at the start
 * of every second and then idles, so "500 req/s over 16 connections" is a burst at concurrency 16 (a saturation
 * latency) for part of each second. That figure is still printed, as `500 bursts`, for comparison.
 *
 * Options: `--model DIR` (default: a small GBDT trained here with the training code), `--seconds N` per
 * phase (default 10).
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalEndpointManager } from '../aml/local/endpoint/index.js';
import { nearestRank } from '../aml/local/endpoint/metrics.js';
import { writeTrainedModel } from '../test/inference/model-fixture.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: 'done', listener: (result: AutocannonResult) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;

// autocannon ships no type declarations; the two calls used are typed above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TARGETS = { p95MsAt500: 5, seedSloP95Ms: 600 };

interface Phase {
  name: string;
  seconds: number;
  rps: number;
  total: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Paced phases: p95 of how late the sender's timer fired (ms). */
  lagP95Ms?: number;
}

interface PhaseRequest {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  seconds: number;
  /** Closed loop (autocannon): this many connections, each sending its next request on an answer. */
  connections?: number;
  /** autocannon's per-second request quota over all connections (bursty, see the file comment). */
  overallRate?: number;
  /** Open loop: requests per second, evenly spaced, sent whatever the answers do. */
  pacedRate?: number;
}

/** Set in the forked load generator's environment; the same file serves as its entry point. */
const loadWorkerEnv = 'BENCH_INFER_LOAD_WORKER';

/**
 * Runs one autocannon phase in this process (the forked load generator) and summarises the latencies it saw.
 * Percentiles come from every response's own latency, not autocannon's histogram, which has no p95.
 */
function runAutocannon(phase: PhaseRequest): Promise<Phase> {
  if (phase.pacedRate) return runPaced(phase, phase.pacedRate);
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let lastCount = 0;
    const started = performance.now();
    const instance = autocannon({
      url: phase.url,
      method: 'POST',
      headers: phase.headers,
      body: phase.body,
      connections: phase.connections,
      duration: phase.seconds,
      ...(phase.overallRate ? { overallRate: phase.overallRate } : {}),
    });
    // One updating progress line per phase: requests so far and the rate over the last second.
    const ticker = setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      const now = latencies.length;
      process.stderr.write(
        `\r${phase.name.padEnd(14)} ${seconds.toFixed(0).padStart(3)}/${phase.seconds} s  ${String(now).padStart(7)} req  ${String(now - lastCount).padStart(6)} req/s `,
      );
      lastCount = now;
    }, 1000);
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
    instance.on('error', (error) => {
      clearInterval(ticker);
      reject(error);
    });
    instance.on('done', (result) => {
      clearInterval(ticker);
      process.stderr.write('\n');
      const sorted = Float64Array.from(latencies).sort();
      resolve({
        name: phase.name,
        seconds: result.duration,
        rps: result.requests.total / result.duration,
        total: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        p50Ms: nearestRank(sorted, 0.5),
        p95Ms: nearestRank(sorted, 0.95),
        p99Ms: nearestRank(sorted, 0.99),
      });
    });
  });
}

/**
 * Open-loop load at a fixed rate: request i is due at start + i / rate and is sent then, never waiting for
 * earlier answers (they queue on the keep-alive agent if the server falls behind, and that wait counts in
 * their latency). Written by hand because autocannon has no evenly paced mode. Latency runs from the send to
 * the last byte of the answer, as autocannon measures it; `lagP95Ms` says how late the timer sent, so a
 * figure taken while this process itself was starved of CPU shows as such.
 */
function runPaced(phase: PhaseRequest, rate: number): Promise<Phase> {
  const target = new URL(phase.url);
  const agent = new Agent({ keepAlive: true, noDelay: true, maxSockets: 64 });
  const body = Buffer.from(phase.body);
  const headers = { ...phase.headers, 'content-length': String(body.length) };
  const total = Math.round(rate * phase.seconds);
  const intervalMs = 1000 / rate;
  const requestTimeoutMs = 10_000;
  const latencies: number[] = [];
  const lags: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  let finished = 0;
  return new Promise((resolve) => {
    const started = performance.now();
    let lastCount = 0;
    const ticker = setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(
        `\r${phase.name.padEnd(14)} ${seconds.toFixed(0).padStart(3)}/${phase.seconds} s  ${String(finished).padStart(7)} req  ${String(finished - lastCount).padStart(6)} req/s `,
      );
      lastCount = finished;
    }, 1000);
    const done = (): void => {
      finished += 1;
      if (finished < total) return;
      clearInterval(ticker);
      process.stderr.write('\n');
      agent.destroy();
      const seconds = (performance.now() - started) / 1000;
      const sorted = Float64Array.from(latencies).sort();
      resolve({
        name: phase.name,
        seconds,
        rps: latencies.length / seconds,
        total: latencies.length,
        non2xx,
        errors,
        p50Ms: nearestRank(sorted, 0.5),
        p95Ms: nearestRank(sorted, 0.95),
        p99Ms: nearestRank(sorted, 0.99),
        lagP95Ms: nearestRank(Float64Array.from(lags).sort(), 0.95),
      });
    };
    const send = (dueAt: number): void => {
      const sentAt = performance.now();
      lags.push(sentAt - dueAt);
      let settled = false;
      const fail = (): void => {
        if (settled) return;
        settled = true;
        errors += 1;
        done();
      };
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers },
        (res) => {
          res.resume();
          res.once('error', fail);
          res.once('end', () => {
            if (settled) return;
            settled = true;
            latencies.push(performance.now() - sentAt);
            if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) non2xx += 1;
            done();
          });
        },
      );
      // A request that never answers counts as an error instead of hanging the phase.
      req.setTimeout(requestTimeoutMs, () => req.destroy(new Error('timed out')));
      req.once('error', fail);
      req.end(body);
    };
    const pump = (): void => {
      const now = performance.now();
      while (sent < total && started + sent * intervalMs <= now) {
        send(started + sent * intervalMs);
        sent += 1;
      }
      if (sent < total) setTimeout(pump, Math.max(0, started + sent * intervalMs - performance.now()));
    };
    pump();
  });
}

/** The forked load generator: runs the one phase it is sent, posts the summary back, and exits. */
function serveAsLoadWorker(): void {
  process.once('message', (message: PhaseRequest) => {
    runAutocannon(message).then(
      (phase) => process.send?.({ phase }, () => process.exit(0)),
      (error: unknown) =>
        process.send?.({ error: error instanceof Error ? error.message : String(error) }, () =>
          process.exit(1),
        ),
    );
  });
}

/**
 * Runs one load phase in a forked process, so the load generator does not share the router's event loop
 * (in-process, autocannon's own work would sit in the latencies it measures of the router).
 */
function runPhase(
  name: string,
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { seconds: number; connections?: number; overallRate?: number; pacedRate?: number },
): Promise<Phase> {
  return new Promise((resolve, reject) => {
    // fork() reuses this process's execArgv, so the child gets the same tsx loader.
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [loadWorkerEnv]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.once('message', (message: { phase?: Phase; error?: string }) => {
      settled = true;
      if (message.phase) resolve(message.phase);
      else reject(new Error(`load generator failed in phase '${name}': ${message.error ?? 'unknown error'}`));
    });
    child.once('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`load generator exited (${signal ?? code}) in phase '${name}'`));
      settled = true;
    });
    const request: PhaseRequest = { name, url, headers, body, ...options };
    child.send(request);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, seconds: { type: 'string', default: '10' } },
  });
  const seconds = Number(values.seconds);
  const work = await mkdtemp(join(tmpdir(), 'bench-infer-'));
  const modelDir = values.model ?? (await writeTrainedModel(join(work, 'model'))).dir;
  const modelKeys = (JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as { keys: string[] })
    .keys;
  const key = modelKeys[0];
  if (!key) throw new Error(`model in ${modelDir} has no keys`);

  const manager = await LocalEndpointManager.open({ stateDir: join(work, 'state'), serverLogLevel: 'info' });
  try {
    const endpoint = await manager.createOrUpdateEndpoint('bench');
    const deployment = (name: string) => ({
      name,
      modelDir,
      model: `azureml:demand-forecast:${name === 'blue' ? 1 : 2}`,
      readinessProbe: {
        path: '/ready',
        initialDelayMs: 0,
        periodMs: 200,
        timeoutMs: 2000,
        failureThreshold: 3,
        successThreshold: 1,
      },
      livenessProbe: {
        path: '/health',
        initialDelayMs: 0,
        periodMs: 5000,
        timeoutMs: 2000,
        failureThreshold: 3,
        successThreshold: 1,
      },
      requestSettings: { requestTimeoutMs: 5000, maxConcurrentRequestsPerInstance: 128 },
    });
    process.stderr.write('starting blue and green deployments…\n');
    await Promise.all([
      manager.createOrUpdateDeployment('bench', deployment('blue'), { wait: true, timeoutMs: 120_000 }),
      manager.createOrUpdateDeployment('bench', deployment('green'), { wait: true, timeoutMs: 120_000 }),
    ]);
    await manager.setTraffic('bench', { blue: 90, green: 10 });
    const headers = {
      authorization: `Bearer ${manager.listKeys('bench').primaryKey}`,
      'content-type': 'application/json',
    };
    const body = JSON.stringify({ keys: [key], horizon: 7 });
    const url = endpoint.scoringUri;

    await runPhase('warm-up', url, headers, body, { seconds: Math.min(3, seconds), connections: 8 });
    const saturation = await runPhase('saturation', url, headers, body, { seconds, connections: 32 });
    const phaseStart = Date.now();
    const at500 = await runPhase('500 req/s', url, headers, body, { seconds, pacedRate: 500 });
    const windowMs = Date.now() - phaseStart;
    const blue = manager.readMetrics('bench', 'blue', windowMs);
    const green = manager.readMetrics('bench', 'green', windowMs);
    const bursts500 = await runPhase('500 bursts', url, headers, body, {
      seconds,
      connections: 16,
      overallRate: 500,
    });
    // The same load straight at blue's instance: what the router (auth, split, proxy hop) adds.
    const bluePort = manager.getDeploymentState('bench', 'blue')?.instances[0]?.port;
    const directUrl = `http://127.0.0.1:${bluePort}/score`;
    const directHeaders = { 'content-type': 'application/json' };
    const directSaturation = await runPhase('direct sat.', directUrl, directHeaders, body, {
      seconds,
      connections: 32,
    });
    const direct500 = await runPhase('direct 500', directUrl, directHeaders, body, {
      seconds,
      pacedRate: 500,
    });

    console.log('');
    console.log(
      'phase        req/s    requests  non-2xx  errors   p50 ms   p95 ms   p99 ms  send lag p95 ms',
    );
    for (const phase of [saturation, at500, bursts500, directSaturation, direct500]) {
      const lag = phase.lagP95Ms === undefined ? '' : phase.lagP95Ms.toFixed(2).padStart(10);
      console.log(
        `${phase.name.padEnd(11)} ${phase.rps.toFixed(0).padStart(6)} ${String(phase.total).padStart(11)} ${String(phase.non2xx).padStart(8)} ${String(phase.errors).padStart(7)} ${phase.p50Ms.toFixed(2).padStart(8)} ${phase.p95Ms.toFixed(2).padStart(8)} ${phase.p99Ms.toFixed(2).padStart(8)} ${lag}`,
      );
    }
    console.log(
      '500 req/s: open loop, one request every 2 ms; 500 bursts: autocannon overallRate (16 connections, each sending its per-second quota back to back)',
    );
    console.log('');
    console.log('router window at 500 req/s   count   p50 ms   p95 ms   p99 ms   5xx rate');
    for (const [name, m] of [
      ['blue', blue],
      ['green', green],
    ] as const) {
      console.log(
        `${name.padEnd(28)} ${String(m.count).padStart(6)} ${(m.p50Ms ?? 0).toFixed(2).padStart(8)} ${(m.p95Ms ?? 0).toFixed(2).padStart(8)} ${(m.p99Ms ?? 0).toFixed(2).padStart(8)} ${m.rate5xx.toFixed(4).padStart(10)}`,
      );
    }
    const greenShare = green.count / Math.max(1, green.count + blue.count);
    console.log(`green share ${(greenShare * 100).toFixed(1)}% (configured 10%); model ${modelDir}`);
    console.log(
      `${availableParallelism()} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const figures = {
      saturationRps: Math.round(saturation.rps),
      saturationP95Ms: round(saturation.p95Ms),
      at500: {
        achievedRps: Math.round(at500.rps),
        p50Ms: round(at500.p50Ms),
        p95Ms: round(at500.p95Ms),
        p99Ms: round(at500.p99Ms),
        non2xx: at500.non2xx,
        errors: at500.errors,
        sendLagP95Ms: round(at500.lagP95Ms ?? 0),
      },
      at500Bursts: {
        p50Ms: round(bursts500.p50Ms),
        p95Ms: round(bursts500.p95Ms),
        p99Ms: round(bursts500.p99Ms),
      },
      greenShare: round(greenShare),
      direct: {
        saturationRps: Math.round(directSaturation.rps),
        p95MsAt500: round(direct500.p95Ms),
      },
      cores: availableParallelism(),
      loadAverage1m: round(loadavg()[0] ?? 0),
    };
    console.log(
      JSON.stringify({
        bench: 'infer',
        ...figures,
        targets: TARGETS,
        pass: {
          p95MsAt500: at500.p95Ms <= TARGETS.p95MsAt500,
          seedSloP95Ms: at500.p95Ms <= TARGETS.seedSloP95Ms,
          noErrors: at500.non2xx === 0 && at500.errors === 0 && saturation.errors === 0,
        },
      }),
    );
  } finally {
    await manager.stop();
    await rm(work, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.env[loadWorkerEnv] === '1') serveAsLoadWorker();
else await main();
