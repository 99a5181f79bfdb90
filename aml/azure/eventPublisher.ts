/** Event publishing over `@azure/eventgrid`; the local Event Grid topic accepts the same client. */
import { type EventGridPublisherClient, type SendEventGridEventInput } from '@azure/eventgrid';
import type { EventPublisher, PublishedEvent } from '../port.js';

/** Publishes app events to one Event Grid topic (Event Grid schema). */
export class EventGridTopicPublisher implements EventPublisher {
  constructor(private readonly client: EventGridPublisherClient<'EventGrid'>) {}

  async publish(events: PublishedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const batch: SendEventGridEventInput<unknown>[] = events.map((e) => ({
      eventType: e.eventType,
      subject: e.subject,
      data: e.data,
      dataVersion: e.dataVersion ?? '1.0',
      ...(e.id ? { id: e.id } : {}),
    }));
    await this.client.send(batch);
  }
}
