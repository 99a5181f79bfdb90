import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import Fastify from 'fastify';
import { LocalEventGrid } from '../../local/eventgrid/grid.js';
import { startTopicServer } from '../../local/eventgrid/topic.js';
import { startAzurite } from '../../local/storage/azurite.js';
import { LocalMlPlatform } from '../../aml/local/platform.js';
import { definePortContract } from './contract.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const key = Buffer.from('port-test-key').toString('base64');

definePortContract('local adapter', async () => {
  const storage = await startAzurite();
  const stateDir = await mkdtemp(path.join(tmpdir(), 'port-local-'));
  // Stands in for the host's Event Grid webhook: records what the local Event Grid delivers.
  const delivered: unknown[] = [];
  const webhook = Fastify();
  webhook.post('/runtime/webhooks/eventgrid', async (req) => {
    delivered.push(...(req.body as unknown[]));
    return '';
  });
  await webhook.listen({ host: '127.0.0.1', port: 0 });
  const address = webhook.server.address();
  const webhookBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const grid = new LocalEventGrid({
    topicName: 'app-events',
    subscriptions: [
      {
        name: 'ml',
        functionName: 'onMlEvent',
        includedEventTypes: [
          'Microsoft.MachineLearningServices.ModelRegistered',
          'Microsoft.MachineLearningServices.RunCompleted',
          'Microsoft.MachineLearningServices.RunStatusChanged',
        ],
      },
    ],
    webhookUrl: (fn) => `${webhookBase}/runtime/webhooks/eventgrid?functionName=${fn}`,
  });
  const topic = await startTopicServer(grid, { key });
  const platform = await LocalMlPlatform.open({
    projectRoot,
    stateDir,
    storageConnectionString: storage.connectionString,
    eventGrid: { topicEndpoint: topic.endpoint, systemEndpoint: topic.systemEndpoint, key },
    endpoints: {
      launcher: {
        command: process.execPath,
        args: [path.join(projectRoot, 'test/port/fixtures/tiny-scorer.mjs')],
      },
    },
  });
  const blobs = BlobServiceClient.fromConnectionString(storage.connectionString);
  return {
    platform,
    seedJobInput: async (files) => {
      for (const [name, text] of Object.entries(files))
        await platform.dataLake.upload('azureml', `port-tests/input/${name}`, text);
      await blobs.getContainerClient('azureml').exists();
    },
    mlEvents: async () => {
      await grid.idle();
      return delivered;
    },
    close: async () => {
      await platform.stop();
      await topic.close();
      await grid.stop();
      await webhook.close();
      await storage.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
});
