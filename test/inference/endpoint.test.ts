import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEndpointManager } from '../../aml/local/endpoint/index.js';
import type { DeploymentSpecInput } from '../../aml/local/endpoint/spec.js';
import { fixtureKeys, writeFixtureModel } from './model-fixture.js';

const endpoint = 'forecast';
const body = { keys: [fixtureKeys[0]], horizon: 7 };
let dir: string;
let modelDir: string;
let manager: LocalEndpointManager;
let scoringUri: string;
let key: string;

const fastProbes = {
  livenessProbe: {
    path: '/health',
    initialDelayMs: 0,
    periodMs: 500,
    timeoutMs: 2000,
    failureThreshold: 3,
    successThreshold: 1,
  },
  readinessProbe: {
    path: '/ready',
    initialDelayMs: 0,
    periodMs: 100,
    timeoutMs: 2000,
    failureThreshold: 3,
    successThreshold: 1,
  },
  requestSettings: { requestTimeoutMs: 10_000, maxConcurrentRequestsPerInstance: 32 },
};

function spec(name: string, extra: Partial<DeploymentSpecInput> = {}): DeploymentSpecInput {
  return { name, modelDir, model: `azureml:demand-forecast:${name}`, ...fastProbes, ...extra };
}

interface Answer {
  status: number;
  deployment: string | null;
}

// node:http with keep-alive rather than fetch: a third of the client CPU, which matters on a shared 2-core box.
const client = new Agent({ keepAlive: true, maxSockets: 32, noDelay: true });

function post(headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(scoringUri);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: client,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const deployment = res.headers['azureml-model-deployment'];
          resolve({
            status: res.statusCode ?? 0,
            deployment: typeof deployment === 'string' ? deployment : null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Sends `total` requests with `concurrency` in flight; every answer is kept, none may go missing. */
async function load(total: number, concurrency: number, send: () => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        answers.push(await send());
      }
    }),
  );
  return answers;
}

const countBy = (answers: Answer[], deployment: string) =>
  answers.filter((a) => a.deployment === deployment).length;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-endpoint-'));
  modelDir = await writeFixtureModel(join(dir, 'model'));
  manager = await LocalEndpointManager.open({ stateDir: join(dir, 'state'), serverLogLevel: 'warn' });
  const view = await manager.createOrUpdateEndpoint(endpoint, { tags: { app: 'demand-forecast' } });
  scoringUri = view.scoringUri;
  key = manager.listKeys(endpoint).primaryKey;
  await manager.createOrUpdateDeployment(endpoint, spec('blue'));
  await manager.createOrUpdateDeployment(endpoint, spec('green'));
  await manager.createOrUpdateDeployment(
    endpoint,
    spec('shadow', {
      faults: { errorRate: 1, addedLatencyMs: 0 },
      // Mirror copies are fire-and-forget, so on a busy machine they can pile up past the usual limit of 32
      // and be shed with 429; the mirror test counts copies that reached the server.
      requestSettings: { requestTimeoutMs: 10_000, maxConcurrentRequestsPerInstance: 256 },
    }),
  );
  await manager.createOrUpdateDeployment(
    endpoint,
    spec('canary', { faults: { errorRate: 0.3, addedLatencyMs: 15 } }),
  );
  // Not routable until ready: the processes are still starting right now.
  const early = await post({ 'azureml-model-deployment': 'blue' });
  expect(early.status).toBe(503);
  for (const name of ['blue', 'green', 'shadow', 'canary']) {
    expect((await manager.waitForDeployment(endpoint, name, 60_000)).provisioningState).toBe('Succeeded');
  }
}, 90_000);

afterAll(async () => {
  client.destroy();
  await manager?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('local managed online endpoint', () => {
  it('requires the endpoint key', async () => {
    expect((await post({ authorization: '' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
    const { secondaryKey } = manager.listKeys(endpoint);
    await manager.setTraffic(endpoint, { blue: 100 });
    expect((await post({ authorization: `Bearer ${secondaryKey}` })).status).toBe(200);
  });

  it('honours a 90/10 split over 2,000 requests', async () => {
    await manager.setTraffic(endpoint, { blue: 90, green: 10 });
    const answers = await load(2000, 16, () => post());
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const green = countBy(answers, 'green');
    // Binomial(2000, 0.1): sd ≈ 13.4; ±5 sd keeps a false failure below one in a million.
    expect(green).toBeGreaterThan(200 - 67);
    expect(green).toBeLessThan(200 + 67);
    expect(countBy(answers, 'blue')).toBe(2000 - green);
  });

  it('routes a request carrying azureml-model-deployment to that deployment only', async () => {
    await manager.setTraffic(endpoint, { blue: 100 });
    const answers = await load(40, 4, () => post({ 'azureml-model-deployment': 'green' }));
    expect(answers.every((a) => a.status === 200 && a.deployment === 'green')).toBe(true);
    expect((await post({ 'azureml-model-deployment': 'nope' })).status).toBe(404);
  });

  it('mirrors a share of requests without affecting the answers', async () => {
    await manager.setTraffic(endpoint, { blue: 100 }, { shadow: 50 });
    const before = manager.readMetrics(endpoint, 'shadow', 600_000).count;
    const answers = await load(400, 8, () => post());
    expect(answers.every((a) => a.status === 200 && a.deployment === 'blue')).toBe(true);
    // The copies are fire-and-forget: wait until the shadow has none in flight.
    await expect
      .poll(() => manager.getDeploymentState(endpoint, 'shadow')?.inFlight, { timeout: 10_000 })
      .toBe(0);
    const shadow = manager.readMetrics(endpoint, 'shadow', 600_000);
    const mirrored = shadow.count - before;
    expect(mirrored).toBeGreaterThan(200 - 60);
    expect(mirrored).toBeLessThan(200 + 60);
    expect(shadow.rate5xx).toBe(1);
    await manager.setTraffic(endpoint, { blue: 100 });
  });

  it('loses no request while traffic moves under steady load', async () => {
    await manager.setTraffic(endpoint, { blue: 100 });
    const moves: Record<string, number>[] = [
      { blue: 50, green: 50 },
      { green: 100 },
      { blue: 10, green: 90 },
      { blue: 100, green: 0 },
    ];
    let sent = 0;
    let movesDone = false;
    const answers: Answer[] = [];
    // Steady load: 12 clients keep sending until every move is done (and at least 300 requests went out).
    const running = Promise.all(
      Array.from({ length: 12 }, async () => {
        while (!movesDone || sent < 300) {
          sent += 1;
          answers.push(await post());
        }
      }),
    );
    for (const traffic of moves) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await manager.setTraffic(endpoint, traffic);
    }
    movesDone = true;
    await running;
    expect(answers).toHaveLength(sent);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(countBy(answers, 'blue')).toBeGreaterThan(0);
    expect(countBy(answers, 'green')).toBeGreaterThan(0);
  });

  it('reports a metrics window that matches what the client measured', async () => {
    const windowStart = Date.now();
    const latencies: number[] = [];
    let errors = 0;
    for (let i = 0; i < 80; i += 1) {
      const started = performance.now();
      const answer = await post({ 'azureml-model-deployment': 'canary' });
      latencies.push(performance.now() - started);
      if (answer.status >= 500) errors += 1;
    }
    const metrics = manager.readMetrics(endpoint, 'canary', Date.now() - windowStart + 50);
    expect(metrics.count).toBe(80);
    expect(metrics.count5xx).toBe(errors);
    expect(metrics.rate5xx).toBeCloseTo(errors / 80, 10);
    expect(metrics.count4xx).toBe(0);
    latencies.sort((a, b) => a - b);
    const clientP50 = latencies[39] as number;
    const clientP95 = latencies[75] as number;
    // The router measures inside the client's span: never more, and never less than the injected 15 ms.
    expect(metrics.p50Ms).toBeGreaterThanOrEqual(15);
    expect(metrics.p50Ms).toBeLessThanOrEqual(clientP50);
    expect(metrics.p95Ms).toBeLessThanOrEqual(clientP95);
  });

  it('updates a deployment by rolling replacement without dropping a request', async () => {
    const oldPids = manager.getDeploymentState(endpoint, 'green')?.instances.map((i) => i.pid);
    let stop = false;
    const answers: Answer[] = [];
    const running = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) answers.push(await post({ 'azureml-model-deployment': 'green' }));
      }),
    );
    const updating = await manager.createOrUpdateDeployment(
      endpoint,
      spec('green', { environmentVariables: { ROLLOUT: '2' } }),
    );
    expect(updating.provisioningState).toBe('Updating');
    const done = await manager.waitForDeployment(endpoint, 'green', 60_000);
    expect(done.provisioningState).toBe('Succeeded');
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await running;
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const newPids = manager.getDeploymentState(endpoint, 'green')?.instances.map((i) => i.pid);
    expect(newPids?.some((pid) => oldPids?.includes(pid))).toBe(false);
  });

  it('answers 408 past request_timeout_ms and 429 past max_concurrent_requests_per_instance', async () => {
    await manager.createOrUpdateDeployment(
      endpoint,
      spec('canary', {
        faults: { errorRate: 0, addedLatencyMs: 2500 },
        // A wide margin, so the second request surely arrives while the first is still in flight.
        requestSettings: { requestTimeoutMs: 1000, maxConcurrentRequestsPerInstance: 1 },
      }),
      { wait: true, timeoutMs: 60_000 },
    );
    const before = manager.readMetrics(endpoint, 'canary', 600_000).count4xx;
    const pinned = { 'azureml-model-deployment': 'canary' };
    // Two at once on one instance allowed one request: one times out, the other is turned away.
    const statuses = (await Promise.all([post(pinned), post(pinned)])).map((a) => a.status).sort();
    expect(statuses).toEqual([408, 429]);
    expect(manager.readMetrics(endpoint, 'canary', 600_000).count4xx).toBe(before + 2);
  });

  it('refuses bad traffic maps with the Azure rules', async () => {
    const current = manager.getEndpoint(endpoint)?.traffic;
    await expect(manager.setTraffic(endpoint, { blue: 50 })).rejects.toMatchObject({
      code: 'InvalidTraffic',
    });
    await expect(manager.setTraffic(endpoint, { red: 100 })).rejects.toMatchObject({
      code: 'DeploymentNotFound',
    });
    await expect(manager.setTraffic(endpoint, { blue: 90, green: 10 }, { green: 10 })).rejects.toMatchObject({
      code: 'InvalidMirrorTraffic',
    });
    expect(manager.getEndpoint(endpoint)?.traffic).toEqual(current);
  });

  it('restarts a crashed instance and counts the crash', async () => {
    const before = manager.getDeploymentState(endpoint, 'green');
    const instance = before?.instances[0];
    expect(instance?.state).toBe('ready');
    manager.crashInstance(endpoint, 'green', instance?.id as string);
    await expect
      .poll(() => manager.getDeploymentState(endpoint, 'green')?.crashCount, { timeout: 5_000 })
      .toBe(1);
    await expect
      .poll(() => manager.getDeploymentState(endpoint, 'green')?.readyInstances, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(1);
    const after = manager.getDeploymentState(endpoint, 'green')?.instances[0];
    expect(after?.pid).not.toBe(instance?.pid);
    expect((await post({ 'azureml-model-deployment': 'green' })).status).toBe(200);
  });

  it('refuses to delete a deployment with traffic, then deletes it once traffic moved', async () => {
    await manager.setTraffic(endpoint, { blue: 100 }, { shadow: 10 });
    await expect(manager.deleteDeployment(endpoint, 'blue')).rejects.toMatchObject({
      code: 'DeploymentHasTraffic',
    });
    await expect(manager.deleteDeployment(endpoint, 'shadow')).rejects.toMatchObject({
      code: 'DeploymentHasTraffic',
    });
    await manager.setTraffic(endpoint, { blue: 100 });
    await manager.deleteDeployment(endpoint, 'shadow');
    expect(manager.getDeploymentState(endpoint, 'shadow')).toBeUndefined();
    expect((await post({ 'azureml-model-deployment': 'shadow' })).status).toBe(404);
  });

  it('fails provisioning of a deployment whose model cannot load, with the server message in its logs', async () => {
    const view = await manager.createOrUpdateDeployment(
      endpoint,
      spec('broken', { modelDir: join(dir, 'no-model-here') }),
      { wait: true, timeoutMs: 60_000 },
    );
    expect(view.provisioningState).toBe('Failed');
    expect(view.error).toMatch(/exited before it was ready/);
    expect(await manager.getLogs(endpoint, 'broken')).toMatch(
      /cannot start: model directory .* cannot be read/,
    );
    await manager.deleteDeployment(endpoint, 'broken');
  });

  it('comes back after a restart with the same keys, traffic and deployments', async () => {
    await manager.setTraffic(endpoint, { blue: 80, green: 20 });
    await manager.deleteDeployment(endpoint, 'canary');
    const keys = manager.listKeys(endpoint);
    await manager.stop();
    manager = await LocalEndpointManager.open({ stateDir: join(dir, 'state'), serverLogLevel: 'warn' });
    const view = manager.getEndpoint(endpoint);
    expect(view?.traffic).toEqual({ blue: 80, green: 20 });
    expect(view?.deployments.map((d) => d.name).sort()).toEqual(['blue', 'green']);
    expect(manager.listKeys(endpoint)).toEqual(keys);
    scoringUri = view?.scoringUri as string;
    await manager.waitForDeployment(endpoint, 'blue', 60_000);
    await manager.waitForDeployment(endpoint, 'green', 60_000);
    const result = await manager.invoke(endpoint, body);
    expect(result.status).toBe(200);
    expect(['blue', 'green']).toContain(result.deployment);
  }, 90_000);
});

describe('a launcher that cannot start', () => {
  it('fails provisioning instead of waiting for the startup timeout', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'local-endpoint-nolaunch-'));
    const broken = await LocalEndpointManager.open({
      stateDir,
      launcher: { command: join(stateDir, 'no-such-node'), args: [] },
    });
    try {
      await broken.createOrUpdateEndpoint('e');
      const view = await broken.createOrUpdateDeployment('e', spec('blue'), {
        wait: true,
        timeoutMs: 30_000,
      });
      expect(view.provisioningState).toBe('Failed');
      expect(view.error).toMatch(/spawn failed/);
    } finally {
      await broken.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
