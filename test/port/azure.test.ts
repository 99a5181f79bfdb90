import { fileURLToPath } from 'node:url';
import { EventGridPublisherClient, AzureKeyCredential } from '@azure/eventgrid';
import { createHttpHeaders, type HttpClient } from '@azure/core-rest-pipeline';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobDataLake } from '../../aml/azure/blobDataLake.js';
import { EventGridTopicPublisher } from '../../aml/azure/eventPublisher.js';
import { AzureMlPlatform } from '../../aml/azure/platform.js';
import { isMlPlatformError, MlPlatformError } from '../../aml/port.js';
import { startAzurite, type StorageHandle } from '../../local/storage/azurite.js';
import { AzureFake, type JobSimulator } from './armFake.js';
import { definePortContract } from './contract.js';
import { FakeCredential } from './fakeCredential.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const ids = {
  subscriptionId: '11111111-2222-3333-4444-555555555555',
  resourceGroup: 'rg-mlops',
  workspace: 'ws-forecast',
};

/** The fake runs a job the way tiny-job.mjs would: by its `mode` literal, counting the input folder's blobs. */
function simulator(dataLake: BlobDataLake): JobSimulator {
  return async (properties): ReturnType<JobSimulator> => {
    const inputs = properties.inputs as Record<string, { value?: string; uri?: string }>;
    const mode = inputs.mode?.value;
    if (mode === 'fail') return { outcome: 'Failed', metrics: {} };
    if (mode === 'slow') return { outcome: 'Running', metrics: {} };
    const uri = inputs.data?.uri ?? '';
    const prefix = uri.replace(/^azureml:\/\/datastores\/workspaceblobstore\/paths\//, '');
    const files = await dataLake.list('azureml', prefix);
    return { outcome: 'Completed', metrics: { wape: 0.125, inputFiles: files.length } };
  };
}

/** Captures what the app publishes to its custom topic (in-process; no socket). */
function capturingTopic(): { client: HttpClient; sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    client: {
      async sendRequest(request) {
        sent.push(...(JSON.parse(String(request.body)) as unknown[]));
        return { request, status: 200, headers: createHttpHeaders() };
      },
    },
  };
}

function makePlatform(storage: StorageHandle) {
  const dataLake = new BlobDataLake(BlobServiceClient.fromConnectionString(storage.connectionString));
  const fake = new AzureFake(ids, simulator(dataLake));
  const credential = new FakeCredential();
  const topic = capturingTopic();
  const platform = new AzureMlPlatform({
    ...ids,
    location: 'westeurope',
    credential,
    projectRoot,
    dataLake,
    events: new EventGridTopicPublisher(
      new EventGridPublisherClient(
        'https://app-events.westeurope-1.eventgrid.azure.net/api/events',
        'EventGrid',
        new AzureKeyCredential('a2V5'),
        {
          httpClient: topic.client,
        },
      ),
    ),
    assets: { codeIds: { 'tiny-job.yml': `${fake.workspaceId}/codes/port-tests/versions/1` } },
    httpClient: fake,
    retry: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 5 },
    minPollIntervalMs: 0,
  });
  return { platform, fake, credential, dataLake, topic };
}

definePortContract('Azure adapter (ARM fake)', async () => {
  const storage = await startAzurite();
  const { platform, dataLake } = makePlatform(storage);
  return {
    platform,
    seedJobInput: async (files) => {
      for (const [name, text] of Object.entries(files))
        await dataLake.upload('azureml', `port-tests/input/${name}`, text);
    },
    tick: async () => undefined,
    close: () => storage.stop(),
  };
});

describe('Azure adapter wire contract', () => {
  let storage: StorageHandle;
  let env: ReturnType<typeof makePlatform>;
  beforeAll(async () => {
    storage = await startAzurite();
    env = makePlatform(storage);
  }, 60_000);
  afterAll(async () => {
    await storage.stop();
  });
  const armRequests = () => env.fake.requests.filter((r) => r.url.hostname === 'management.azure.com');

  it('submits the job as raw REST with input uri and mode intact, ARM ids, api-version 2024-10-01 and an ARM token', async () => {
    await env.platform.submitJob({
      name: 'wire-job',
      specPath: 'test/port/fixtures/tiny-job.yml',
      tags: { 'saga.id': 's1' },
    });
    const put = armRequests().find((r) => r.method === 'PUT' && r.url.pathname.endsWith('/jobs/wire-job'));
    expect(put?.url.searchParams.get('api-version')).toBe('2024-10-01');
    expect(put?.headers.authorization).toBe('Bearer fake-https://management.azure.com/.default');
    const props = (put?.body as { properties: Record<string, unknown> }).properties;
    expect(props).toMatchObject({
      jobType: 'Command',
      experimentName: 'port-tests',
      computeId: `${env.fake.workspaceId}/computes/cpu-cluster`,
      environmentId: `${env.fake.workspaceId}/environments/port-test-env/versions/1`,
      codeId: `${env.fake.workspaceId}/codes/port-tests/versions/1`,
      tags: { suite: 'port', 'saga.id': 's1' },
      inputs: {
        data: {
          jobInputType: 'uri_folder',
          uri: 'azureml://datastores/workspaceblobstore/paths/port-tests/input/',
          mode: 'ReadOnlyMount',
        },
        greeting: { jobInputType: 'literal', value: 'hello' },
      },
      outputs: { model: { jobOutputType: 'uri_folder' } },
    });
    expect(props.command).toContain('${{inputs.data}}');
  });

  it('does not PUT again when a job name already exists', async () => {
    const before = armRequests().filter((r) => r.method === 'PUT').length;
    await env.platform.submitJob({ name: 'wire-job', specPath: 'test/port/fixtures/tiny-job.yml' });
    expect(armRequests().filter((r) => r.method === 'PUT')).toHaveLength(before);
  });

  it('retries 429 with Retry-After and 5xx, then succeeds', async () => {
    env.fake.inject({
      method: 'GET',
      path: /\/jobs\/wire-job$/,
      status: 429,
      code: 'TooManyRequests',
      headers: { 'retry-after': '0' },
    });
    env.fake.inject({ method: 'GET', path: /\/jobs\/wire-job$/, status: 503, code: 'ServiceUnavailable' });
    const n = env.fake.requests.length;
    const job = await env.platform.getJob('wire-job');
    expect(job.name).toBe('wire-job');
    expect(env.fake.requests.length - n).toBe(3);
  });

  it('surfaces exhausted transient failures as transient errors with the ARM code', async () => {
    env.fake.inject({
      method: 'GET',
      path: /\/jobs\/wire-job$/,
      status: 500,
      code: 'InternalServerError',
      message: 'boom',
      times: 10,
    });
    const err = await env.platform.getJob('wire-job').catch((e: unknown) => e);
    env.fake.faults.length = 0;
    expect(err).toBeInstanceOf(MlPlatformError);
    expect(err).toMatchObject({
      code: 'Unavailable',
      transient: true,
      platformCode: 'InternalServerError',
      status: 500,
    });
    expect((err as Error).message).toContain('boom');
  });

  it('surfaces permanent failures (409) at once, with the ARM code and message', async () => {
    env.fake.inject({
      method: 'PUT',
      path: /\/models\/m409$/,
      status: 409,
      code: 'ResourceLocked',
      message: 'locked by policy',
    });
    const n = env.fake.requests.length;
    const err = await env.platform
      .registerModel({
        name: 'm409',
        version: '1',
        modelUri: 'azureml://datastores/workspaceblobstore/paths/x/',
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Conflict', transient: false, platformCode: 'ResourceLocked' });
    expect((err as Error).message).toContain('locked by policy');
    expect(env.fake.requests.slice(n).filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('follows Azure-AsyncOperation for endpoint and deployment PUTs and reports a failed provisioning', async () => {
    await env.platform.submitJob({ name: 'wire-job-ok', specPath: 'test/port/fixtures/tiny-job.yml' });
    for (let i = 0; i < 6; i++) await env.platform.getJob('wire-job-ok');
    await env.platform.registerModel({
      name: 'wm',
      version: '1',
      modelUri: 'azureml://jobs/wire-job-ok/outputs/model',
    });
    const ep = await env.platform.createOrUpdateEndpoint({ name: 'wire-ep' }, { wait: true });
    expect(ep.provisioningState).toBe('Succeeded');
    const opPolls = env.fake.requests.filter((r) => r.url.pathname.includes('/mfeOperationsStatus/'));
    expect(opPolls.length).toBe(2);
    const putEp = armRequests().find(
      (r) => r.method === 'PUT' && r.url.pathname.endsWith('/onlineEndpoints/wire-ep'),
    );
    expect(putEp?.body).toMatchObject({
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { authMode: 'Key', traffic: {}, mirrorTraffic: {} },
    });

    env.fake.failingDeployments.add('broken');
    const failed = await env.platform
      .createOrUpdateDeployment(
        { endpointName: 'wire-ep', name: 'broken', model: { name: 'wm', version: '1' } },
        { wait: true },
      )
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'OperationFailed', platformCode: 'DeploymentFailed' });

    const started = await env.platform.createOrUpdateDeployment(
      {
        endpointName: 'wire-ep',
        name: 'blue',
        model: { name: 'wm', version: '1' },
        specPath: 'test/port/fixtures/fast-deployment.yml',
      },
      { wait: false },
    );
    expect(started.provisioningState).toBe('Creating');
    const putDep = armRequests().find(
      (r) => r.method === 'PUT' && r.url.pathname.endsWith('/deployments/blue'),
    );
    expect(putDep?.body).toMatchObject({
      sku: { name: 'Default', capacity: 1 },
      properties: {
        endpointComputeType: 'Managed',
        model: `${env.fake.workspaceId}/models/wm/versions/1`,
        readinessProbe: { initialDelay: 'PT0S', period: 'PT1S', timeout: 'PT1S', failureThreshold: 3 },
      },
    });
  });

  it('sends traffic moves as full endpoint PUTs that keep mirrorTraffic, and polls Location on delete', async () => {
    await env.platform.createOrUpdateDeployment(
      { endpointName: 'wire-ep', name: 'green', model: { name: 'wm', version: '1' } },
      { wait: true },
    );
    await env.platform.createOrUpdateDeployment(
      { endpointName: 'wire-ep', name: 'blue', model: { name: 'wm', version: '1' } },
      { wait: true },
    );
    await env.platform.setTraffic('wire-ep', { blue: 100 }, { green: 20 }, { wait: true });
    const put = armRequests()
      .filter((r) => r.method === 'PUT' && r.url.pathname.endsWith('/onlineEndpoints/wire-ep'))
      .pop();
    expect(put?.body).toMatchObject({
      properties: { traffic: { blue: 100 }, mirrorTraffic: { green: 20 }, authMode: 'Key' },
    });
    expect(
      await env.platform.createOrUpdateEndpoint({ name: 'wire-ep', tags: { owner: 'saga' } }, { wait: true }),
    ).toMatchObject({
      traffic: { blue: 100 },
      mirrorTraffic: { green: 20 },
    });
    await env.platform.setTraffic('wire-ep', { blue: 100 }, {}, { wait: true });
    const n = env.fake.requests.length;
    await env.platform.deleteDeployment('wire-ep', 'broken', { wait: true });
    const sequence = env.fake.requests
      .slice(n)
      .map((r) => `${r.method} ${r.url.pathname.split('/').slice(-2).join('/')}`);
    expect(sequence[0]).toBe('DELETE deployments/broken');
    expect(sequence.filter((s) => s.startsWith('GET mfeOperationResults')).length).toBe(2);
    expect(
      isMlPlatformError(
        await env.platform.getDeployment('wire-ep', 'broken').catch((e: unknown) => e),
        'NotFound',
      ),
    ).toBe(true);
  });

  it('reads deployment metrics from Azure Monitor getBatch with the deployment filter', async () => {
    for (let i = 0; i < 3; i++) await env.platform.invokeEndpoint('wire-ep', { keys: ['a'] });
    const m = await env.platform.getDeploymentMetrics('wire-ep', 'blue', 15 * 60_000);
    expect(m).toMatchObject({ deployment: 'blue', requests: 3, errorRate: 0 });
    const call = env.fake.requests.find((r) => r.url.pathname.endsWith('/metrics:getBatch'));
    expect(call?.url.searchParams.get('filter')).toBe("deployment eq 'blue' and statusCodeClass eq '*'");
    expect(call?.body).toEqual({ resourceids: [`${env.fake.workspaceId}/onlineEndpoints/wire-ep`] });
  });

  it('publishes app events through EventGridPublisherClient and talks to no host outside the fake', async () => {
    await env.platform.events.publish([
      { eventType: 'MLOps.Saga.Promoted', subject: 'models/wm/versions/1', data: { v: 1 } },
    ]);
    expect(env.topic.sent).toMatchObject([
      { eventType: 'MLOps.Saga.Promoted', subject: 'models/wm/versions/1', dataVersion: '1.0' },
    ]);
    const hosts = new Set(env.fake.requests.map((r) => r.url.hostname));
    for (const host of hosts)
      expect(host).toMatch(
        /^(management\.azure\.com|westeurope\.(api\.azureml\.ms|metrics\.monitor\.azure\.com)|[a-z-]+\.westeurope\.inference\.ml\.azure\.com)$/,
      );
    expect(new Set(env.credential.scopes)).toEqual(new Set(['https://management.azure.com/.default']));
  });
});
