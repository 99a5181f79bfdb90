/**
 * The app entry (package.json "main"): validates configuration at load (a bad setting stops the host with
 * its name) and registers the functions. Saga triggers, orchestrators and activities join here later.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { app, type HttpResponseInit } from '@azure/functions';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { loadConfig, publicConfig, type AppConfig } from './config.js';

const config = loadConfig();

/** package.json of the app, found upwards from this file (works from functions/ and dist/functions/). */
function readPackage(): { name: string; version: string } {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    name?: string;
    version?: string;
  };
  return { name: pkg.name ?? 'app', version: pkg.version ?? '0.0.0' };
}

const pkg = readPackage();
const registered: string[] = [];

function blobService(cfg: AppConfig): BlobServiceClient {
  if (cfg.storage.connectionString)
    return BlobServiceClient.fromConnectionString(cfg.storage.connectionString);
  return new BlobServiceClient(
    `https://${cfg.storage.accountName ?? ''}.blob.core.windows.net`,
    new DefaultAzureCredential(),
  );
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
  handler: (): HttpResponseInit => ({ jsonBody: publicConfig(config) }),
});
registered.push('config');
