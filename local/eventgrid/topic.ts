/**
 * The topic endpoint: what `EventGridPublisherClient` posts to. `POST {prefix}/api/events` takes events for
 * the custom topic (key in `aeg-sas-key` or a SAS in `aeg-sas-token`, as the service checks them);
 * `POST {prefix}/api/system-events` takes complete system events from local stand-ins of Azure services
 * (the local ML platform), which carry their own source topic.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LocalEventGrid } from './grid.js';
import {
  acceptPublishedEvent,
  acceptSystemEvent,
  EventValidationError,
  type EventGridEvent,
} from './schema.js';

/** Event Grid's limit on one publish request. */
const maxPublishBytes = 1024 * 1024;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a SAS made by `generateSharedAccessSignature` (HMAC-SHA256 over `r=...&e=...` with the base64 key). */
export function verifySharedAccessSignature(token: string, key: string, now: Date): boolean {
  const m = /^(r=[^&]*&e=([^&]*))&s=([^&]*)$/.exec(token);
  if (!m) return false;
  const [, unsigned = '', expiry = '', signature = ''] = m;
  const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(unsigned).digest('base64');
  if (!sameSecret(decodeURIComponent(signature), expected)) return false;
  const expiresAt = Date.parse(`${decodeURIComponent(expiry)} UTC`);
  return Number.isFinite(expiresAt) && expiresAt > now.getTime();
}

function armError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

function authorized(req: FastifyRequest, key: string): boolean {
  const sasKey = req.headers['aeg-sas-key'];
  if (typeof sasKey === 'string') return sameSecret(sasKey, key);
  const sasToken = req.headers['aeg-sas-token'];
  if (typeof sasToken === 'string') return verifySharedAccessSignature(sasToken, key, new Date());
  return false;
}

/** Adds the topic routes to a fastify server. */
export function registerTopicRoutes(
  app: FastifyInstance,
  grid: LocalEventGrid,
  options: { key: string; prefix?: string },
): void {
  const prefix = options.prefix ?? '';
  const handle =
    (accept: (raw: unknown, index: number) => EventGridEvent) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      if (!authorized(req, options.key)) {
        return armError(
          reply,
          401,
          'Unauthorized',
          'The request authorization key is not authorized for this topic.',
        );
      }
      const body = req.body;
      const items = Array.isArray(body) ? body : [body];
      let events: EventGridEvent[];
      try {
        events = items.map((raw, i) => accept(raw, i));
      } catch (err) {
        if (err instanceof EventValidationError) return armError(reply, 400, 'BadRequest', err.message);
        throw err;
      }
      grid.publish(events);
      return reply.code(200).send();
    };
  app.post(
    `${prefix}/api/events`,
    { bodyLimit: maxPublishBytes },
    handle((raw, i) => acceptPublishedEvent(raw, grid.topicId, i)),
  );
  app.post(`${prefix}/api/system-events`, { bodyLimit: maxPublishBytes }, handle(acceptSystemEvent));
}

/** A topic endpoint running on its own loopback server. */
export interface TopicServer {
  /** Pass to `EventGridPublisherClient` (with `allowInsecureConnection: true`). */
  endpoint: string;
  /** Where local platform stand-ins post their system events. */
  systemEndpoint: string;
  close(): Promise<void>;
}

/** Starts the topic endpoint on 127.0.0.1 (port 0 = ephemeral). */
export async function startTopicServer(
  grid: LocalEventGrid,
  options: { key: string; port?: number },
): Promise<TopicServer> {
  const app = Fastify({ logger: false });
  registerTopicRoutes(app, grid, { key: options.key });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const base = `http://127.0.0.1:${port}`;
  return {
    endpoint: `${base}/api/events`,
    systemEndpoint: `${base}/api/system-events`,
    close: () => app.close(),
  };
}

/** Posts complete system events to a local topic's system endpoint (used by the local ML platform). */
export async function postSystemEvents(
  systemEndpoint: string,
  key: string,
  events: EventGridEvent[],
): Promise<void> {
  const res = await fetch(systemEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'aeg-sas-key': key },
    body: JSON.stringify(events),
  });
  if (res.status !== 200) {
    throw new Error(
      `Local Event Grid refused ${events.length} system event(s): HTTP ${res.status} ${await res.text()}`,
    );
  }
}
