import { describe, expect, it } from 'vitest';
import type { EventGridEvent } from '../../local/eventgrid/schema.js';
import { EventOutbox } from './eventOutbox.js';

const event = (id: string): EventGridEvent => ({
  id,
  topic: '/subscriptions/0/t',
  subject: 's',
  eventType: 'T',
  eventTime: new Date(0).toISOString(),
  data: {},
  dataVersion: '1',
  metadataVersion: '1',
});

describe('EventOutbox', () => {
  it('keeps events while the Event Grid is down and delivers them in order once it is back', async () => {
    const delivered: string[] = [];
    let failures = 2;
    const errors: number[] = [];
    const outbox = new EventOutbox({
      send: async (events) => {
        if (failures-- > 0) throw new Error('connection refused');
        delivered.push(...events.map((e) => e.id));
      },
      onError: (_err, pending) => errors.push(pending),
      initialDelayMs: 1,
      maxDelayMs: 4,
    });
    await outbox.enqueue([event('a')]);
    await outbox.enqueue([event('b'), event('c')]);
    expect(delivered).toEqual([]);
    for (let i = 0; i < 100 && outbox.pending > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(delivered).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual([1, 3]);
  });

  it('hands back what is undelivered when stopped', async () => {
    const outbox = new EventOutbox({ send: () => Promise.reject(new Error('down')), initialDelayMs: 60_000 });
    await outbox.enqueue([event('x')]);
    expect(outbox.stop().map((e) => e.id)).toEqual(['x']);
    expect(outbox.pending).toBe(0);
  });
});
