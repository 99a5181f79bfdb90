import { odata } from '@azure/data-tables';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FunctionRegistry } from '../core/registry.js';
import { durableClientPayload } from './clientBinding.js';
import type { DurableEngine } from './engine.js';
import { DurableHubError } from './errors.js';
import {
  events,
  OrchestrationStatus,
  terminalStatuses,
  type HistoryEvent,
  type RuntimeStatus,
} from './history.js';
import { statusBody } from './statusView.js';
import type { InstanceRecord, TaskHubStore } from './store.js';

/**
 * The Durable Functions HTTP management API at /runtime/webhooks/durabletask (EXT `HttpApiHandler`), with
 * its status codes (§6.2). The JS durable client reaches it through `rpcBaseUrl`.
 */

export const webhookPrefix = '/runtime/webhooks/durabletask';

interface ApiDeps {
  engine: DurableEngine;
  store: TaskHubStore;
  registry: FunctionRegistry;
  hubName: string;
  systemKey: () => string;
}

type Req = FastifyRequest<{
  Params: Record<string, string>;
  Querystring: Record<string, string | undefined>;
}>;

class BadRequest extends DurableHubError {
  constructor(message: string) {
    super('DURABLE_BAD_REQUEST', message);
  }
}

const runtimeStatuses = Object.keys(OrchestrationStatus) as RuntimeStatus[];
const maxInstanceIdLength = 256;

function parseJsonBody(body: unknown): unknown {
  const text = typeof body === 'string' ? body : '';
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequest(`Invalid JSON content: ${(err as Error).message}`);
  }
}

function validateInstanceId(id: string): void {
  if (id.length === 0 || id.length > maxInstanceIdLength) {
    throw new BadRequest(`Instance ID lengths must be between 1 and ${maxInstanceIdLength} characters.`);
  }
  if (id.startsWith('@')) throw new BadRequest(`Orchestration instance ids must not start with @.`);
  // eslint-disable-next-line no-control-regex
  if (/[/\\?#\u0000-\u001f\u007f]/.test(id)) {
    throw new BadRequest(
      `Instance ID '${id}' contains invalid characters ('/', '\\', '?', '#' or control characters).`,
    );
  }
}

function parseDate(query: Record<string, string | undefined>, name: string): Date | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime()))
    throw new BadRequest(`The '${name}' parameter value '${raw}' is not a valid date.`);
  return date;
}

function parseStatuses(query: Record<string, string | undefined>): RuntimeStatus[] {
  const raw = query.runtimeStatus;
  if (!raw) return [];
  return raw.split(',').map((s) => {
    const match = runtimeStatuses.find((r) => r.toLowerCase() === s.trim().toLowerCase());
    if (!match)
      throw new BadRequest(`The 'runtimeStatus' parameter value '${s}' is not a valid runtime status.`);
    return match;
  });
}

function parseFlag(query: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw new BadRequest(`The '${name}' parameter value '${raw}' is not a valid boolean.`);
}

function parsePositiveInt(query: Record<string, string | undefined>, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new BadRequest(`The '${name}' parameter value '${raw}' is not a positive integer.`);
  return n;
}

/** OData filter for the list and purge queries. */
function instanceFilter(p: {
  from?: Date;
  to?: Date;
  statuses: RuntimeStatus[];
  prefix?: string;
}): string | undefined {
  const parts: string[] = [];
  if (p.from) parts.push(odata`CreatedTime ge ${p.from}`);
  if (p.to) parts.push(odata`CreatedTime le ${p.to}`);
  if (p.statuses.length > 0)
    parts.push(`(${p.statuses.map((s) => odata`RuntimeStatus eq ${s}`).join(' or ')})`);
  if (p.prefix) parts.push(odata`PartitionKey ge ${p.prefix} and PartitionKey lt ${`${p.prefix}\uffff`}`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

/** The check-status payload for an instance (`createCheckStatusResponse` body). */
export function checkStatusPayload(originUrl: string, hubName: string, key: string, instanceId: string) {
  const urls = durableClientPayload(originUrl, hubName, key).managementUrls;
  return Object.fromEntries(
    Object.entries(urls).map(([k, v]) => [k, v.replace('INSTANCEID', encodeURIComponent(instanceId))]),
  );
}

/** Registers the management routes in their own encapsulated scope (their own body parsing). */
export function registerDurableHttpApi(http: FastifyInstance, deps: ApiDeps): void {
  const { engine, store, registry, hubName } = deps;

  const checkStatus = (req: FastifyRequest, reply: FastifyReply, instanceId: string) => {
    const payload = checkStatusPayload(origin(req), hubName, deps.systemKey(), instanceId);
    return reply
      .code(202)
      .header('Content-Type', 'application/json')
      .header('Location', payload.statusQueryGetUri)
      .header('Retry-After', '10')
      .send(payload);
  };

  const requireInstance = async (reply: FastifyReply, id: string) => {
    const found = await store.getInstance(id);
    if (!found) {
      await reply.code(404).type('text/plain').send(`No instance with ID '${id}' found.`);
      return undefined;
    }
    return found;
  };

  const start = async (req: Req, reply: FastifyReply, name: string, instanceId: string, input: unknown) => {
    const fn = registry.find(name);
    if (!fn || fn.triggerType !== 'orchestrationtrigger') {
      const known = registry.byTriggerType('orchestrationTrigger').map((f) => f.name);
      return reply
        .code(400)
        .type('text/plain')
        .send(
          `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: ` +
            (known.length
              ? `The following are the known orchestrator functions: '${known.join("', '")}'.`
              : 'No orchestrator functions are currently registered!'),
        );
    }
    validateInstanceId(instanceId);
    const input_ = JSON.stringify(input ?? null);
    // Create first: a new id costs one write; only an existing id is read and checked.
    for (let attempt = 0; ; attempt++) {
      try {
        await engine.createInstance({ instanceId, name: fn.name, input: input_, parent: null }, undefined);
        break;
      } catch (err) {
        if (!(err instanceof DurableHubError && err.code === 'DURABLE_CONFLICT') || attempt > 2) throw err;
      }
      const existing = await store.getInstance(instanceId);
      if (!existing) continue;
      if (!terminalStatuses.has(existing.record.runtimeStatus)) {
        // EXT default overridableExistingInstanceStates = NonRunningStates: the generic handler answers 500.
        return reply
          .code(500)
          .type('text/plain')
          .send(`An Orchestration instance with the status ${existing.record.runtimeStatus} already exists.`);
      }
      await engine.forget(instanceId);
      try {
        await engine.createInstance(
          { instanceId, name: fn.name, input: input_, parent: null },
          existing.etag,
        );
        break;
      } catch (err) {
        if (!(err instanceof DurableHubError && err.code === 'DURABLE_CONFLICT') || attempt > 2) throw err;
      }
    }
    const timeout = parsePositiveInt(req.query, 'timeout');
    if (timeout !== undefined) {
      const interval = (parsePositiveInt(req.query, 'pollingInterval') ?? 1) * 1000;
      const deadline = Date.now() + timeout * 1000;
      while (Date.now() < deadline) {
        const now = await store.getInstance(instanceId);
        if (now && terminalStatuses.has(now.record.runtimeStatus)) {
          const body = statusBody(now.record, { showInput: true });
          return now.record.runtimeStatus === 'Completed'
            ? reply.code(200).send(body.output)
            : reply.code(200).send(body);
        }
        await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
      }
    }
    return checkStatus(req, reply, instanceId);
  };

  const sendToInstance = async (reply: FastifyReply, id: string, make: () => HistoryEvent) => {
    const found = await requireInstance(reply, id);
    if (!found) return reply;
    if (terminalStatuses.has(found.record.runtimeStatus)) {
      return reply
        .code(410)
        .type('text/plain')
        .send(`Instance '${id}' is ${found.record.runtimeStatus}: it takes no more messages.`);
    }
    await store.sendControl({ instanceId: id, event: make() });
    engine.kick();
    return reply.code(202).send();
  };

  const purge = async (records: InstanceRecord[]): Promise<number> => {
    let deleted = 0;
    for (const r of records) {
      if (!terminalStatuses.has(r.runtimeStatus)) continue;
      await engine.forget(r.instanceId);
      await store.purgeInstance(r.instanceId);
      deleted++;
    }
    return deleted;
  };

  const listAll = async (filter: string | undefined): Promise<InstanceRecord[]> => {
    const out: InstanceRecord[] = [];
    let token: string | undefined;
    do {
      const page = await store.listInstances(filter, 1000, token, false);
      out.push(...page.records);
      token = page.continuationToken;
    } while (token);
    return out;
  };

  void http.register(
    async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'string', bodyLimit: 100 * 1024 * 1024 },
        (_req, body, done) => done(null, body),
      );
      scope.setErrorHandler(async (err: Error, _req, reply) => {
        if (err instanceof DurableHubError && err.code === 'DURABLE_BAD_REQUEST') {
          return reply.code(400).type('text/plain').send(err.message);
        }
        if (err instanceof DurableHubError && err.code === 'DURABLE_CONFLICT') {
          return reply.code(409).type('text/plain').send(err.message);
        }
        const status = (err as { statusCode?: number }).statusCode;
        if (status && status >= 400 && status < 500)
          return reply.code(status).type('text/plain').send(err.message);
        engine.logger.error('Durable HTTP API request failed', { error: err.message });
        return reply.code(500).type('text/plain').send(err.message);
      });

      const startRoute = async (req: Req, reply: FastifyReply) =>
        start(
          req,
          reply,
          req.params.name!,
          req.params.instanceId ?? crypto.randomUUID().replaceAll('-', ''),
          parseJsonBody(req.body),
        );
      scope.post('/orchestrators/:name', startRoute);
      scope.post('/orchestrators/:name/:instanceId', startRoute);

      scope.get('/instances/:id', async (req: Req, reply) => {
        const id = req.params.id!;
        const showHistory = parseFlag(req.query, 'showHistory', false);
        const showHistoryOutput = parseFlag(req.query, 'showHistoryOutput', false);
        const showInput = parseFlag(req.query, 'showInput', true);
        const failAs500 = parseFlag(req.query, 'returnInternalServerErrorOnFailure', false);
        const found = await requireInstance(reply, id);
        if (!found) return reply;
        const record = found.record;
        let history;
        if (showHistory) {
          const stored = await store.loadHistory(id);
          history = stored && stored.executionId === record.executionId ? stored.events : [];
        }
        const body = statusBody(record, { showInput, ...(history ? { history, showHistoryOutput } : {}) });
        const status = record.runtimeStatus;
        if (terminalStatuses.has(status))
          return reply.code(status === 'Failed' && failAs500 ? 500 : 200).send(body);
        return reply
          .code(202)
          .header('Location', `${origin(req)}${req.url}`)
          .header('Retry-After', '5')
          .send(body);
      });

      const list = async (req: Req, reply: FastifyReply) => {
        const filter = instanceFilter({
          from: parseDate(req.query, 'createdTimeFrom'),
          to: parseDate(req.query, 'createdTimeTo'),
          statuses: parseStatuses(req.query),
          prefix: req.query.instanceIdPrefix,
        });
        const showInput = parseFlag(req.query, 'showInput', true);
        const top = parsePositiveInt(req.query, 'top') ?? 100;
        const token = req.headers['x-ms-continuation-token'];
        const page = await store.listInstances(
          filter,
          top,
          typeof token === 'string' && token ? token : undefined,
          showInput,
        );
        return reply
          .header('x-ms-continuation-token', page.continuationToken ?? '')
          .send(page.records.map((r) => statusBody(r, { showInput })));
      };
      scope.get('/instances', list);
      scope.get('/instances/', list);

      scope.delete('/instances/:id', async (req: Req, reply) => {
        const found = await requireInstance(reply, req.params.id!);
        if (!found) return reply;
        const deleted = await purge([found.record]);
        if (deleted === 0) {
          return reply
            .code(404)
            .type('text/plain')
            .send(
              `Instance '${req.params.id}' is ${found.record.runtimeStatus}: only finished instances can be purged.`,
            );
        }
        return reply.code(200).send({ instancesDeleted: deleted });
      });
      const purgeBy = async (req: Req, reply: FastifyReply) => {
        const from = parseDate(req.query, 'createdTimeFrom');
        if (!from) throw new BadRequest(`Please provide value for 'createdTimeFrom' parameter.`);
        const to = parseDate(req.query, 'createdTimeTo') ?? engine.clock.now();
        const records = await listAll(instanceFilter({ from, to, statuses: parseStatuses(req.query) }));
        const deleted = await purge(records);
        if (deleted === 0)
          return reply.code(404).type('text/plain').send('No instances matched the purge filter.');
        return reply.code(200).send({ instancesDeleted: deleted });
      };
      scope.delete('/instances', purgeBy);
      scope.delete('/instances/', purgeBy);

      scope.post('/instances/:id/raiseEvent/:eventName', async (req: Req, reply) => {
        const type = String(req.headers['content-type'] ?? '');
        if (!/^application\/json\b/i.test(type)) {
          throw new BadRequest(
            `Only application/json request content is supported (got '${type || 'none'}').`,
          );
        }
        const data = parseJsonBody(req.body);
        const input = data === undefined ? null : JSON.stringify(data);
        return sendToInstance(reply, req.params.id!, () =>
          events.eventRaised(engine.clock.now(), req.params.eventName!, input),
        );
      });
      scope.post('/instances/:id/terminate', async (req: Req, reply) =>
        sendToInstance(reply, req.params.id!, () =>
          events.executionTerminated(engine.clock.now(), req.query.reason ?? null),
        ),
      );
      scope.post('/instances/:id/suspend', async (req: Req, reply) =>
        sendToInstance(reply, req.params.id!, () =>
          events.executionSuspended(engine.clock.now(), req.query.reason ?? null),
        ),
      );
      scope.post('/instances/:id/resume', async (req: Req, reply) =>
        sendToInstance(reply, req.params.id!, () =>
          events.executionResumed(engine.clock.now(), req.query.reason ?? null),
        ),
      );
      scope.post('/instances/:id/rewind', async (req: Req, reply) => {
        const found = await requireInstance(reply, req.params.id!);
        if (!found) return reply;
        return reply
          .code(501)
          .type('text/plain')
          .send('Rewind is not supported by the local durable task hub.');
      });
      scope.post('/instances/:id/restart', async (req: Req, reply) => {
        const found = await requireInstance(reply, req.params.id!);
        if (!found) return reply;
        const newId = parseFlag(req.query, 'restartWithNewInstanceId', true)
          ? crypto.randomUUID().replaceAll('-', '')
          : found.record.instanceId;
        return start(req, reply, found.record.name, newId, JSON.parse(found.record.input ?? 'null'));
      });
    },
    { prefix: webhookPrefix },
  );
}
