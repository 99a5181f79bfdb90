/**
 * Event Grid schema events as the service delivers them, and the `Microsoft.Storage.BlobCreated` event the
 * blob watcher synthesizes (Azurite emits no events). Field names follow the published schema exactly.
 */
import { randomUUID } from 'node:crypto';

/** An event in the Event Grid schema, as delivered to subscribers. */
export interface EventGridEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: unknown;
  dataVersion: string;
  metadataVersion: '1';
}

/** A subscriber's view of one event as the app published it (topic and metadataVersion still missing). */
export interface IncomingEvent {
  id?: unknown;
  topic?: unknown;
  subject?: unknown;
  eventType?: unknown;
  eventTime?: unknown;
  data?: unknown;
  dataVersion?: unknown;
  metadataVersion?: unknown;
}

/** Why a published event was refused. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  readonly code = 'InvalidEvent';
}

const requiredStrings = ['id', 'subject', 'eventType', 'eventTime'] as const;

/**
 * Completes an event the way Event Grid does when it accepts a publish: the topic is the topic's own
 * ARM id, `metadataVersion` is "1", `dataVersion` defaults to "". A topic the publisher set must match.
 */
export function acceptPublishedEvent(raw: unknown, topic: string, index: number): EventGridEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EventValidationError(`Event ${index} is not a JSON object.`);
  }
  const e = raw as IncomingEvent;
  for (const key of requiredStrings) {
    if (typeof e[key] !== 'string' || (e[key] as string).length === 0) {
      throw new EventValidationError(`Event ${index} is missing required property '${key}'.`);
    }
  }
  if (Number.isNaN(Date.parse(e.eventTime as string))) {
    throw new EventValidationError(
      `Event ${index} has an eventTime that is not a date: '${String(e.eventTime)}'.`,
    );
  }
  if (e.topic !== undefined && e.topic !== topic) {
    throw new EventValidationError(
      `Event ${index} names topic '${String(e.topic)}', not this topic '${topic}'.`,
    );
  }
  if (e.dataVersion !== undefined && typeof e.dataVersion !== 'string') {
    throw new EventValidationError(`Event ${index} has a dataVersion that is not a string.`);
  }
  return {
    id: e.id as string,
    topic,
    subject: e.subject as string,
    eventType: e.eventType as string,
    eventTime: e.eventTime as string,
    data: e.data ?? {},
    dataVersion: (e.dataVersion as string | undefined) ?? '',
    metadataVersion: '1',
  };
}

/** A system event (storage, Azure ML) that already carries its source topic. */
export function acceptSystemEvent(raw: unknown, index: number): EventGridEvent {
  const topic = (raw as IncomingEvent | null)?.topic;
  if (typeof topic !== 'string' || !topic.startsWith('/subscriptions/')) {
    throw new EventValidationError(`System event ${index} must carry its source topic (an ARM resource id).`);
  }
  return acceptPublishedEvent(raw, topic, index);
}

/** The ARM id the local storage account poses as. */
export function storageAccountTopic(
  account: string,
  subscriptionId = '00000000-0000-0000-0000-000000000000',
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/${account}`;
}

/** What the watcher knows about a committed blob. */
export interface CommittedBlob {
  account: string;
  container: string;
  path: string;
  url: string;
  etag: string;
  contentType: string;
  contentLength: number;
  blobType: 'BlockBlob' | 'AppendBlob' | 'PageBlob';
}

/** A `Microsoft.Storage.BlobCreated` event with the real schema. */
export function blobCreatedEvent(blob: CommittedBlob, sequencer: string, now: Date): EventGridEvent {
  const requestId = randomUUID();
  return {
    id: requestId,
    topic: storageAccountTopic(blob.account),
    subject: `/blobServices/default/containers/${blob.container}/blobs/${blob.path}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: now.toISOString(),
    data: {
      api: 'PutBlob',
      clientRequestId: randomUUID(),
      requestId,
      eTag: blob.etag,
      contentType: blob.contentType,
      contentLength: blob.contentLength,
      blobType: blob.blobType,
      accessTier: 'Default',
      url: blob.url,
      sequencer,
      storageDiagnostics: { batchId: randomUUID() },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}
