import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { LocalDeployment } from './deployment.js';
import { pickDeployment, pickMirror, type TrafficPlan } from './traffic.js';
import { forwardRequest, UpstreamError } from './upstream.js';

/** What the router reads on every request; each getter returns the current immutable value. */
export interface RouterSource {
  endpointName: string;
  keys(): { primaryKey: string; secondaryKey: string };
  plan(): TrafficPlan;
  deployment(name: string): LocalDeployment | undefined;
}

/** A running endpoint router. */
export interface EndpointRouter {
  port: number;
  scoringUri: string;
  close(): Promise<void>;
}

export interface RouterOptions {
  /** Preferred port (a restored endpoint keeps its URI); falls back to any free port. */
  port?: number;
  logger?: FastifyBaseLogger | boolean;
  /** Random source in [0, 1) for the traffic split; injectable for tests. */
  random?: () => number;
}

/** The header that pins a request to one deployment, and names the deployment that answered. */
export const deploymentHeader = 'azureml-model-deployment';

const scoringPath = '/score';

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Forwards one request body to a deployment; the answer with the status the caller should see. */
async function sendToDeployment(
  deployment: LocalDeployment,
  body: Buffer,
  requestId: string,
): Promise<{ status: number; contentType: string; body: Buffer | string }> {
  const pick = deployment.pickInstance();
  if (pick.kind === 'unavailable') {
    return {
      status: 503,
      contentType: 'application/json',
      body: errorBody('NoReadyInstance', `Deployment '${deployment.name}' has no ready instance.`),
    };
  }
  if (pick.kind === 'busy') {
    return {
      status: 429,
      contentType: 'application/json',
      body: errorBody(
        'TooManyRequests',
        `Deployment '${deployment.name}' is at max_concurrent_requests_per_instance on every instance.`,
      ),
    };
  }
  const { instance } = pick;
  deployment.begin(instance);
  try {
    const upstream = await forwardRequest(
      instance.agent,
      instance.port as number,
      scoringPath,
      body,
      { 'content-type': 'application/json', 'x-request-id': requestId },
      deployment.spec.requestSettings.requestTimeoutMs,
    );
    return {
      status: upstream.status,
      contentType: String(upstream.headers['content-type'] ?? 'application/json'),
      body: upstream.body,
    };
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    // Azure ML answers 408 when the model exceeds request_timeout_ms and 502 when the container fails.
    const status = error.code === 'UpstreamTimeout' ? 408 : 502;
    return { status, contentType: 'application/json', body: errorBody(error.code, error.message) };
  } finally {
    deployment.end(instance);
  }
}

function mirror(deployment: LocalDeployment, body: Buffer, requestId: string): void {
  const started = performance.now();
  // The copy's answer is discarded; only its outcome feeds the mirror deployment's metrics.
  void sendToDeployment(deployment, body, `${requestId}-mirror`).then(
    (result) => deployment.metrics.record(performance.now() - started, result.status),
    () => deployment.metrics.record(performance.now() - started, 500),
  );
}

function authorized(request: FastifyRequest, source: RouterSource): boolean {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return false;
  const token = header.slice('Bearer '.length).trim();
  const { primaryKey, secondaryKey } = source.keys();
  return token === primaryKey || token === secondaryKey;
}

/** Builds the router app (not listening): key auth, traffic split, mirror, deployment header, metrics. */
export function buildRouterApp(source: RouterSource, options: RouterOptions = {}): FastifyInstance {
  const random = options.random ?? Math.random;
  const servedBy = new WeakMap<FastifyRequest, LocalDeployment>();
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'] ?? req.headers['x-ms-client-request-id'];
      return typeof given === 'string' && given.length > 0 && given.length <= 128 ? given : randomUUID();
    },
  });
  // The router never parses bodies: it forwards bytes, and the server answers bad JSON with 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Callback-style rather than async: the hook runs on every request, and an async hook costs a promise
  // and a microtask turn each time for a synchronous record.
  app.addHook('onResponse', (request, reply, done) => {
    servedBy.get(request)?.metrics.record(reply.elapsedTime, reply.statusCode);
    done();
  });

  const score = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    reply.header('x-request-id', request.id);
    if (!authorized(request, source)) {
      return reply
        .code(401)
        .type('application/json')
        .send(errorBody('Unauthorized', 'Send Authorization: Bearer <endpoint key>.'));
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const pinned = request.headers[deploymentHeader];
    // Read the plan once: a traffic change swaps the whole plan, so each request sees one consistent split.
    const plan = source.plan();
    let target: string | undefined;
    if (typeof pinned === 'string' && pinned.length > 0) {
      target = pinned;
    } else {
      target = pickDeployment(plan, random() * 100);
      const mirrorTarget = pickMirror(plan, random() * 100);
      const mirrorDeployment = mirrorTarget ? source.deployment(mirrorTarget) : undefined;
      if (mirrorDeployment) mirror(mirrorDeployment, body, request.id);
    }
    if (target === undefined) {
      return reply
        .code(503)
        .type('application/json')
        .send(
          errorBody(
            'NoTrafficDeployment',
            `Endpoint '${source.endpointName}' routes no traffic; set traffic or send the ${deploymentHeader} header.`,
          ),
        );
    }
    const deployment = source.deployment(target);
    if (!deployment) {
      return reply
        .code(404)
        .type('application/json')
        .send(errorBody('DeploymentNotFound', `Deployment '${target}' does not exist.`));
    }
    servedBy.set(request, deployment);
    const result = await sendToDeployment(deployment, body, request.id);
    return reply
      .code(result.status)
      .header(deploymentHeader, deployment.name)
      .type(result.contentType)
      .send(result.body);
  };

  app.post(scoringPath, score);
  app.post('/', score);
  return app;
}

/** Starts a router on loopback. */
export async function startEndpointRouter(
  source: RouterSource,
  options: RouterOptions = {},
): Promise<EndpointRouter> {
  let app = buildRouterApp(source, options);
  try {
    await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.port) throw error;
    // The remembered port is taken (a restart after a crash): keep working on a new one.
    await app.close();
    app = buildRouterApp(source, options);
    await app.listen({ host: '127.0.0.1', port: 0 });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const running = app;
  return {
    port,
    scoringUri: `http://127.0.0.1:${port}${scoringPath}`,
    close: () => running.close(),
  };
}
