import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HostKeys } from '../config/keys.js';
import type { RegisteredFunction } from '../core/registry.js';
import type { HostContext, HostExtension } from '../extension.js';
import { bodyBytes, requestKey, withRawBodies } from './rawBody.js';

function inputOf(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  const parsed = JSON.parse(body.toString('utf8')) as { input?: unknown };
  if (parsed.input === undefined || parsed.input === null) return undefined;
  return typeof parsed.input === 'string' ? parsed.input : JSON.stringify(parsed.input);
}

/**
 * `POST /admin/functions/{name}` with the master key and body `{"input": "..."}`: runs a non-HTTP function by
 * hand, like the Functions host. Answers 202 at once; the invocation is logged like any other.
 */
export function adminRoutes(
  ctx: HostContext,
  keys: HostKeys,
  ownerOf: (fn: RegisteredFunction) => HostExtension | undefined,
): { drain(): Promise<void> } {
  const inFlight = new Set<Promise<unknown>>();
  const handle = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    if (!keys.authorizes('admin', requestKey(request))) return reply.code(401).send();
    const fn = ctx.registry.find(request.params.name);
    if (!fn) return reply.code(404).send();
    if (fn.triggerType === 'httptrigger') {
      return reply
        .code(400)
        .type('text/plain')
        .send(`"${fn.name}" is an HTTP function: call its URL instead.`);
    }
    let input: string | undefined;
    try {
      input = inputOf(bodyBytes(request));
    } catch (err) {
      return reply
        .code(400)
        .type('text/plain')
        .send(`The body is not valid JSON: ${(err as Error).message}`);
    }
    const owner = ownerOf(fn);
    const run = owner?.manualInvoke
      ? owner.manualInvoke(fn, input)
      : ctx.invoker.invoke(fn, { triggerData: { string: input ?? '' } });
    const tracked = run
      .catch((err: unknown) =>
        ctx.logger.error('Manual run failed', { function: fn.name, error: (err as Error).message }),
      )
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return reply.code(202).send();
  };
  withRawBodies(ctx.http, (scope) => {
    scope.post<{ Params: { name: string } }>('/admin/functions/:name', handle);
  });
  return {
    async drain() {
      await Promise.all([...inFlight]);
    },
  };
}
