import path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, type DefaultAzureCredentialClientIdOptions } from '@azure/identity';
import { EventGridPublisherClient } from '@azure/eventgrid';
import { BlobServiceClient } from '@azure/storage-blob';
import { z } from 'zod';
import { BlobDataLake } from '../aml/azure/blobDataLake.js';
import { EventGridTopicPublisher } from '../aml/azure/eventPublisher.js';
import { AzureMlPlatform } from '../aml/azure/platform.js';
import { LocalMlPlatform } from '../aml/local/platform.js';
import type { EventPublisher, MlPlatform } from '../aml/port.js';
import { localEventGridDevKey, localEventGridPrefix } from '../local/eventgrid/extension.js';
import { ConfigError } from './config.js';
import { datastoreOf } from './sagaConfig.js';

/** The platform the activities use, and how to release what it holds (job and endpoint processes). */
export interface PlatformHandle {
  platform: MlPlatform;
  stop(): Promise<void>;
  /** The app's Azure credential (built on first call), for other Azure clients of the app. */
  credential: () => TokenCredential;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The code and environment assets `infra/hooks/postdeploy` registered, keyed by the spec files that use them. */
export function registeredAssets(env: Env): {
  codeIds: Record<string, string>;
  environmentIds: Record<string, string>;
} {
  const codeIds: Record<string, string> = {};
  const environmentIds: Record<string, string> = {};
  for (const spec of ['etl.yml', 'train.yml']) {
    if (env.AML_CODE_ID) codeIds[spec] = env.AML_CODE_ID;
    if (env.AML_JOB_ENVIRONMENT_ID) environmentIds[spec] = env.AML_JOB_ENVIRONMENT_ID;
  }
  for (const spec of ['blue.yml', 'green.yml']) {
    if (env.AML_INFERENCE_ENVIRONMENT_ID) environmentIds[spec] = env.AML_INFERENCE_ENVIRONMENT_ID;
  }
  return { codeIds, environmentIds };
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError([name], `${name} is required when MLOPS_PLATFORM=azure`);
  return value;
}

const deploymentFaultsSchema = z.record(
  z.string(),
  z.object({
    errorRate: z.number().min(0).max(1).default(0),
    addedLatencyMs: z.number().int().min(0).default(0),
  }),
);

/** LOCAL_DEPLOYMENT_FAULTS: faults the local endpoint injects into the named deployments (tests and demos). */
export function localDeploymentFaults(
  env: Env,
): Record<string, { errorRate: number; addedLatencyMs: number }> | undefined {
  const text = env.LOCAL_DEPLOYMENT_FAULTS;
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(['LOCAL_DEPLOYMENT_FAULTS'], 'LOCAL_DEPLOYMENT_FAULTS is not JSON');
  }
  const parsed = deploymentFaultsSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      ['LOCAL_DEPLOYMENT_FAULTS'],
      `LOCAL_DEPLOYMENT_FAULTS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Defers every call until `open` resolved. The local platform opens asynchronously (it recovers jobs a
 * previous host left running), while the app registers its functions synchronously at load.
 */
function deferred(open: () => Promise<MlPlatform>): MlPlatform {
  const call =
    (target: () => Promise<object>, name: PropertyKey) =>
    async (...args: unknown[]) => {
      const object = (await target()) as Record<PropertyKey, (...a: unknown[]) => unknown>;
      return object[name]!(...args);
    };
  const nested = (key: 'dataLake' | 'events') =>
    new Proxy(
      {},
      { get: (_t, name) => (name === 'then' ? undefined : call(async () => (await open())[key], name)) },
    );
  const dataLake = nested('dataLake');
  const events = nested('events');
  return new Proxy({} as MlPlatform, {
    get: (_t, name) => {
      if (name === 'then') return undefined;
      if (name === 'dataLake') return dataLake;
      if (name === 'events') return events;
      return call(open, name);
    },
  });
}

/** Options of the app's Azure credential: the user-assigned managed identity AZURE_CLIENT_ID names, when set. */
export function credentialOptions(env: Env): DefaultAzureCredentialClientIdOptions {
  return env.AZURE_CLIENT_ID ? { managedIdentityClientId: env.AZURE_CLIENT_ID } : {};
}

/**
 * The app's Azure credential, built on first use and then shared: the platform adapter and the health
 * check must authenticate as the same (user-assigned) identity.
 */
export function sharedCredential(
  env: Env,
  build: (options: DefaultAzureCredentialClientIdOptions) => TokenCredential = (options) =>
    new DefaultAzureCredential(options),
): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => (credential ??= build(credentialOptions(env)));
}

/** Chooses and builds the ML platform adapter from configuration: the only place that decides. */
export function createPlatform(
  env: Env,
  platform: 'local' | 'azure',
  root: string,
  containers: string[],
  appCredential: () => TokenCredential = sharedCredential(env),
): PlatformHandle {
  if (platform === 'azure') {
    const credential = appCredential();
    const lake = new BlobDataLake(new BlobServiceClient(required(env, 'DATA_LAKE_ACCOUNT_URL'), credential));
    const topic = env.EVENTGRID_TOPIC_ENDPOINT;
    const events: EventPublisher = topic
      ? new EventGridTopicPublisher(new EventGridPublisherClient(topic, 'EventGrid', credential))
      : {
          // No custom topic configured: run events stay in the logs and run records only.
          publish: async () => undefined,
        };
    const azure = new AzureMlPlatform({
      subscriptionId: required(env, 'AZURE_SUBSCRIPTION_ID'),
      resourceGroup: required(env, 'AZURE_RESOURCE_GROUP'),
      workspace: required(env, 'AML_WORKSPACE_NAME'),
      location: required(env, 'AML_LOCATION'),
      credential,
      projectRoot: root,
      dataLake: lake,
      events,
      assets: registeredAssets(env),
    });
    return { platform: azure, stop: async () => undefined, credential: appCredential };
  }

  const deploymentFaults = localDeploymentFaults(env);
  let opened: Promise<LocalMlPlatform> | undefined;
  const open = () => {
    opened ??= (async () => {
      const host = env.WEBSITE_HOSTNAME ?? process.env.WEBSITE_HOSTNAME ?? '127.0.0.1:7071';
      const base = `http://${host}${localEventGridPrefix}/api`;
      const storage = process.env.AzureWebJobsStorage ?? env.AzureWebJobsStorage;
      if (!storage) throw new ConfigError(['AzureWebJobsStorage'], 'AzureWebJobsStorage is not set');
      return LocalMlPlatform.open({
        projectRoot: root,
        stateDir: path.resolve(root, env.LOCAL_STATE_DIR ?? '.local', 'platform'),
        storageConnectionString: storage,
        datastores: Object.fromEntries(containers.map((c) => [datastoreOf(c), c])),
        eventGrid: {
          topicEndpoint: `${base}/events`,
          systemEndpoint: `${base}/system-events`,
          key: env.LOCAL_EVENTGRID_KEY ?? localEventGridDevKey,
        },
        workspace: 'local',
        jobRecovery: 'rerun',
        ...(deploymentFaults ? { deploymentFaults } : {}),
      });
    })();
    return opened;
  };
  return {
    platform: deferred(open),
    credential: appCredential,
    stop: async () => {
      if (opened) await (await opened).stop();
    },
  };
}
