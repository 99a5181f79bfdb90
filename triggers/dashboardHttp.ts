/**
 * The dashboard's HTTP functions: the page (`GET /api/dashboard`), its static files, and the JSON API
 * below `/api/dashboard/api/` that the page and `curl` read. The runs list is the app's `GET /api/runs`.
 * Every route uses function-key auth like the rest of the HTTP API.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type * as df from 'durable-functions';
import { z } from 'zod';
import { runRecordPath } from '../activities/recordDecision.js';
import { DashboardAssets, pageHtml } from '../dashboard/assets.js';
import { DashboardError, badRequest, notFound, type DashboardDeps } from '../dashboard/deps.js';
import { endpointView } from '../dashboard/endpoint.js';
import {
  checkModelFile,
  getModelVersion,
  listModelViews,
  modelDetail,
  readModelDirFile,
  modelFiles,
} from '../dashboard/models.js';
import { modelDirOf, runView, type InstanceStatus } from '../dashboard/runView.js';
import { runTypeOf, runTypes } from '../dashboard/runTypes.js';

type Handler = (request: HttpRequest, client: df.DurableClient) => Promise<HttpResponseInit>;

/** A dashboard HTTP function: its name, route (below /api) and handler. */
export interface DashboardRoute {
  name: string;
  route: string;
  handler: Handler;
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9\-_.:]{0,199}$/;

function checkRunId(id: string): string {
  if (!idPattern.test(id)) throw badRequest(`'${id}' is not a valid run id.`);
  return id;
}

/** Turns DashboardError into its 400/404 answer; anything else is a 500 the host logs. */
function answering(handler: Handler): Handler {
  return async (request, client) => {
    try {
      return await handler(request, client);
    } catch (err) {
      if (err instanceof DashboardError) {
        return { status: err.status, jsonBody: { error: err.code, message: err.message } };
      }
      throw err;
    }
  };
}

/**
 * A run with input and history; 404 when absent or not a saga run. The status comes straight from the
 * durable HTTP API: durable-functions 3.x `getStatus` drops `historyEvents` when it builds its status object
 * (Azure/azure-functions-durable-js#620), so the dashboard asks the same endpoint the SDK would.
 */
async function fetchRun(client: df.DurableClient, id: string): Promise<InstanceStatus> {
  const url = new URL(client.createHttpManagementPayload(id).statusQueryGetUri);
  for (const flag of ['showInput', 'showHistory', 'showHistoryOutput']) url.searchParams.set(flag, 'true');
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const text = await res.text();
  // 200 done, 202 running, 400 failed or terminated, 500 failed: each with the status body. 404: no such instance.
  let body: (Partial<InstanceStatus> & { historyEvents?: unknown[] }) | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (res.status === 404 || (body && !body.instanceId && res.status < 500))
    throw notFound(`No run with id '${id}'.`);
  if (!body?.instanceId || !body.name) {
    throw new Error(`The durable status API answered ${res.status} for '${id}': ${text.slice(0, 200)}`);
  }
  if (!runTypeOf(body.name)) throw notFound(`No run with id '${id}'.`);
  const { historyEvents, ...status } = body;
  return { ...(status as InstanceStatus), history: historyEvents ?? [] };
}

const runFiles = [...Object.keys(modelFiles), 'record.json'] as const;

const endpointQuery = z.object({ release: z.string().regex(idPattern).optional() }).loose();

/** The newest release run, if there is one. */
async function latestRelease(client: df.DurableClient): Promise<string | undefined> {
  const all = await client.getStatusBy({});
  return all
    .filter((s) => s.name === runTypes.release)
    .sort((a, b) => new Date(b.createdTime).getTime() - new Date(a.createdTime).getTime())[0]?.instanceId;
}

const json = (body: unknown): HttpResponseInit => ({
  jsonBody: body,
  headers: { 'cache-control': 'no-store' },
});

/** The dashboard's routes, built over its dependencies. */
export function dashboardRoutes(deps: DashboardDeps): DashboardRoute[] {
  const assets = new DashboardAssets(deps.appRoot);
  return [
    {
      name: 'dashboard',
      route: 'dashboard',
      handler: answering(async (request) => ({
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
        body: pageHtml({
          basePath: new URL(request.url).pathname,
          ...(request.query.get('code') ? { code: request.query.get('code') as string } : {}),
          modules: await assets.modules(),
          title: `${deps.modelName} — MLOps dashboard`,
        }),
      })),
    },
    {
      name: 'dashboardStatic',
      route: 'dashboard/static/{*path}',
      handler: answering(async (request) => {
        const file = await assets.get(request.params.path ?? '');
        return { headers: { 'content-type': file.contentType }, body: file.body };
      }),
    },
    {
      name: 'dashboardRun',
      route: 'dashboard/api/runs/{id}',
      handler: answering(async (request, client) =>
        json(runView(await fetchRun(client, checkRunId(request.params.id ?? '')))),
      ),
    },
    {
      name: 'dashboardRunFile',
      route: 'dashboard/api/runs/{id}/files/{file}',
      handler: answering(async (request, client) => {
        const id = checkRunId(request.params.id ?? '');
        const name = request.params.file ?? '';
        if (!(runFiles as readonly string[]).includes(name)) {
          throw badRequest(`'${name}' is not a run file; use one of ${runFiles.join(', ')}.`);
        }
        const run = await fetchRun(client, id);
        if (name === 'record.json') {
          const type = runTypeOf(run.name) ?? 'training';
          try {
            const body = await deps.platform.dataLake.download(deps.runsContainer, runRecordPath(type, id));
            return { headers: { 'content-type': 'application/json' }, body: body.toString('utf8') };
          } catch {
            throw notFound(`Run '${id}' has no record yet (it is written when the run ends).`);
          }
        }
        const modelDir = modelDirOf(run);
        if (!modelDir) throw notFound(`Run '${id}' has no model directory (no training job finished).`);
        const file = checkModelFile(name);
        const body = await readModelDirFile(deps, modelDir, file);
        return { headers: { 'content-type': modelFiles[file] }, body: body.toString('utf8') };
      }),
    },
    {
      name: 'dashboardModels',
      route: 'dashboard/api/models',
      handler: answering(async () => json({ modelName: deps.modelName, models: await listModelViews(deps) })),
    },
    {
      name: 'dashboardModel',
      route: 'dashboard/api/models/{version}',
      handler: answering(async (request) => json(await modelDetail(deps, request.params.version ?? ''))),
    },
    {
      name: 'dashboardModelFile',
      route: 'dashboard/api/models/{version}/files/{file}',
      handler: answering(async (request) => {
        const model = await getModelVersion(deps, request.params.version ?? '');
        const file = checkModelFile(request.params.file ?? '');
        const body = await readModelDirFile(deps, model.modelUri, file);
        return { headers: { 'content-type': modelFiles[file] }, body: body.toString('utf8') };
      }),
    },
    {
      name: 'dashboardEndpoint',
      route: 'dashboard/api/endpoint',
      handler: answering(async (request, client) => {
        const parsed = endpointQuery.safeParse(Object.fromEntries(request.query.entries()));
        if (!parsed.success) {
          throw badRequest(`'${request.query.get('release') ?? ''}' is not a valid run id.`);
        }
        const releaseId = parsed.data.release ?? (await latestRelease(client));
        const endpoint = await endpointView(deps);
        if (!releaseId) return json({ ...endpoint, release: null, canary: null });
        const release = runView(await fetchRun(client, releaseId));
        if (release.type !== 'release')
          throw badRequest(`Run '${releaseId}' is a ${release.type} run, not a release.`);
        return json({
          ...endpoint,
          release: {
            id: release.id,
            runtimeStatus: release.runtimeStatus,
            outcome: release.outcome,
            reason: release.reason,
            model: release.model,
            live: release.live,
          },
          canary: release.canary ?? null,
        });
      }),
    },
  ];
}
