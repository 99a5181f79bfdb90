/**
 * Event data as the triggers read it. Azure ML sends PascalCase data in practice while the schema and SDK
 * types say camelCase, and CloudEvents use other envelope names, so every read is case-insensitive.
 */

/** A malformed event: the message says what is missing. Thrown so Event Grid retries and dead-letters it. */
export class MalformedEventError extends Error {
  readonly code = 'MALFORMED_EVENT';
}

/** The fields of an Event Grid or CloudEvents event the triggers use. */
export interface EventEnvelope {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads a property ignoring case (`ModelName`, `modelName`, `modelname`). */
export function field(data: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(data)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** Normalises an Event Grid-schema or CloudEvents event; throws {@link MalformedEventError} naming what is wrong. */
export function envelope(event: unknown): EventEnvelope {
  if (!isRecord(event)) throw new MalformedEventError('The event is not an object.');
  const id = event.id;
  const type = event.eventType ?? event.type;
  if (typeof id !== 'string' || !id) throw new MalformedEventError('The event has no id.');
  if (typeof type !== 'string' || !type) throw new MalformedEventError(`Event ${id} has no eventType.`);
  const data = event.data;
  if (!isRecord(data)) throw new MalformedEventError(`Event ${id} (${type}) has no data object.`);
  return { id, type, subject: typeof event.subject === 'string' ? event.subject : '', data };
}

/** A string field, or an error naming it. Numbers are accepted and turned into strings (ModelVersion: 20). */
export function requiredString(e: EventEnvelope, name: string): string {
  const value = field(e.data, name);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new MalformedEventError(`Event ${e.id} (${e.type}) has no data.${name}.`);
  }
  return value;
}

/** Container and blob path from a BlobCreated event (its subject, else its data.url). */
export function blobOf(e: EventEnvelope): { container: string; path: string } {
  const subject = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(e.subject);
  if (subject) return { container: subject[1]!, path: decodeURIComponent(subject[2]!) };
  const url = field(e.data, 'url');
  if (typeof url === 'string') {
    try {
      const parts = new URL(url).pathname.split('/').filter(Boolean);
      // Azurite URLs carry the account name first: /devstoreaccount1/{container}/{path}.
      const start = parts[0] === 'devstoreaccount1' ? 1 : 0;
      const container = parts[start];
      const path = parts.slice(start + 1).join('/');
      if (container && path) return { container, path: decodeURIComponent(path) };
    } catch {
      // fall through to the error below, which names the event
    }
  }
  throw new MalformedEventError(
    `BlobCreated event ${e.id} names no blob (subject "${e.subject}", no data.url).`,
  );
}
