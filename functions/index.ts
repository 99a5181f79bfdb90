/**
 * The app entry (package.json "main"): validates configuration at load (a bad setting stops the host with
 * its name), builds the ML platform adapter it names, and registers the health and config routes, the
 * sagas' orchestrators and activities, and the triggers that start and steer them.
 */
import path from 'node:path';
import { app, type HttpResponseInit } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import * as df from 'durable-functions';
import { dashboardRoutes } from '../triggers/dashboardHttp.js';
import { appPackage, appRoot } from './appRoot.js';
import { configureTelemetry } from '../telemetry/index.js';
import { ConfigError, loadConfig, publicConfig, type AppConfig } from './config.js';
import { createPlatform, sharedCredential } from './platform.js';
import { registerSagaFunctions, registerSagaTriggers } from './registerSagas.js';
import { datastoreOf, loadSagaConfig } from './sagaConfig.js';

// Telemetry is configured before anything registers, so the first invocation is already traced.
try {
  await configureTelemetry(process.env);
} catch (err) {
  throw new ConfigError(
    ['APPLICATIONINSIGHTS_CONNECTION_STRING'],
    `App Insights telemetry could not be configured: ${(err as Error).message}`,
  );
}

const config = loadConfig();
const sagaConfig = loadSagaConfig(process.env, config.platform);
const root = appRoot();
const pkg = appPackage();
const registered: string[] = [];
// One credential for every Azure client of the app: the user-assigned identity AZURE_CLIENT_ID names.
const appCredential = sharedCredential(process.env);

let storageClient: BlobServiceClient | undefined;

/** The storage account behind AzureWebJobsStorage, built once on first use (identity-based in Azure). */
function blobService(cfg: AppConfig): BlobServiceClient {
  storageClient ??= cfg.storage.connectionString
    ? BlobServiceClient.fromConnectionString(cfg.storage.connectionString)
    : new BlobServiceClient(
        `https://${cfg.storage.accountName ?? ''}.blob.core.windows.net`,
        appCredential(),
      );
  return storageClient;
}

async function storageState(): Promise<{ reachable: boolean; error?: string }> {
  try {
    await blobService(config).getProperties({ abortSignal: AbortSignal.timeout(3000) });
    return { reachable: true };
  } catch (err) {
    return { reachable: false, error: (err as Error).message.split('\n')[0] ?? 'unknown error' };
  }
}

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (): Promise<HttpResponseInit> => {
    const storage = await storageState();
    return {
      status: storage.reachable ? 200 : 503,
      jsonBody: {
        app: pkg.name,
        version: pkg.version,
        platform: config.platform,
        functions: { registered: registered.length, names: registered },
        storage,
      },
    };
  },
});
registered.push('health');

app.http('config', {
  route: 'config',
  methods: ['GET'],
  authLevel: 'function',
  handler: (): HttpResponseInit => ({ jsonBody: { ...publicConfig(config), sagas: sagaConfig } }),
});
registered.push('config');

const { platform, stop } = createPlatform(
  process.env,
  config.platform,
  root,
  [config.containers.raw, config.containers.curated, config.containers.models, config.containers.runs],
  appCredential,
);
registered.push(
  ...registerSagaFunctions({
    platform,
    jobSpecDir: path.join(root, 'aml', 'jobs'),
    deploymentSpecPath: path.join(root, 'aml', 'deployments', 'green.yml'),
    datastores: Object.fromEntries(
      Object.values(config.containers).map((container) => [container, datastoreOf(container)]),
    ),
    outputsContainer: config.containers.curated,
    runsContainer: config.containers.runs,
    log: (level, message, properties) => {
      const line = properties ? `${message} ${JSON.stringify(properties)}` : message;
      if (level === 'error') console.error(line);
      else if (level === 'warn') console.warn(line);
      else console.log(line);
    },
  }),
  ...registerSagaTriggers(sagaConfig, config.retrainSchedule),
);
// The dashboard: its page, static files and JSON API, behind the same function key as the rest.
for (const route of dashboardRoutes({
  platform,
  modelName: sagaConfig.modelName,
  endpointName: sagaConfig.release.endpointName,
  datastores: Object.fromEntries(Object.values(config.containers).map((c) => [c, datastoreOf(c)])),
  runsContainer: config.containers.runs,
  appRoot: root,
})) {
  df.app.client.http(route.name, {
    route: route.route,
    methods: ['GET'],
    authLevel: 'function',
    handler: route.handler,
  });
  registered.push(route.name);
}
// Local job and deployment processes end with the host.
app.hook.appTerminate(stop);
