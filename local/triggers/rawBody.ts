import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Registers routes in an encapsulated fastify scope whose bodies arrive as raw bytes (any content type),
 * so triggers see exactly what was sent and other extensions keep fastify's JSON parsing.
 */
export function withRawBodies(http: FastifyInstance, register: (scope: FastifyInstance) => void): void {
  void http.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, next) => next(null, body));
    register(scope);
    done();
  });
}

/** The request body as bytes (empty when there was none). */
export function bodyBytes(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** The access key sent with a request: `x-functions-key` header or `code` query parameter. */
export function requestKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-functions-key'];
  if (typeof header === 'string' && header) return header;
  const code = new URL(request.url, 'http://127.0.0.1').searchParams.get('code');
  return code ?? undefined;
}
