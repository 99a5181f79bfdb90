/**
 * `npm start`: the whole saga on a laptop. Starts the local host (Azurite, durable task hub, local Event
 * Grid, local Azure ML) with this app, generates a few months of clickstream if the raw container is empty
 * and uploads it (which fires BlobCreated), follows the training run and the release it triggers while
 * sending scoring traffic through the endpoint, and ends with the model serving at 100%.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { createDurableExtension } from '../local/durable/index.js';
import { localEventGridExtension } from '../local/eventgrid/index.js';
import { LocalHost } from '../local/host.js';
import { createLogger } from '../local/log.js';
import { appRoot } from '../functions/appRoot.js';
import { generateSample } from './sample.js';

interface RunSummary {
  id: string;
  type: string;
  runtimeStatus: string;
  outcome?: string;
  step?: string;
}
interface RunDetail extends RunSummary {
  progress?: string;
  steps: { name: string; status: string; startedAt: string; endedAt?: string; detail?: string }[];
  output?: {
    status?: string;
    reason?: string;
    model?: { name: string; version: string };
    gate?: { checks: { name: string; value: number | null; threshold: number | null; passed: boolean }[] };
  };
}

const { values } = parseArgs({
  options: {
    memory: { type: 'boolean', default: false },
    exit: { type: 'boolean', default: false },
    port: { type: 'string' },
    state: { type: 'string' },
    timeout: { type: 'string', default: '1800' },
  },
});

const root = appRoot();
// Under tsx the app runs from source; `npm start` runs the build (package.json main).
const entry = import.meta.filename.endsWith('.ts') ? path.join(root, 'functions', 'index.ts') : undefined;
const stateDir = path.resolve(values.state ?? path.join(root, '.local'));
const deadline = Date.now() + Number(values.timeout) * 1000;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const say = (line: string) => process.stdout.write(`[${elapsed()}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fails the run when it takes longer than --timeout seconds. */
function checkDeadline(what: string): void {
  if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
}

async function main(): Promise<number> {
  // The app reads its state folder from this setting; keep it next to the host's.
  process.env.LOCAL_STATE_DIR = stateDir;
  say(`Starting the local host (state in ${stateDir}${values.memory ? ', storage in memory' : ''})…`);
  const host = await LocalHost.start({
    appDir: root,
    stateDir,
    storage: values.memory ? 'memory' : 'persistent',
    logger: createLogger('warn'),
    extensions: [createDurableExtension(), localEventGridExtension({ watchContainers: ['raw'] })],
    settingsFallbackToSample: true,
    ...(entry ? { entry } : {}),
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
  });
  const stop = async () => {
    say('Stopping the host…');
    await host.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    return await runSaga(host);
  } catch (err) {
    say(`FAILED: ${(err as Error).message}`);
    await stop();
    return 1;
  } finally {
    if (values.exit) await stop();
  }
}

async function runSaga(host: LocalHost): Promise<number> {
  const key = host.keys.defaultFunctionKey;
  const api = async <T>(route: string): Promise<T> => {
    const res = await fetch(`${host.baseUrl}/api/${route}`, { headers: { 'x-functions-key': key } });
    if (!res.ok) throw new Error(`GET /api/${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const storage = BlobServiceClient.fromConnectionString(process.env.AzureWebJobsStorage ?? '');
  const raw = storage.getContainerClient(process.env.RAW_CONTAINER ?? 'raw');
  await raw.createIfNotExists();
  const prefix = process.env.RAW_PREFIX ?? 'clickstream/';
  let existing = 0;
  for await (const _ of raw.listBlobsFlat({ prefix })) existing++;
  const since = new Date(Date.now() - 1000);
  if (existing === 0) {
    const files = await generateSample(path.join(stateDir, 'sample'), say);
    for (const file of files) {
      await raw.getBlockBlobClient(`${prefix}${path.basename(file)}`).uploadFile(file);
      say(`Uploaded ${raw.containerName}/${prefix}${path.basename(file)} → BlobCreated`);
    }
  } else {
    say(`${existing} file(s) already in ${raw.containerName}/${prefix}: starting a run over them.`);
    const res = await fetch(`${host.baseUrl}/api/runs`, {
      method: 'POST',
      headers: { 'x-functions-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'npm start' }),
    });
    if (res.status !== 202) throw new Error(`POST /api/runs answered ${res.status}: ${await res.text()}`);
  }

  const training = await follow(api, 'training', since);
  if (training.output?.status !== 'registered' || !training.output.model) {
    say(
      `Training ended ${training.output?.status ?? training.runtimeStatus}: ${training.output?.reason ?? ''}`,
    );
    return training.output?.status === 'rejected' || training.output?.status === 'unchanged' ? 0 : 1;
  }
  const model = training.output.model;
  const traffic = startScoringTraffic();
  const release = await follow(api, 'release', since, `release-${model.name}-${model.version}`);
  traffic.stop();
  say(`Scoring traffic: ${traffic.sent} requests sent, ${traffic.failed} failed.`);
  if (release.output?.status !== 'promoted') {
    say(`Release ended ${release.output?.status ?? release.runtimeStatus}: ${release.output?.reason ?? ''}`);
    return 1;
  }
  const endpoint = await endpointAccess();
  say(`${model.name}:${model.version} serves 100% of ${endpoint?.name ?? 'the endpoint'}.`);
  if (endpoint) {
    process.stdout.write(
      [
        '',
        `Dashboard:   ${host.baseUrl}/api/dashboard?code=${encodeURIComponent(key)}`,
        `Scoring URL: ${endpoint.url}`,
        `Key:         ${endpoint.key}`,
        `Try it:      curl -s ${endpoint.url} -H 'Authorization: Bearer ${endpoint.key}' -H 'content-type: application/json' -d '{"keys":["${endpoint.sampleKey}"],"horizon":7}'`,
        `Runs:        curl -s ${host.baseUrl}/api/runs -H 'x-functions-key: ${key}'`,
        `This run:    curl -s ${host.baseUrl}/api/runs/${training.id} -H 'x-functions-key: ${key}'`,
        `Next month:  npm run data:generate -- --days 30 --products 15 --events-per-day 8000 --start 2019-06-01 --seed 7 --out /tmp/2019-06.csv.gz && npm run data:upload -- /tmp/2019-06.csv.gz`,
        '',
      ].join('\n'),
    );
  }
  if (!values.exit) {
    say('Serving. Press Ctrl+C to stop.');
    await new Promise(() => undefined);
  }
  return 0;
}

/** Follows the newest run of a type (or the given id) to its end, printing each step as it changes. */
async function follow(
  api: <T>(route: string) => Promise<T>,
  type: string,
  since: Date,
  id?: string,
): Promise<RunDetail> {
  let runId = id;
  while (!runId) {
    checkDeadline(`a ${type} run`);
    const { runs } = await api<{ runs: RunSummary[] }>(
      `runs?type=${type}&createdFrom=${since.toISOString()}`,
    );
    runId = runs[0]?.id;
    if (!runId) await sleep(1000);
  }
  say(`${type} run ${runId}`);
  let last = '';
  for (;;) {
    checkDeadline(`${type} run ${runId}`);
    const run = await api<RunDetail>(`runs/${runId}`).catch(() => undefined);
    if (run) {
      const line = `${type}: ${run.step ?? 'starting'}${run.progress ? ` — ${run.progress}` : ''}`;
      if (line !== last) say(line);
      last = line;
      if (['Completed', 'Failed', 'Terminated'].includes(run.runtimeStatus)) {
        for (const s of run.steps) {
          const ms = s.endedAt ? new Date(s.endedAt).getTime() - new Date(s.startedAt).getTime() : 0;
          say(
            `  ${s.status.padEnd(9)} ${s.name.padEnd(12)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${s.detail ?? ''}`,
          );
        }
        for (const c of run.output?.gate?.checks ?? []) {
          say(
            `  gate ${c.passed ? 'pass' : 'FAIL'} ${c.name}: ${c.value?.toFixed(4) ?? 'n/a'} (threshold ${c.threshold?.toFixed(4) ?? 'n/a'})`,
          );
        }
        say(`${type} ${run.runtimeStatus}: ${run.output?.status ?? ''} ${run.output?.reason ?? ''}`);
        return run;
      }
    }
    await sleep(1000);
  }
}

interface EndpointAccess {
  name: string;
  url: string;
  key: string;
  sampleKey: string;
}

/** The local endpoint's scoring URL and key, from the local platform's state (local runs only). */
async function endpointAccess(): Promise<EndpointAccess | undefined> {
  try {
    const state = JSON.parse(
      await readFile(path.join(stateDir, 'platform', 'endpoints', 'endpoints.json'), 'utf8'),
    ) as {
      endpoints: { name: string; port: number; primaryKey: string; traffic: Record<string, number> }[];
    };
    const endpoint = state.endpoints[0];
    // Until a deployment takes traffic the endpoint has nothing to route to.
    if (!endpoint || !Object.values(endpoint.traffic).some((share) => share > 0)) return undefined;
    return {
      name: endpoint.name,
      url: `http://127.0.0.1:${endpoint.port}/score`,
      key: endpoint.primaryKey,
      sampleKey: await sampleKey(),
    };
  } catch {
    return undefined;
  }
}

let cachedKeys: string[] | undefined;
/** A category the sample sells, for scoring requests. */
async function sampleKey(): Promise<string> {
  cachedKeys ??= JSON.parse(
    await readFile(path.join(stateDir, 'sample', 'keys.json'), 'utf8').catch(() => '[]'),
  ) as string[];
  return cachedKeys[Math.floor(Math.random() * cachedKeys.length)] ?? 'electronics.smartphone';
}

/** Sends scoring requests through the endpoint (about 25 a second) so the canary has traffic to judge. */
function startScoringTraffic(): { stop(): void; sent: number; failed: number } {
  const state = { stopped: false, sent: 0, failed: 0 };
  void (async () => {
    // The endpoint's URL, key and traffic change rarely: read the platform's state file once a second,
    // not once per request.
    let endpoint: EndpointAccess | undefined;
    let readAt = 0;
    while (!state.stopped) {
      if (Date.now() - readAt >= 1000) {
        endpoint = await endpointAccess();
        readAt = Date.now();
      }
      if (endpoint) {
        const res = await fetch(endpoint.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${endpoint.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ keys: [await sampleKey()], horizon: 7 }),
        }).catch(() => undefined);
        state.sent++;
        if (!res || res.status >= 500) state.failed++;
        await res?.arrayBuffer().catch(() => undefined);
      }
      await sleep(endpoint ? 40 : 1000);
    }
  })();
  return {
    stop: () => {
      state.stopped = true;
    },
    get sent() {
      return state.sent;
    },
    get failed() {
      return state.failed;
    },
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
