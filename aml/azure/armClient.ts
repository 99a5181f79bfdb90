/**
 * A raw ARM REST client on `@azure/core-rest-pipeline`: bearer token for the ARM scope, the pipeline's
 * retry policies for what is transient (429 with Retry-After, 408, 5xx, network), ARM error bodies turned
 * into port errors, and the two LRO protocols (Azure-AsyncOperation and Location). Raw REST because
 * `@azure/arm-machinelearning` 2.1.1 silently drops job input `uri`/`mode` and endpoint `mirrorTraffic`.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  type Pipeline,
} from '@azure/core-rest-pipeline';
import { MlPlatformError, type MlPlatformErrorCode } from '../port.js';
import { instrumentAmlPipeline } from './telemetryPolicy.js';

/** The api-version every Azure ML call uses (latest stable in the REST specs). */
export const mlApiVersion = '2024-10-01';

/** Options of an ArmClient. */
export interface ArmClientOptions {
  credential: TokenCredential;
  /** Default `https://management.azure.com`. */
  endpoint?: string;
  /** Transport; tests inject an in-process fake. */
  httpClient?: HttpClient;
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** Shortest wait between LRO polls (Retry-After is honoured above it). */
  minPollIntervalMs?: number;
  /** Longest wait between LRO polls. */
  maxPollIntervalMs?: number;
  scope?: string;
}

/** An HTTP answer. */
export interface ArmResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

interface ArmErrorBody {
  error?: { code?: string; message?: string; target?: string };
  /** MLflow REST errors. */
  error_code?: string;
  message?: string;
}

/** Maps a failed response to a port error carrying the ARM code and message. */
export function armError(status: number, body: unknown, what: string): MlPlatformError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as ArmErrorBody;
  const platformCode = b.error?.code ?? b.error_code ?? `Http${status}`;
  const message = `${what}: ${platformCode}: ${b.error?.message ?? b.message ?? (typeof body === 'string' ? body : 'no message')}`;
  let code: MlPlatformErrorCode;
  if (status === 404) code = 'NotFound';
  else if (status === 409 || status === 412) code = 'Conflict';
  else if (status === 401 || status === 403) code = 'Unauthorized';
  else if (status === 429) code = 'Throttled';
  else if (status >= 500 || status === 408) code = 'Unavailable';
  else code = 'InvalidRequest';
  return new MlPlatformError(code, message, {
    platformCode,
    status,
    ...(b.error?.target ? { target: b.error.target } : {}),
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Raw ARM (and ARM-token) REST calls. */
export class ArmClient {
  readonly endpoint: string;
  readonly #pipeline: Pipeline;
  readonly #http: HttpClient;
  readonly #minPoll: number;
  readonly #maxPoll: number;

  constructor(options: ArmClientOptions) {
    this.endpoint = (options.endpoint ?? 'https://management.azure.com').replace(/\/$/, '');
    this.#pipeline = instrumentAmlPipeline(
      createPipelineFromOptions({
        retryOptions: { maxRetries: 4, retryDelayInMs: 800, maxRetryDelayInMs: 30_000, ...options.retry },
      }),
    );
    this.#pipeline.addPolicy(
      bearerTokenAuthenticationPolicy({
        credential: options.credential,
        scopes: options.scope ?? 'https://management.azure.com/.default',
      }),
    );
    this.#http = options.httpClient ?? createDefaultHttpClient();
    this.#minPoll = options.minPollIntervalMs ?? 5_000;
    this.#maxPoll = options.maxPollIntervalMs ?? 60_000;
  }

  /** Absolute URL for an ARM path, with api-version (absolute URLs are used as given). */
  url(pathOrUrl: string, apiVersion = mlApiVersion, query: Record<string, string> = {}): string {
    if (/^https:\/\//.test(pathOrUrl)) return pathOrUrl;
    const u = new URL(`${this.endpoint}${pathOrUrl}`);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    u.searchParams.set('api-version', apiVersion);
    return u.toString();
  }

  /** Sends a request; answers any status (see `call` for the checked form). */
  async send<T = unknown>(
    method: HttpMethods,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ArmResponse<T>> {
    const request = createPipelineRequest({
      url,
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (body !== undefined) request.headers.set('Content-Type', 'application/json');
    request.headers.set('Accept', 'application/json');
    for (const [k, v] of Object.entries(headers)) request.headers.set(k, v);
    let response;
    try {
      response = await this.#pipeline.sendRequest(this.#http, request);
    } catch (cause) {
      throw new MlPlatformError(
        'Unavailable',
        `${method} ${new URL(url).pathname} failed: ${String(cause)}`,
        { cause },
      );
    }
    let parsed: unknown = undefined;
    const text = response.bodyAsText ?? '';
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: response.headers.toJSON(), body: parsed as T };
  }

  /** Sends a request and throws a port error unless the status is 2xx. */
  async call<T = unknown>(
    method: HttpMethods,
    url: string,
    body?: unknown,
    what?: string,
  ): Promise<ArmResponse<T>> {
    const res = await this.send<T>(method, url, body);
    if (res.status < 200 || res.status > 299) {
      throw armError(res.status, res.body, what ?? `${method} ${new URL(url).pathname}`);
    }
    return res;
  }

  #pollDelay(headers: Record<string, string>): number {
    const retryAfter = Number(headers['retry-after']);
    const ms = Number.isFinite(retryAfter) ? retryAfter * 1000 : this.#minPoll;
    return Math.min(Math.max(ms, this.#minPoll), this.#maxPoll);
  }

  /**
   * Completes an LRO from its initial response: polls `Azure-AsyncOperation` until a terminal status, or
   * `Location` until it stops answering 202. Throws OperationFailed or Timeout.
   */
  async waitForOperation(initial: ArmResponse, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const asyncOp = initial.headers['azure-asyncoperation'];
    const location = initial.headers.location;
    let headers = initial.headers;
    if (asyncOp) {
      for (;;) {
        const res = await this.call<{ status?: string; error?: { code?: string; message?: string } }>(
          'GET',
          asyncOp,
          undefined,
          what,
        );
        const status = res.body?.status ?? '';
        if (status === 'Succeeded') return;
        if (status === 'Failed' || status === 'Canceled') {
          throw new MlPlatformError(
            'OperationFailed',
            `${what}: ${status}: ${res.body?.error?.message ?? 'no reason given'}`,
            {
              platformCode: res.body?.error?.code ?? status,
            },
          );
        }
        headers = res.headers;
        if (Date.now() >= deadline)
          throw new MlPlatformError('Timeout', `${what}: still ${status} after ${timeoutMs} ms.`);
        await sleep(this.#pollDelay(headers));
      }
    }
    if (location && initial.status === 202) {
      for (;;) {
        if (Date.now() >= deadline)
          throw new MlPlatformError('Timeout', `${what}: still running after ${timeoutMs} ms.`);
        await sleep(this.#pollDelay(headers));
        const res = await this.call('GET', location, undefined, what);
        if (res.status !== 202) return;
        headers = res.headers;
      }
    }
  }
}
