import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FunctionInvocationError } from '../core/invoker.js';
import type { RegisteredFunction } from '../core/registry.js';
import type { RpcTypedData } from '../core/types.js';
import type { HostContext, HostExtension } from '../extension.js';
import { bodyBytes, withRawBodies } from './rawBody.js';

/** Path of the Event Grid webhook, as on the Functions host. */
export const eventGridWebhookPath = '/runtime/webhooks/eventgrid';

/** An Event Grid delivery the host refuses; `status` is the HTTP answer and the message its body. */
export class EventGridRequestError extends Error {
  readonly code = 'BAD_EVENTGRID_REQUEST';
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const eventGridRequired = ['id', 'subject', 'eventType', 'eventTime'] as const;
const cloudEventRequired = ['specversion', 'id', 'source', 'type'] as const;

/** Checks one event against the Event Grid schema or CloudEvents 1.0 (chosen by `specversion`). */
export function validateEvent(event: unknown, index: number): JsonObject {
  if (!isObject(event)) throw new EventGridRequestError(400, `Event ${index} is not a JSON object.`);
  const cloud = 'specversion' in event;
  const required = cloud ? cloudEventRequired : eventGridRequired;
  const missing = required.filter((field) => typeof event[field] !== 'string' || event[field] === '');
  // subject may be empty in the Event Grid schema, but must be present
  const reallyMissing = cloud ? missing : missing.filter((f) => !(f === 'subject' && event.subject === ''));
  if (reallyMissing.length) {
    throw new EventGridRequestError(
      400,
      `Event ${index} (${cloud ? 'CloudEvents 1.0' : 'Event Grid schema'}) is missing required field(s): ${reallyMissing.join(', ')}.`,
    );
  }
  if (cloud && event.specversion !== '1.0') {
    throw new EventGridRequestError(
      400,
      `Event ${index} has specversion "${String(event.specversion)}"; only 1.0 is supported.`,
    );
  }
  const time = cloud ? event.time : event.eventTime;
  if (time !== undefined && (typeof time !== 'string' || Number.isNaN(Date.parse(time)))) {
    throw new EventGridRequestError(400, `Event ${index} has an invalid ${cloud ? 'time' : 'eventTime'}.`);
  }
  return event;
}

/** Parses a webhook body: malformed JSON and non-object payloads are 400 with the reason. */
export function parseEventPayload(body: Buffer): unknown {
  if (body.length === 0) throw new EventGridRequestError(400, 'The request body is empty.');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new EventGridRequestError(400, `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The validation code of a SubscriptionValidation request (Event Grid array or CloudEvent with string data). */
export function validationCodeOf(payload: unknown): string {
  const first = Array.isArray(payload) ? (payload[0] as unknown) : payload;
  if (!isObject(first)) throw new EventGridRequestError(400, 'The validation request carries no event.');
  let data = first.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data) as unknown;
    } catch {
      throw new EventGridRequestError(400, 'The validation event data is not valid JSON.');
    }
  }
  const code = isObject(data) ? data.validationCode : undefined;
  if (typeof code !== 'string' || !code) {
    throw new EventGridRequestError(400, 'The validation event has no data.validationCode.');
  }
  return code;
}

/** Binding data the host attaches to an Event Grid invocation (AFL camel-cases it into triggerMetadata). */
function triggerMetadataOf(
  event: JsonObject,
  fn: RegisteredFunction,
  invocationTime: Date,
): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    metadata[key] = typeof value === 'string' ? { string: value } : { json: JSON.stringify(value) };
  }
  metadata.sys = {
    json: JSON.stringify({
      MethodName: fn.name,
      UtcNow: invocationTime.toISOString(),
      RandGuid: randomUUID(),
    }),
  };
  return metadata;
}

const knownOrigins = /(^|\.)eventgrid\.azure\.(net|us|cn)$/i;

/**
 * Built-in Event Grid trigger extension: `POST /runtime/webhooks/eventgrid?functionName=NAME` answers the
 * validation handshake, invokes the function once per event (in parallel) and answers 202, or 500 with the
 * first failure so the sender retries. Keys are not enforced here, as with `func start`.
 */
export function eventGridExtension(): HostExtension {
  let ctx: HostContext | undefined;

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!ctx) throw new Error('The Event Grid extension was not initialised.');
    try {
      return await dispatch(ctx, request, reply);
    } catch (err) {
      if (err instanceof EventGridRequestError) {
        ctx.logger.warn('Event Grid request refused', { status: err.status, reason: err.message });
        return reply.code(err.status).type('text/plain; charset=utf-8').send(err.message);
      }
      throw err;
    }
  };

  return {
    name: 'eventGrid',
    triggerTypes: ['eventGridTrigger'],
    init(context) {
      ctx = context;
      withRawBodies(context.http, (scope) => {
        for (const url of [eventGridWebhookPath, '/runtime/webhooks/EventGrid']) {
          scope.route({ method: ['POST', 'OPTIONS'], url, handler: handle });
        }
      });
    },
    describe(functionName) {
      return `eventGridTrigger ${ctx?.baseUrl() ?? ''}${eventGridWebhookPath}?functionName=${encodeURIComponent(functionName)}`;
    },
  };
}

async function dispatch(
  ctx: HostContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (request.method === 'OPTIONS') {
    // CloudEvents abuse-protection handshake
    const origin = request.headers['webhook-request-origin'];
    const allowed = typeof origin === 'string' && knownOrigins.test(origin) ? origin : 'eventgrid.azure.net';
    return reply.code(200).header('webhook-allowed-origin', allowed).send();
  }
  const functionName = new URL(request.url, 'http://127.0.0.1').searchParams.get('functionName') ?? '';
  const fn = functionName ? ctx.registry.find(functionName) : undefined;
  if (!fn || fn.triggerType !== 'eventgridtrigger') {
    throw new EventGridRequestError(400, `cannot find function: '${functionName}'`);
  }
  const eventType = request.headers['aeg-event-type'];
  if (typeof eventType !== 'string' || !eventType) {
    throw new EventGridRequestError(
      400,
      'Missing the aeg-event-type header (Notification, SubscriptionValidation or Unsubscribe).',
    );
  }
  switch (eventType.toLowerCase()) {
    case 'subscriptionvalidation': {
      const code = validationCodeOf(parseEventPayload(bodyBytes(request)));
      ctx.logger.info('Event Grid subscription validated', { function: fn.name });
      return reply.code(200).send({ validationResponse: code });
    }
    case 'unsubscribe':
      return reply.code(202).send();
    case 'notification':
      break;
    default:
      throw new EventGridRequestError(400, `Unknown aeg-event-type "${eventType}".`);
  }

  const payload = parseEventPayload(bodyBytes(request));
  const list: unknown[] = Array.isArray(payload) ? payload : [payload];
  const events = list.map(validateEvent);
  const invocationTime = ctx.clock.now();
  const host = ctx;
  const results = await Promise.allSettled(
    events.map((event) =>
      host.invoker.invoke(fn, {
        triggerData: { json: JSON.stringify(event) },
        triggerMetadata: triggerMetadataOf(event, fn, invocationTime),
      }),
    ),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    const reason = failure.reason as unknown;
    if (!(reason instanceof FunctionInvocationError)) throw reason;
    return reply.code(500).type('text/plain; charset=utf-8').send(reason.message);
  }
  return reply.code(202).send();
}
