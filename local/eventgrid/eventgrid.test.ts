import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AzureKeyCredential,
  AzureSASCredential,
  EventGridDeserializer,
  EventGridPublisherClient,
  generateSharedAccessSignature,
} from '@azure/eventgrid';
import { BlobServiceClient } from '@azure/storage-blob';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type StorageHandle } from '../storage/azurite.js';
import { BlobWatcher } from './blobWatcher.js';
import { LocalEventGrid } from './grid.js';
import type { EventGridEvent } from './schema.js';
import { matchesSubscription } from './subscriptions.js';
import { startTopicServer, type TopicServer } from './topic.js';

const key = Buffer.from('test-topic-key-0123456789').toString('base64');

interface Received {
  functionName: string;
  headers: Record<string, string | string[] | undefined>;
  events: unknown[];
}

/** A stand-in for the Functions host's Event Grid webhook that can be told to fail. */
async function startWebhook(failuresBeforeSuccess: Map<string, number>) {
  const received: Received[] = [];
  const app: FastifyInstance = Fastify();
  app.post('/runtime/webhooks/eventgrid', async (req, reply) => {
    const functionName = (req.query as Record<string, string>).functionName ?? '';
    received.push({ functionName, headers: req.headers, events: req.body as unknown[] });
    const left = failuresBeforeSuccess.get(functionName) ?? 0;
    if (left !== 0) {
      failuresBeforeSuccess.set(functionName, left - 1);
      return reply.code(500).send('boom');
    }
    return reply.code(202).send();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { received, base, close: () => app.close() };
}

describe('local Event Grid', () => {
  let storage: StorageHandle;
  let blobs: BlobServiceClient;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  const failures = new Map<string, number>();
  let grid: LocalEventGrid;
  let topic: TopicServer;

  beforeAll(async () => {
    storage = await startAzurite();
    blobs = BlobServiceClient.fromConnectionString(storage.connectionString);
    webhook = await startWebhook(failures);
    grid = new LocalEventGrid({
      topicName: 'app-events',
      subscriptions: [
        { name: 'saga', functionName: 'onSagaEvent', includedEventTypes: ['MLOps.Saga.Promoted'] },
        { name: 'flaky', functionName: 'flaky', includedEventTypes: ['Test.Flaky'] },
        { name: 'broken', functionName: 'broken', includedEventTypes: ['Test.Broken'] },
      ],
      webhookUrl: (fn) => `${webhook.base}/runtime/webhooks/eventgrid?functionName=${fn}`,
      deadLetter: blobs.getContainerClient('eventgrid-deadletter'),
      retry: { maxDeliveryAttempts: 3, delaysMs: [5] },
    });
    topic = await startTopicServer(grid, { key });
  });

  afterAll(async () => {
    await topic.close();
    await grid.stop();
    await webhook.close();
    await storage.stop();
  });

  it('accepts EventGridPublisherClient posts and delivers them through the webhook with the service fields added', async () => {
    const client = new EventGridPublisherClient(topic.endpoint, 'EventGrid', new AzureKeyCredential(key), {
      allowInsecureConnection: true,
    });
    await client.send([
      {
        eventType: 'MLOps.Saga.Promoted',
        subject: 'models/demand/versions/3',
        dataVersion: '1.0',
        data: { v: 3 },
      },
    ]);
    await grid.idle();
    const got = webhook.received.filter((r) => r.functionName === 'onSagaEvent');
    expect(got).toHaveLength(1);
    expect(got[0]?.headers['aeg-event-type']).toBe('Notification');
    expect(got[0]?.headers['aeg-subscription-name']).toBe('SAGA');
    const [event] = await new EventGridDeserializer().deserializeEventGridEvents(
      JSON.stringify(got[0]?.events),
    );
    expect(event?.topic).toBe(grid.topicId);
    expect((got[0]?.events[0] as { metadataVersion?: string }).metadataVersion).toBe('1');
    expect(event?.data).toEqual({ v: 3 });
  });

  it('accepts a shared access signature and refuses a wrong key', async () => {
    const sas = await generateSharedAccessSignature(
      topic.endpoint,
      new AzureKeyCredential(key),
      new Date(Date.now() + 60_000),
    );
    const withSas = new EventGridPublisherClient(topic.endpoint, 'EventGrid', new AzureSASCredential(sas), {
      allowInsecureConnection: true,
    });
    await expect(
      withSas.send([{ eventType: 'Other', subject: 's', dataVersion: '1', data: {} }]),
    ).resolves.toBeDefined();
    const wrong = new EventGridPublisherClient(
      topic.endpoint,
      'EventGrid',
      new AzureKeyCredential('d3Jvbmc='),
      {
        allowInsecureConnection: true,
      },
    );
    await expect(
      wrong.send([{ eventType: 'Other', subject: 's', dataVersion: '1', data: {} }]),
    ).rejects.toMatchObject({
      statusCode: 401,
    });
  });

  it('answers 400 naming the missing field of a malformed event', async () => {
    const res = await fetch(topic.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-sas-key': key },
      body: JSON.stringify([{ id: '1', eventType: 'X', eventTime: new Date().toISOString(), data: {} }]),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("'subject'");
  });

  it('retries failed deliveries with a growing delivery count', async () => {
    failures.set('flaky', 2);
    grid.publish([event('Test.Flaky', 'e-flaky')]);
    await grid.idle();
    const attempts = webhook.received.filter((r) => r.functionName === 'flaky');
    expect(attempts.map((a) => a.headers['aeg-delivery-count'])).toEqual(['0', '1', '2']);
  });

  it('dead-letters an event after the last attempt, in the Event Grid blob layout', async () => {
    failures.set('broken', 100);
    grid.publish([event('Test.Broken', 'e-broken')]);
    await grid.idle();
    const names: string[] = [];
    for await (const b of blobs.getContainerClient('eventgrid-deadletter').listBlobsFlat())
      names.push(b.name);
    const name = names.find((n) => n.endsWith('/e-broken.json'));
    expect(name).toMatch(/^APP-EVENTS\/BROKEN\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/e-broken\.json$/);
    const body = JSON.parse(
      (
        await blobs
          .getContainerClient('eventgrid-deadletter')
          .getBlobClient(name ?? '')
          .downloadToBuffer()
      ).toString(),
    ) as Record<string, unknown>[];
    expect(body[0]).toMatchObject({
      id: 'e-broken',
      deadLetterReason: 'MaxDeliveryAttemptsExceeded',
      deliveryAttempts: 3,
      lastHttpStatusCode: 500,
    });
  });

  it('filters by event type, topic and subject, ignoring case', () => {
    const e = {
      topic: '/subscriptions/x/t',
      subject: '/blobServices/default/containers/raw/blobs/a.CSV',
      eventType: 'Microsoft.Storage.BlobCreated',
    };
    expect(
      matchesSubscription(
        {
          name: 'a',
          functionName: 'f',
          subjectBeginsWith: '/blobServices/default/containers/raw/',
          subjectEndsWith: '.csv',
        },
        e,
      ),
    ).toBe(true);
    expect(
      matchesSubscription(
        { name: 'a', functionName: 'f', subjectBeginsWith: '/blobServices/default/containers/models/' },
        e,
      ),
    ).toBe(false);
    expect(
      matchesSubscription(
        { name: 'a', functionName: 'f', includedEventTypes: ['microsoft.storage.blobcreated'] },
        e,
      ),
    ).toBe(true);
    expect(matchesSubscription({ name: 'a', functionName: 'f', topics: ['/subscriptions/y/t'] }, e)).toBe(
      false,
    );
  });

  describe('blob watcher', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'blobwatch-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('emits BlobCreated with the real schema for new and rewritten blobs only, and catches up after a restart', async () => {
      const raw = blobs.getContainerClient('raw');
      await raw.createIfNotExists();
      await raw.getBlockBlobClient('existing.csv').upload('old', 3);
      const emitted: EventGridEvent[] = [];
      const stateFile = path.join(dir, 'state.json');
      const watcher = new BlobWatcher({
        service: blobs,
        containers: ['raw'],
        emit: (e) => emitted.push(...e),
        stateFile,
        intervalMs: 60_000,
      });
      await watcher.start();
      await watcher.stop();
      expect(emitted).toHaveLength(0);

      await raw
        .getBlockBlobClient('2026/01/05/clicks.csv.gz')
        .upload('a,b\n1,2\n', 8, { blobHTTPHeaders: { blobContentType: 'text/csv' } });
      await watcher.scan();
      expect(await watcher.scan()).toHaveLength(0);
      expect(emitted).toHaveLength(1);
      const [created] = await new EventGridDeserializer().deserializeEventGridEvents(JSON.stringify(emitted));
      expect(created?.eventType).toBe('Microsoft.Storage.BlobCreated');
      expect(created?.subject).toBe('/blobServices/default/containers/raw/blobs/2026/01/05/clicks.csv.gz');
      expect(created?.topic).toMatch(
        /^\/subscriptions\/.+\/providers\/Microsoft\.Storage\/storageAccounts\/devstoreaccount1$/,
      );
      expect(created?.data).toMatchObject({
        api: 'PutBlob',
        contentLength: 8,
        contentType: 'text/csv',
        blobType: 'BlockBlob',
      });
      const data = created?.data as { eTag: string; url: string };
      expect(data.url).toBe(raw.getBlobClient('2026/01/05/clicks.csv.gz').url);
      expect(data.eTag).toBe((await raw.getBlobClient('2026/01/05/clicks.csv.gz').getProperties()).etag);

      await raw.getBlockBlobClient('existing.csv').upload('rewritten', 9);
      const restarted = new BlobWatcher({
        service: blobs,
        containers: ['raw'],
        emit: (e) => emitted.push(...e),
        stateFile,
        intervalMs: 60_000,
      });
      await restarted.start();
      await restarted.stop();
      expect(emitted.map((e) => e.subject)).toEqual([
        '/blobServices/default/containers/raw/blobs/2026/01/05/clicks.csv.gz',
        '/blobServices/default/containers/raw/blobs/existing.csv',
      ]);
      const sequencers = emitted.map((e) => (e.data as { sequencer: string }).sequencer);
      expect([...sequencers].sort()).toEqual(sequencers);
    });
  });
});

function event(eventType: string, id: string): EventGridEvent {
  return {
    id,
    topic: '/subscriptions/0/t',
    subject: 's',
    eventType,
    eventTime: new Date().toISOString(),
    data: {},
    dataVersion: '1',
    metadataVersion: '1',
  };
}
