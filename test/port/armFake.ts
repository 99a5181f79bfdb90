/**
 * An in-process fake of the Azure services the Azure adapter calls: ARM `Microsoft.MachineLearningServices`
 * (jobs, models, online endpoints and deployments with the LRO protocols and traffic rules), the workspace
 * MLflow REST API, Azure Monitor `metrics:getBatch` and endpoint scoring. It is an `HttpClient`, so no
 * byte leaves the process; it checks api-version, bearer auth and body shapes on every call and
 * records each request for contract assertions. Fault injection covers 409/429/5xx answers.
 */
import { randomUUID } from 'node:crypto';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';

/** A request as the fake saw it. */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

/** A canned answer served instead of the normal one. */
export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
  /** How many times to serve it (default 1). */
  times?: number;
}

/** How the fake "runs" a job: the outcome it reaches and the metrics its MLflow run logs. */
export type JobSimulator = (properties: Record<string, unknown>) => Promise<{
  outcome: 'Completed' | 'Failed' | 'Running';
  metrics: Record<string, number>;
}>;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface JobState {
  properties: Record<string, unknown>;
  status: string;
  polls: number;
  outcome?: { outcome: 'Completed' | 'Failed' | 'Running'; metrics: Record<string, number> };
  createdAt: string;
}

interface DeploymentState {
  body: Record<string, unknown>;
  state: string;
}

interface EndpointState {
  body: Record<string, unknown>;
  deployments: Map<string, DeploymentState>;
  keys: { primaryKey: string; secondaryKey: string };
  scored: { deployment: string; status: number; latencyMs: number }[];
  splitCounter: number;
}

interface Operation {
  pollsLeft: number;
  result: 'Succeeded' | 'Failed';
  finish(): void;
}

const armHost = 'management.azure.com';
const region = 'westeurope';
const apiVersion = '2024-10-01';
const armError = (status: number, code: string, message: string): Reply => ({
  status,
  body: { error: { code, message, target: null, details: [], additionalInfo: [] } },
});

/** The fake. Pass it as `httpClient`. */
export class AzureFake implements HttpClient {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  readonly jobs = new Map<string, JobState>();
  readonly modelContainers = new Set<string>();
  readonly models = new Map<string, Map<string, { body: Record<string, unknown>; createdAt: string }>>();
  readonly endpoints = new Map<string, EndpointState>();
  readonly operations = new Map<string, Operation>();
  readonly workspaceId: string;

  constructor(
    readonly ids: { subscriptionId: string; resourceGroup: string; workspace: string },
    private readonly simulate: JobSimulator,
  ) {
    this.workspaceId = `/subscriptions/${ids.subscriptionId}/resourceGroups/${ids.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${ids.workspace}`;
  }

  /** Serves a canned answer for the next matching request(s). */
  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const url = new URL(request.url);
    const headers = request.headers.toJSON();
    const text = typeof request.body === 'string' ? request.body : undefined;
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    this.requests.push({ method: request.method, url, headers, body });
    const reply = await this.#route(request.method, url, headers, body);
    return {
      request,
      status: reply.status,
      headers: createHttpHeaders({ 'content-type': 'application/json', ...reply.headers }),
      ...(reply.body === undefined ? {} : { bodyAsText: JSON.stringify(reply.body) }),
    };
  }

  async #route(method: string, url: URL, headers: Record<string, string>, body: unknown): Promise<Reply> {
    const fault = this.faults.find(
      (f) => f.method === method && f.path.test(url.pathname) && (f.times ?? 1) > 0,
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return {
        ...armError(fault.status, fault.code ?? `Http${fault.status}`, fault.message ?? 'injected fault'),
        ...(fault.headers ? { headers: fault.headers } : {}),
      };
    }
    if (url.hostname === armHost) {
      if (url.searchParams.get('api-version') !== apiVersion) {
        return armError(
          400,
          'InvalidApiVersionParameter',
          `api-version must be ${apiVersion}, got ${url.searchParams.get('api-version')}`,
        );
      }
      if (!/^Bearer fake-https:\/\/management\.azure\.com\/\.default$/.test(headers.authorization ?? '')) {
        return armError(401, 'AuthenticationFailed', 'Missing or wrong bearer token.');
      }
      if (body !== undefined && !/^application\/json/.test(headers['content-type'] ?? '')) {
        return armError(415, 'UnsupportedMediaType', 'JSON bodies only.');
      }
      return this.#arm(method, url, body);
    }
    if (url.hostname === `${region}.api.azureml.ms`) return this.#mlflow(url, headers);
    if (url.hostname === `${region}.metrics.monitor.azure.com`) return this.#metrics(url, headers, body);
    const scoring = new RegExp(`^([^.]+)\\.${region}\\.inference\\.ml\\.azure\\.com$`).exec(url.hostname);
    if (scoring && url.pathname === '/score') return this.#score(scoring[1] ?? '', headers, body);
    throw new Error(`The fake knows no host ${url.hostname}: the adapter tried to leave the fake.`);
  }

  async #arm(method: string, url: URL, body: unknown): Promise<Reply> {
    const ws = this.workspaceId;
    const p = url.pathname;
    if (p.startsWith('/subscriptions/') && p.includes('/mfeOperationsStatus/'))
      return this.#operationStatus(p.split('/').pop() ?? '');
    if (p.startsWith('/subscriptions/') && p.includes('/mfeOperationResults/'))
      return this.#operationResult(p.split('/').pop() ?? '');
    if (!p.startsWith(ws)) return armError(404, 'ResourceNotFound', `No workspace at ${p}`);
    const rest = p.slice(ws.length);
    if (rest === '' && method === 'GET') {
      return {
        status: 200,
        body: {
          id: ws,
          name: this.ids.workspace,
          properties: { mlFlowTrackingUri: `azureml://${region}.api.azureml.ms/mlflow/v1.0${ws}` },
        },
      };
    }
    let m: RegExpExecArray | null;
    if ((m = /^\/jobs\/([^/]+)$/.exec(rest))) return this.#job(method, m[1] ?? '', body);
    if ((m = /^\/jobs\/([^/]+)\/cancel$/.exec(rest)) && method === 'POST') return this.#cancel(m[1] ?? '');
    if ((m = /^\/models\/([^/]+)$/.exec(rest))) return this.#modelContainer(method, m[1] ?? '');
    if ((m = /^\/models\/([^/]+)\/versions$/.exec(rest)) && method === 'GET')
      return this.#listModels(m[1] ?? '', url);
    if ((m = /^\/models\/([^/]+)\/versions\/([^/]+)$/.exec(rest)))
      return this.#model(method, m[1] ?? '', m[2] ?? '', body);
    if ((m = /^\/onlineEndpoints\/([^/]+)$/.exec(rest))) return this.#endpoint(method, m[1] ?? '', body);
    if ((m = /^\/onlineEndpoints\/([^/]+)\/listKeys$/.exec(rest)) && method === 'POST') {
      const ep = this.endpoints.get(m[1] ?? '');
      return ep ? { status: 200, body: ep.keys } : armError(404, 'NotFound', 'No such endpoint.');
    }
    if ((m = /^\/onlineEndpoints\/([^/]+)\/deployments$/.exec(rest)) && method === 'GET') {
      const ep = this.endpoints.get(m[1] ?? '');
      if (!ep) return armError(404, 'NotFound', 'No such endpoint.');
      return {
        status: 200,
        body: { value: [...ep.deployments.values()].map((d) => this.#deploymentView(d)) },
      };
    }
    if ((m = /^\/onlineEndpoints\/([^/]+)\/deployments\/([^/]+)$/.exec(rest)))
      return this.#deployment(method, m[1] ?? '', m[2] ?? '', body);
    return armError(404, 'NoRoute', `${method} ${rest}`);
  }

  // --- jobs ---

  async #job(method: string, name: string, body: unknown): Promise<Reply> {
    const job = this.jobs.get(name);
    if (method === 'PUT') {
      const props = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
      if (!props || props.jobType !== 'Command' || typeof props.command !== 'string') {
        return armError(400, 'UserError', 'properties.jobType Command and a command are required.');
      }
      for (const [input, value] of Object.entries(
        (props.inputs ?? {}) as Record<string, Record<string, unknown>>,
      )) {
        if (value.jobInputType !== 'literal' && typeof value.uri !== 'string') {
          return armError(
            400,
            'UserError',
            `Input '${input}' of type ${String(value.jobInputType)} has no uri.`,
          );
        }
      }
      if (job) return { status: 200, body: this.#jobView(name, job) };
      const state: JobState = {
        properties: props,
        status: 'NotStarted',
        polls: 0,
        createdAt: new Date().toISOString(),
      };
      this.jobs.set(name, state);
      return { status: 201, body: this.#jobView(name, state) };
    }
    if (method !== 'GET') return armError(405, 'MethodNotAllowed', method);
    if (!job) return armError(404, 'UserError', `Job ${name} not found.`);
    await this.#advance(job);
    return { status: 200, body: this.#jobView(name, job) };
  }

  async #advance(job: JobState): Promise<void> {
    job.polls++;
    const path = ['NotStarted', 'Starting', 'Queued', 'Running'];
    if (job.status === 'CancelRequested') {
      job.status = 'Canceled';
      return;
    }
    const at = path.indexOf(job.status);
    if (at >= 0 && at < path.length - 1) {
      job.status = path[at + 1] ?? job.status;
      return;
    }
    if (job.status === 'Running') {
      job.outcome ??= await this.simulate(job.properties);
      if (job.outcome.outcome !== 'Running') job.status = job.outcome.outcome;
    }
  }

  #jobView(name: string, job: JobState) {
    const outputs = Object.fromEntries(
      Object.entries((job.properties.outputs ?? {}) as Record<string, Record<string, unknown>>).map(
        ([k, v]) => [
          k,
          { ...v, uri: v.uri ?? `azureml://datastores/workspaceblobstore/paths/azureml/${name}/${k}/` },
        ],
      ),
    );
    return {
      id: `${this.workspaceId}/jobs/${name}`,
      name,
      type: 'Microsoft.MachineLearningServices/workspaces/jobs',
      properties: { ...job.properties, outputs, status: job.status },
      systemData: { createdAt: job.createdAt },
    };
  }

  #cancel(name: string): Reply {
    const job = this.jobs.get(name);
    if (!job) return armError(404, 'UserError', `Job ${name} not found.`);
    if (!['Completed', 'Failed', 'Canceled'].includes(job.status)) job.status = 'CancelRequested';
    const op = this.#operation(1, 'Succeeded', () => undefined);
    return { status: 202, headers: { location: this.#opUrl('mfeOperationResults', op), 'retry-after': '0' } };
  }

  // --- MLflow ---

  #mlflow(url: URL, headers: Record<string, string>): Reply {
    if (!(headers.authorization ?? '').startsWith('Bearer fake-https://management.azure.com')) {
      return { status: 401, body: { error_code: 'UNAUTHENTICATED', message: 'no token' } };
    }
    const runId = url.searchParams.get('run_id') ?? '';
    if (
      !url.pathname.endsWith('/api/2.0/mlflow/runs/get') ||
      !url.pathname.startsWith(`/mlflow/v1.0${this.workspaceId}/`)
    ) {
      return { status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: url.pathname } };
    }
    const job = this.jobs.get(runId);
    if (!job)
      return {
        status: 404,
        body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run '${runId}' not found` },
      };
    const metrics = job.status === 'Completed' ? (job.outcome?.metrics ?? {}) : {};
    const now = Date.now();
    return {
      status: 200,
      body: {
        run: {
          info: {
            run_id: runId,
            run_uuid: runId,
            experiment_id: 'e',
            status: job.status === 'Completed' ? 'FINISHED' : 'RUNNING',
            lifecycle_stage: 'active',
          },
          data: {
            metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
            params: [],
            tags: [],
          },
        },
      },
    };
  }

  // --- models ---

  #modelContainer(method: string, name: string): Reply {
    if (method === 'GET') {
      return this.modelContainers.has(name)
        ? { status: 200, body: { name, properties: {} } }
        : armError(404, 'UserError', `Model container ${name} not found.`);
    }
    if (method === 'PUT') {
      const existed = this.modelContainers.has(name);
      this.modelContainers.add(name);
      return { status: existed ? 200 : 201, body: { name, properties: {} } };
    }
    return armError(405, 'MethodNotAllowed', method);
  }

  #model(method: string, name: string, version: string, body: unknown): Reply {
    const versions = this.models.get(name);
    const existing = versions?.get(version);
    if (method === 'GET') {
      return existing
        ? { status: 200, body: this.#modelView(name, version, existing) }
        : armError(404, 'UserError', `Model ${name}:${version} not found.`);
    }
    if (method !== 'PUT') return armError(405, 'MethodNotAllowed', method);
    if (!this.modelContainers.has(name))
      return armError(404, 'UserError', `Model container ${name} does not exist.`);
    const props = (body as { properties?: Record<string, unknown> }).properties ?? {};
    const jobRef = /^azureml:\/\/jobs\/([^/]+)\/outputs\//.exec(String(props.modelUri ?? ''));
    if (jobRef && !this.jobs.has(jobRef[1] ?? ''))
      return armError(400, 'UserError', `Job ${jobRef[1]} of the model URI does not exist.`);
    if (existing) {
      const { tags: _a, description: _b, ...before } = existing.body;
      const { tags: _c, description: _d, ...after } = props;
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        return armError(409, 'Conflict', 'Model versions are immutable apart from tags and description.');
      }
      existing.body = props;
      return { status: 200, body: this.#modelView(name, version, existing) };
    }
    const entry = { body: props, createdAt: new Date().toISOString() };
    const map = versions ?? new Map();
    map.set(version, entry);
    this.models.set(name, map);
    return { status: 201, body: this.#modelView(name, version, entry) };
  }

  #listModels(name: string, url: URL): Reply {
    const versions = this.models.get(name);
    if (!versions) return { status: 200, body: { value: [] } };
    const tagFilter = url.searchParams.get('tags');
    const [key, value] = tagFilter ? tagFilter.split('=') : [];
    const list = [...versions.entries()]
      .filter(([, e]) => {
        if (!key) return true;
        const tags = (e.body.tags ?? {}) as Record<string, string>;
        return key in tags && (value === undefined || tags[key] === value);
      })
      .map(([v, e]) => this.#modelView(name, v, e));
    // A first page and a nextLink, so the adapter's paging is exercised.
    if (list.length > 1 && url.searchParams.get('$skipToken') === null) {
      const next = new URL(url);
      next.searchParams.set('$skipToken', '1');
      return { status: 200, body: { value: list.slice(0, 1), nextLink: next.toString() } };
    }
    return { status: 200, body: { value: url.searchParams.get('$skipToken') ? list.slice(1) : list } };
  }

  #modelView(name: string, version: string, e: { body: Record<string, unknown>; createdAt: string }) {
    return {
      id: `${this.workspaceId}/models/${name}/versions/${version}`,
      name: version,
      properties: { ...e.body, provisioningState: 'Succeeded' },
      systemData: { createdAt: e.createdAt },
    };
  }

  // --- endpoints ---

  #opUrl(kind: string, id: string): string {
    return `https://${armHost}/subscriptions/${this.ids.subscriptionId}/providers/Microsoft.MachineLearningServices/locations/${region}/${kind}/${id}?api-version=${apiVersion}`;
  }

  #operation(polls: number, result: 'Succeeded' | 'Failed', finish: () => void): string {
    const id = randomUUID();
    this.operations.set(id, { pollsLeft: polls, result, finish });
    return id;
  }

  #operationStatus(id: string): Reply {
    const op = this.operations.get(id);
    if (!op) return armError(404, 'NotFound', 'No such operation.');
    if (op.pollsLeft > 0) {
      op.pollsLeft--;
      return { status: 200, body: { id, name: id, status: 'InProgress' }, headers: { 'retry-after': '0' } };
    }
    op.finish();
    return {
      status: 200,
      body: {
        id,
        name: id,
        status: op.result,
        ...(op.result === 'Failed'
          ? { error: { code: 'DeploymentFailed', message: 'container crashed' } }
          : {}),
      },
    };
  }

  #operationResult(id: string): Reply {
    const op = this.operations.get(id);
    if (!op) return armError(404, 'NotFound', 'No such operation.');
    if (op.pollsLeft > 0) {
      op.pollsLeft--;
      return {
        status: 202,
        headers: { location: this.#opUrl('mfeOperationResults', id), 'retry-after': '0' },
      };
    }
    op.finish();
    return { status: 200 };
  }

  /** Which deployment failures to simulate: names listed here end their provisioning as Failed. */
  readonly failingDeployments = new Set<string>();

  #validateTraffic(
    ep: EndpointState | undefined,
    traffic: Record<string, number>,
    mirror: Record<string, number>,
  ): Reply | undefined {
    const names = new Set(ep ? ep.deployments.keys() : []);
    for (const name of [...Object.keys(traffic), ...Object.keys(mirror)]) {
      if (!names.has(name))
        return armError(400, 'BadArgument', `Deployment '${name}' in traffic does not exist.`);
    }
    const values = Object.values(traffic);
    const sum = values.reduce((a, b) => a + b, 0);
    if (
      values.some((v) => !Number.isInteger(v) || v < 0) ||
      (values.length > 0 && sum !== 100 && sum !== 0)
    ) {
      return armError(400, 'BadArgument', `Traffic values need to sum to 100; got ${sum}.`);
    }
    const mirrorSum = Object.values(mirror).reduce((a, b) => a + b, 0);
    if (mirrorSum > 50)
      return armError(400, 'BadArgument', `Mirror traffic may be at most 50%; got ${mirrorSum}.`);
    for (const [name, v] of Object.entries(mirror)) {
      if (v > 0 && (traffic[name] ?? 0) > 0)
        return armError(
          400,
          'BadArgument',
          `Deployment '${name}' takes live traffic and cannot be mirrored to.`,
        );
    }
    return undefined;
  }

  #endpointView(name: string, ep: EndpointState) {
    return {
      id: `${this.workspaceId}/onlineEndpoints/${name}`,
      name,
      type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
      ...ep.body,
      properties: {
        ...(ep.body.properties as Record<string, unknown>),
        scoringUri: `https://${name}.${region}.inference.ml.azure.com/score`,
      },
    };
  }

  #endpoint(method: string, name: string, body: unknown): Reply {
    const ep = this.endpoints.get(name);
    if (method === 'GET')
      return ep
        ? { status: 200, body: this.#endpointView(name, ep) }
        : armError(404, 'NotFound', `Endpoint ${name} not found.`);
    if (method !== 'PUT') return armError(405, 'MethodNotAllowed', method);
    const b = body as {
      location?: string;
      properties?: {
        traffic?: Record<string, number>;
        mirrorTraffic?: Record<string, number>;
        authMode?: string;
      };
    };
    if (!b.location || !b.properties?.authMode)
      return armError(400, 'BadArgument', 'location and properties.authMode are required.');
    const invalid = this.#validateTraffic(ep, b.properties.traffic ?? {}, b.properties.mirrorTraffic ?? {});
    if (invalid) return invalid;
    const state: EndpointState = ep ?? {
      body: {},
      deployments: new Map(),
      keys: { primaryKey: randomUUID(), secondaryKey: randomUUID() },
      scored: [],
      splitCounter: 0,
    };
    state.body = { ...b, properties: { ...b.properties, provisioningState: ep ? 'Updating' : 'Creating' } };
    this.endpoints.set(name, state);
    const op = this.#operation(1, 'Succeeded', () => {
      (state.body.properties as Record<string, unknown>).provisioningState = 'Succeeded';
    });
    return {
      status: ep ? 200 : 201,
      body: this.#endpointView(name, state),
      headers: {
        'azure-asyncoperation': this.#opUrl('mfeOperationsStatus', op),
        'x-ms-async-operation-timeout': 'PT1H',
      },
    };
  }

  #deploymentView(d: DeploymentState) {
    return {
      ...d.body,
      properties: { ...(d.body.properties as Record<string, unknown>), provisioningState: d.state },
    };
  }

  #deployment(method: string, epName: string, name: string, body: unknown): Reply {
    const ep = this.endpoints.get(epName);
    if (!ep) return armError(404, 'NotFound', `Endpoint ${epName} not found.`);
    const dep = ep.deployments.get(name);
    if (method === 'GET')
      return dep
        ? { status: 200, body: this.#deploymentView(dep) }
        : armError(404, 'NotFound', `Deployment ${name} not found.`);
    if (method === 'DELETE') {
      if (!dep) return { status: 204 };
      const props = ep.body.properties as {
        traffic?: Record<string, number>;
        mirrorTraffic?: Record<string, number>;
      };
      if ((props.traffic?.[name] ?? 0) > 0 || (props.mirrorTraffic?.[name] ?? 0) > 0) {
        return armError(
          409,
          'Conflict',
          `Deployment ${name} still takes traffic; set its traffic and mirror traffic to 0 first.`,
        );
      }
      dep.state = 'Deleting';
      const op = this.#operation(1, 'Succeeded', () => ep.deployments.delete(name));
      return {
        status: 202,
        headers: { location: this.#opUrl('mfeOperationResults', op), 'retry-after': '0' },
      };
    }
    if (method !== 'PUT') return armError(405, 'MethodNotAllowed', method);
    const b = body as {
      location?: string;
      sku?: { capacity?: number };
      properties?: Record<string, unknown>;
    };
    const model = String(b.properties?.model ?? '');
    const mm = new RegExp(`^${this.workspaceId}/models/([^/]+)/versions/([^/]+)$`).exec(model);
    if (!mm || !this.models.get(mm[1] ?? '')?.has(mm[2] ?? ''))
      return armError(400, 'BadArgument', `Model ${model} does not exist.`);
    if (b.properties?.endpointComputeType !== 'Managed')
      return armError(400, 'BadArgument', 'endpointComputeType Managed is required.');
    const state: DeploymentState = dep ?? { body: {}, state: 'Creating' };
    state.body = { id: `${this.workspaceId}/onlineEndpoints/${epName}/deployments/${name}`, name, ...b };
    state.state = dep ? 'Updating' : 'Creating';
    ep.deployments.set(name, state);
    const fails = this.failingDeployments.has(name);
    const op = this.#operation(1, fails ? 'Failed' : 'Succeeded', () => {
      state.state = fails ? 'Failed' : 'Succeeded';
    });
    return {
      status: dep ? 200 : 201,
      body: this.#deploymentView(state),
      headers: { 'azure-asyncoperation': this.#opUrl('mfeOperationsStatus', op) },
    };
  }

  // --- scoring and metrics ---

  #score(epName: string, headers: Record<string, string>, body: unknown): Reply {
    const ep = this.endpoints.get(epName);
    if (!ep) return { status: 404, body: { message: 'no endpoint' } };
    if (headers.authorization !== `Bearer ${ep.keys.primaryKey}`)
      return { status: 401, body: { message: 'bad key' } };
    const traffic = ((ep.body.properties as { traffic?: Record<string, number> }).traffic ?? {}) as Record<
      string,
      number
    >;
    let target = headers['azureml-model-deployment'];
    if (!target) {
      // Weighted round-robin: deterministic, honours the split over every 100 requests.
      const slot = ep.splitCounter++ % 100;
      let acc = 0;
      for (const [name, weight] of Object.entries(traffic)) {
        acc += weight;
        if (slot < acc) {
          target = name;
          break;
        }
      }
    }
    if (!target || !ep.deployments.has(target))
      return { status: 404, body: { message: 'no deployment takes traffic' } };
    ep.scored.push({ deployment: target, status: 200, latencyMs: 20 + (ep.scored.length % 5) });
    return {
      status: 200,
      body: { deployment: target, echo: body },
      headers: { 'azureml-model-deployment': target },
    };
  }

  #metrics(url: URL, headers: Record<string, string>, body: unknown): Reply {
    if (url.searchParams.get('api-version') !== '2024-02-01')
      return armError(400, 'BadRequest', 'api-version 2024-02-01 expected');
    if (!(headers.authorization ?? '').startsWith('Bearer fake-'))
      return armError(401, 'AuthenticationFailed', 'no token');
    const resourceId = (body as { resourceids?: string[] }).resourceids?.[0] ?? '';
    const epName = resourceId.split('/').pop() ?? '';
    const ep = this.endpoints.get(epName);
    const dep = /deployment eq '([^']+)'/.exec(url.searchParams.get('filter') ?? '')?.[1];
    const metric = url.searchParams.get('metricnames');
    const scored = (ep?.scored ?? []).filter((s) => s.deployment === dep);
    const dim = (name: string, value: string) => ({ name: { value: name, localizedValue: name }, value });
    let timeseries: unknown[];
    if (metric === 'RequestsPerMinute') {
      const byClass = new Map<string, number>();
      for (const s of scored)
        byClass.set(`${String(s.status)[0]}xx`, (byClass.get(`${String(s.status)[0]}xx`) ?? 0) + 1);
      timeseries = [...byClass.entries()].map(([cls, n]) => ({
        metadatavalues: [dim('deployment', dep ?? ''), dim('statusCodeClass', cls)],
        data: [{ timeStamp: new Date().toISOString(), total: n }],
      }));
    } else if (metric === 'RequestLatency_P95') {
      const sorted = scored.map((s) => s.latencyMs).sort((a, b) => a - b);
      const p95 = sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)];
      timeseries = [
        {
          metadatavalues: [dim('deployment', dep ?? '')],
          data: p95 === undefined ? [] : [{ timeStamp: new Date().toISOString(), average: p95 }],
        },
      ];
    } else {
      return armError(400, 'BadRequest', `Unknown metric ${metric}`);
    }
    return {
      status: 200,
      body: {
        values: [
          {
            resourceid: resourceId,
            namespace: url.searchParams.get('metricnamespace'),
            value: [
              {
                name: { value: metric, localizedValue: metric },
                unit: 'Count',
                timeseries,
                errorCode: 'Success',
              },
            ],
          },
        ],
      },
    };
  }
}
