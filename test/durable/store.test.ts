import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAzurite, type TestAzurite } from './support/azurite.js';
import { DurableHubError } from '../../local/durable/errors.js';
import { events } from '../../local/durable/history.js';
import { TaskHubStore } from '../../local/durable/store.js';

let azurite: TestAzurite;
let store: TaskHubStore;
beforeAll(async () => {
  azurite = await startTestAzurite();
  store = new TaskHubStore(azurite.connectionString, 'StoreTests');
  await store.ensureCreated();
});
afterAll(async () => {
  await azurite?.stop();
});

describe('task hub store', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const scheduled = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => events.taskScheduled(now, from + i, `step${from + i}`, '[null]'));

  it('appends history atomically behind the sentinel ETag and refuses a stale writer', async () => {
    const first = await store.appendHistory('i1', 'e1', 0, scheduled(0, 3), '{"n":1}', null);
    const second = await store.appendHistory('i1', 'e1', 3, scheduled(3, 250), '{"n":2}', first);
    expect(second).not.toBe(first);
    await expect(
      store.appendHistory('i1', 'e1', 253, scheduled(253, 1), '{"n":3}', first),
    ).rejects.toMatchObject({
      code: 'DURABLE_CONFLICT',
    });
    await expect(store.appendHistory('i1', 'e1', 0, scheduled(0, 1), '{}', null)).rejects.toBeInstanceOf(
      DurableHubError,
    );
    const loaded = (await store.loadHistory('i1'))!;
    expect(loaded.events).toHaveLength(253);
    expect(loaded.events[252]).toMatchObject({ EventType: 4, EventId: 252, Name: 'step252' });
    expect(loaded.engineState).toBe('{"n":2}');
    expect(loaded.etag).toBe(second);
  });

  it('keeps values over 45 KB in the large-message container and reads them back', async () => {
    const big = JSON.stringify('x'.repeat(100_000));
    await store.appendHistory('big', 'e1', 0, [events.taskCompleted(now, 0, big)], 'x'.repeat(60_000), null);
    const loaded = (await store.loadHistory('big'))!;
    expect(loaded.events[0]!.Result).toBe(big);
    expect(loaded.engineState).toHaveLength(60_000);
    const blobs: string[] = [];
    for await (const blob of store.largeMessages.listBlobsFlat({ prefix: 'big/' })) blobs.push(blob.name);
    expect(blobs.length).toBe(2);
  });
});
