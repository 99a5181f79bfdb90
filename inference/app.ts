import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { InferenceError, InjectedFaultError, InvalidInputError, statusOf } from './errors.js';
import type { ForecastModelServer } from './model-server.js';
import { defaultMaxBatchKeys, makeScoreRequestParser } from './schema.js';

export interface InferenceAppOptions {
  server: ForecastModelServer;
  maxBatchKeys?: number;
  /** Injected faults on /score (probes are never affected). */
  faults?: { errorRate: number; addedLatencyMs: number };
  /** Random source in [0, 1) for the fault error rate. */
  random?: () => number;
  logger?: FastifyServerOptions['logger'];
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/**
 * The scoring app: `GET /health` (liveness), `GET /ready` (model loaded), `POST /score`. Every body is
 * parsed as JSON whatever its content type (Azure ML clients are not consistent about it); errors map to
 * HTTP in the one error handler below.
 */
export function buildInferenceApp(options: InferenceAppOptions): FastifyInstance {
  const { server } = options;
  const parse = makeScoreRequestParser(options.maxBatchKeys ?? defaultMaxBatchKeys);
  const faults = options.faults ?? { errorRate: 0, addedLatencyMs: 0 };
  const random = options.random ?? Math.random;
  const app = Fastify({
    logger: options.logger ?? false,
    // One log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: 4 * 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'] ?? req.headers['x-ms-client-request-id'];
      return typeof given === 'string' && given.length > 0 && given.length <= 128 ? given : randomUUID();
    },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(
        new InvalidInputError(`body: not valid JSON (${(error as Error).message})`, { cause: error }),
        undefined,
      );
    }
  });

  // Keep-alive callers (the endpoint router) would hold the server open after close(): answers sent
  // while closing carry `Connection: close`, so each connection ends after its in-flight request.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.url === '/health' || request.url === '/ready') return;
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, latencyMs: reply.elapsedTime },
      'request completed',
    );
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof InferenceError) {
      const status = statusOf(error.code);
      if (status >= 500) request.log.warn({ code: error.code }, error.message);
      return reply.code(status).send(errorBody(error.code, error.message));
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Fastify's own client errors (body too large, missing body) keep their status.
      return reply
        .code(status)
        .send(errorBody((error as { code?: string }).code ?? 'BAD_REQUEST', (error as Error).message));
    }
    request.log.error({ err: error }, 'unhandled error while scoring');
    return reply
      .code(500)
      .send(errorBody('INTERNAL', 'internal error; see the server log for the request id'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `${request.method} ${request.url} does not exist`)),
  );

  app.get('/health', async () => ({ status: 'alive' }));

  app.get('/ready', async (_request, reply) =>
    server.ready
      ? { status: 'ready', model: server.info }
      : reply.code(503).send(errorBody('MODEL_NOT_READY', 'the model is not loaded')),
  );

  app.post('/score', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (faults.addedLatencyMs > 0) await sleep(faults.addedLatencyMs);
    if (faults.errorRate > 0 && random() < faults.errorRate) throw new InjectedFaultError();
    return server.score(parse(request.body));
  });

  return app;
}
