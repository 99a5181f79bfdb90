import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type * as df from 'durable-functions';
import { z } from 'zod';
import { ExternalEvent, OrchestratorName } from '../orchestrators/names.js';
import type { RollbackInput } from '../activities/contracts.js';
import type { TriggerConfig } from './config.js';
import { trainingRunId } from './instanceIds.js';
import { requestRelease, requestTraining } from './requests.js';

const runtimeStatuses = [
  'Running',
  'Pending',
  'Completed',
  'Failed',
  'Terminated',
  'ContinuedAsNew',
  'Canceled',
  'Suspended',
] as const;
const runTypes = {
  training: OrchestratorName.trainingSaga,
  release: OrchestratorName.releaseSaga,
  rollback: OrchestratorName.rollbackSaga,
} as const;
const finished = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

const badRequest = (message: string, issues?: unknown): HttpResponseInit => ({
  status: 400,
  jsonBody: { error: 'BadRequest', message, ...(issues ? { issues } : {}) },
});
const notFound = (id: string): HttpResponseInit => ({
  status: 404,
  jsonBody: { error: 'NotFound', message: `No run with id '${id}'.` },
});

/** Reads a JSON body (empty allowed) and validates it; a response when it is not acceptable. */
async function readBody<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
): Promise<z.infer<T> | HttpResponseInit> {
  const text = await request.text();
  let json: unknown = {};
  if (text.trim()) {
    try {
      json = JSON.parse(text);
    } catch (err) {
      return badRequest(`The body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || '(body)',
      message: i.message,
    }));
    return badRequest(`Invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, issues);
  }
  return parsed.data;
}

const isResponse = (x: unknown): x is HttpResponseInit =>
  typeof x === 'object' && x !== null && 'status' in x && 'jsonBody' in x;

const startRunBody = z
  .object({
    blobs: z.array(z.string().min(1)).min(1).optional(),
    reason: z.string().max(500).optional(),
    /** Makes the start idempotent: the same key always names the same run. */
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();

/** POST /api/runs — start a training run (202 with status URLs). */
export async function startRun(
  request: HttpRequest,
  client: df.DurableClient,
  config: TriggerConfig,
): Promise<HttpResponseInit> {
  const body = await readBody(request, startRunBody);
  if (isResponse(body)) return body;
  const key = body.idempotencyKey ?? request.headers.get('idempotency-key') ?? crypto.randomUUID();
  const runId = trainingRunId(config.modelName, 'http', key);
  await requestTraining(client, config, {
    runId,
    trigger: { source: 'http', eventId: key, ...(body.reason ? { requestedBy: body.reason } : {}) },
    dedupeKey: `http:${key}`,
    ...(body.blobs
      ? { dataset: { container: config.raw.container, prefix: config.raw.prefix, blobs: body.blobs } }
      : {}),
  });
  return client.createCheckStatusResponse(request, runId);
}

const listQuery = z.object({
  status: z.enum(runtimeStatuses).optional(),
  type: z.enum(['training', 'release', 'rollback']).optional(),
  top: z.coerce.number().int().min(1).max(500).default(50),
  createdFrom: z.iso.datetime({ offset: true }).optional(),
});

/** A run as the list shows it. */
function summarize(s: df.DurableOrchestrationStatus) {
  const custom = (s.customStatus ?? {}) as { step?: string };
  const output = (s.output ?? {}) as { status?: string; reason?: string };
  const input = (s.input ?? {}) as { trigger?: { source?: string } };
  const created = new Date(s.createdTime);
  const updated = new Date(s.lastUpdatedTime);
  return {
    id: s.instanceId,
    type: Object.entries(runTypes).find(([, name]) => name === s.name)?.[0] ?? 'training',
    runtimeStatus: s.runtimeStatus,
    outcome: typeof output === 'object' ? output.status : undefined,
    step: custom.step,
    trigger: input.trigger?.source,
    createdTime: created.toISOString(),
    lastUpdatedTime: updated.toISOString(),
    durationSeconds: finished.has(String(s.runtimeStatus))
      ? (updated.getTime() - created.getTime()) / 1000
      : undefined,
  };
}

/** GET /api/runs — training and release runs, newest first, filtered by status and type. */
export async function listRuns(request: HttpRequest, client: df.DurableClient): Promise<HttpResponseInit> {
  const parsed = listQuery.safeParse(Object.fromEntries(request.query.entries()));
  if (!parsed.success) {
    return badRequest(
      `Invalid query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const q = parsed.data;
  const all = await client.getStatusBy({
    ...(q.status ? { runtimeStatus: [q.status as df.OrchestrationRuntimeStatus] } : {}),
    ...(q.createdFrom ? { createdTimeFrom: new Date(q.createdFrom) } : {}),
  });
  const wanted = q.type ? [runTypes[q.type]] : Object.values(runTypes);
  const runs = all
    .filter((s) => (wanted as string[]).includes(s.name))
    .sort((a, b) => new Date(b.createdTime).getTime() - new Date(a.createdTime).getTime())
    .slice(0, q.top)
    .map(summarize);
  return { jsonBody: { runs } };
}

async function findRun(
  client: df.DurableClient,
  id: string,
): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(id, { showInput: true });
    return (Object.values(runTypes) as string[]).includes(status.name) ? status : undefined;
  } catch {
    return undefined;
  }
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9\-_.:]{0,199}$/;

/** GET /api/runs/{id} — one run: steps with timings, gate decision, metrics, outcome. */
export async function getRun(request: HttpRequest, client: df.DurableClient): Promise<HttpResponseInit> {
  const id = request.params.id ?? '';
  if (!idPattern.test(id)) return badRequest(`'${id}' is not a valid run id.`);
  const status = await findRun(client, id);
  if (!status) return notFound(id);
  return {
    jsonBody: {
      ...summarize(status),
      input: status.input,
      steps: (status.customStatus as { steps?: unknown } | undefined)?.steps ?? [],
      progress: (status.customStatus as { progress?: unknown } | undefined)?.progress,
      output: status.output,
    },
  };
}

const decisionBody = z
  .object({ by: z.string().min(1).max(100).optional(), comment: z.string().max(1000).optional() })
  .strict();

/** POST /api/runs/{id}/approve and /reject — answer a release waiting for approval. */
export function decideRun(approved: boolean) {
  return async function decide(request: HttpRequest, client: df.DurableClient): Promise<HttpResponseInit> {
    const id = request.params.id ?? '';
    if (!idPattern.test(id)) return badRequest(`'${id}' is not a valid run id.`);
    const body = await readBody(request, decisionBody);
    if (isResponse(body)) return body;
    const status = await findRun(client, id);
    if (!status) return notFound(id);
    if (status.name !== OrchestratorName.releaseSaga)
      return badRequest(`Run '${id}' is a training run; only releases wait for approval.`);
    if (finished.has(String(status.runtimeStatus))) {
      return {
        status: 410,
        jsonBody: { error: 'Gone', message: `Run '${id}' already finished (${status.runtimeStatus}).` },
      };
    }
    await client.raiseEvent(id, ExternalEvent.approval, { approved, ...body });
    return { status: 202, jsonBody: { id, approved } };
  };
}

/** DELETE /api/runs/{id} — cancel a run; the saga cancels its jobs or rolls back, then records why. */
export async function cancelRun(request: HttpRequest, client: df.DurableClient): Promise<HttpResponseInit> {
  const id = request.params.id ?? '';
  if (!idPattern.test(id)) return badRequest(`'${id}' is not a valid run id.`);
  const status = await findRun(client, id);
  if (!status) return notFound(id);
  if (finished.has(String(status.runtimeStatus))) {
    return {
      status: 410,
      jsonBody: { error: 'Gone', message: `Run '${id}' already finished (${status.runtimeStatus}).` },
    };
  }
  const reason = request.query.get('reason') ?? 'canceled over the HTTP API';
  await client.raiseEvent(id, ExternalEvent.cancel, { reason });
  return { status: 202, jsonBody: { id, cancelRequested: true, reason } };
}

const releaseBody = z
  .object({ version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), modelName: z.string().min(1).optional() })
  .strict();

/** POST /api/releases — release a given model version (202 with the release's status URLs). */
export async function startRelease(
  request: HttpRequest,
  client: df.DurableClient,
  config: TriggerConfig,
): Promise<HttpResponseInit> {
  const body = await readBody(request, releaseBody);
  if (isResponse(body)) return body;
  const name = body.modelName ?? config.modelName;
  if (name !== config.modelName) return badRequest(`This app releases ${config.modelName}, not ${name}.`);
  const id = await requestRelease(
    client,
    config,
    { name, version: body.version },
    { source: 'http' },
    `${name}:${body.version}`,
  );
  return client.createCheckStatusResponse(request, id);
}

const rollbackBody = z
  .object({ reason: z.string().min(1).max(500), by: z.string().min(1).max(100).optional() })
  .strict();

/**
 * POST /api/endpoint/rollback — traffic back to the previous champion now. A release in progress is
 * cancelled (it rolls itself back to blue); otherwise the model that served before the champion is
 * redeployed at 100% and the champion is tagged rejected with the reason.
 */
export async function rollbackEndpoint(
  request: HttpRequest,
  client: df.DurableClient,
  config: TriggerConfig,
  now: Date = new Date(),
): Promise<HttpResponseInit> {
  const body = await readBody(request, rollbackBody);
  if (isResponse(body)) return body;
  const active = (
    await client.getStatusBy({ runtimeStatus: ['Running', 'Pending'] as df.OrchestrationRuntimeStatus[] })
  )
    .filter((s) => s.name === OrchestratorName.releaseSaga)
    .map((s) => s.instanceId);
  if (active.length > 0) {
    for (const id of active)
      await client.raiseEvent(id, ExternalEvent.cancel, { reason: `rollback: ${body.reason}` });
    return { status: 202, jsonBody: { action: 'canceled-release', releases: active, reason: body.reason } };
  }
  // One rollback per endpoint and minute: a double click lands on the same run.
  const id = `rollback-${config.release.endpointName}-${now
    .toISOString()
    .slice(0, 16)
    .replace(/[^0-9]/g, '')}`;
  const input: RollbackInput = {
    modelName: config.modelName,
    reason: body.reason,
    ...(body.by ? { requestedBy: body.by } : {}),
    config: config.release,
  };
  try {
    await client.startNew(OrchestratorName.rollbackSaga, { instanceId: id, input });
  } catch (err) {
    // Already started by the same request a moment ago: answer with its status URLs.
    if (!(await findRun(client, id))) throw err;
  }
  return client.createCheckStatusResponse(request, id);
}
