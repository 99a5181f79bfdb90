import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthLevel } from '../config/keys.js';
import { routePrefixOf } from '../config/settings.js';
import { FunctionInvocationError } from '../core/invoker.js';
import type { RegisteredFunction } from '../core/registry.js';
import type { RpcHttpData, RpcInvocationResponse, RpcTypedData } from '../core/types.js';
import type { HostContext, HostExtension } from '../extension.js';
import { bodyBytes, requestKey, withRawBodies } from './rawBody.js';
import { compileRouteTemplate, comparePrecedence, type RouteTemplate } from './routeTemplate.js';

const allMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

interface HttpRoute {
  fn: RegisteredFunction;
  template: RouteTemplate;
  methods: Set<string> | undefined;
  authLevel: AuthLevel;
}

function authLevelOf(value: unknown): AuthLevel {
  const level = typeof value === 'string' ? value.toLowerCase() : 'anonymous';
  if (level === 'function' || level === 'admin') return level;
  // `system` routes are runtime webhooks; for HTTP triggers the host treats it like admin.
  if (level === 'system') return 'admin';
  return 'anonymous';
}

function routesOf(ctx: HostContext): HttpRoute[] {
  return ctx.registry
    .byTriggerType('httpTrigger')
    .map((fn) => {
      const route = typeof fn.trigger.route === 'string' && fn.trigger.route ? fn.trigger.route : fn.name;
      const methods = Array.isArray(fn.trigger.methods)
        ? new Set((fn.trigger.methods as unknown[]).map((m) => String(m).toUpperCase()))
        : undefined;
      return {
        fn,
        template: compileRouteTemplate(route),
        methods,
        authLevel: authLevelOf(fn.trigger.authLevel),
      };
    })
    .sort((a, b) => comparePrecedence(a.template, b.template));
}

function flattenHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function queryOf(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  // Repeated keys arrive comma-joined, as ASP.NET's IQueryCollection renders them.
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  return query;
}

/** Builds the `RpcHttpData` the Node worker receives for an HTTP trigger. */
export function toRpcHttpRequest(
  request: FastifyRequest,
  baseUrl: string,
  params: Record<string, string>,
): RpcHttpData {
  const url = new URL(request.url, baseUrl);
  const body = bodyBytes(request);
  const typedBody: RpcTypedData = { bytes: body };
  return {
    method: request.method,
    url: url.href,
    headers: flattenHeaders(request),
    query: queryOf(url),
    params,
    body: typedBody,
    rawBody: typedBody,
    identities: [],
  };
}

interface RpcCookie {
  name?: string;
  value?: string;
  domain?: { value?: string | null } | null;
  path?: { value?: string | null } | null;
  expires?: { value?: { seconds?: number } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: string;
  maxAge?: { value?: number | null } | null;
}

/** Renders an `RpcHttpCookie` as a Set-Cookie header value (RFC 6265). */
export function toSetCookie(cookie: RpcCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const seconds = cookie.expires?.value?.seconds;
  if (typeof seconds === 'number') parts.push(`Expires=${new Date(seconds * 1000).toUTCString()}`);
  if (typeof cookie.maxAge?.value === 'number') parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value) parts.push('Secure');
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  if (cookie.sameSite === 'lax') parts.push('SameSite=Lax');
  else if (cookie.sameSite === 'strict') parts.push('SameSite=Strict');
  else if (cookie.sameSite === 'explicitNone') parts.push('SameSite=None');
  return parts.join('; ');
}

function typedDataBytes(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  if (typeof data.string === 'string') return Buffer.from(data.string, 'utf8');
  if (typeof data.json === 'string') return Buffer.from(data.json, 'utf8');
  if (typeof data.int === 'number') return Buffer.from(String(data.int));
  if (typeof data.double === 'number') return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

function httpResponseOf(response: RpcInvocationResponse, fn: RegisteredFunction): RpcHttpData | undefined {
  if (response.returnValue?.http) return response.returnValue.http;
  const outputs = Object.entries(fn.metadata.bindings).filter(
    ([name, b]) => b.direction === 'out' && (b.type ?? '').toLowerCase() === 'http' && name !== '$return',
  );
  for (const [name] of outputs) {
    const data = response.outputData?.find((o) => o.name === name)?.data?.http;
    if (data) return data;
  }
  return undefined;
}

const hopByHop = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** Writes the worker's HTTP response (status, headers, cookies, body) to the reply. */
export function sendRpcHttpResponse(reply: FastifyReply, http: RpcHttpData | undefined): FastifyReply {
  if (!http) return reply.code(204).send();
  const status = Number(http.statusCode ?? 200);
  reply.code(Number.isInteger(status) && status >= 100 && status <= 999 ? status : 500);
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (!hopByHop.has(name.toLowerCase())) reply.header(name, value);
  }
  const cookies = (http.cookies ?? []) as RpcCookie[];
  if (cookies.length) reply.header('set-cookie', cookies.map(toSetCookie));
  return reply.send(typedDataBytes(http.body));
}

/** Built-in HTTP trigger extension: `/{routePrefix}/{route}` with route templates, methods and keys. */
export function httpExtension(): HostExtension {
  let routes: HttpRoute[] = [];
  let ctx: HostContext | undefined;
  let prefix = 'api';
  const urlOf = (route: HttpRoute) =>
    `${ctx?.baseUrl() ?? ''}/${[prefix, route.template.template.replace(/^\/+/, '')].filter(Boolean).join('/')}`;

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!ctx) throw new Error('The HTTP extension was not initialised.');
    const pathname = new URL(request.url, 'http://127.0.0.1').pathname;
    const relative = prefix ? pathname.slice(prefix.length + 1) : pathname;
    const matches = routes
      .map((route) => ({ route, params: route.template.match(relative) }))
      .filter((m): m is { route: HttpRoute; params: Record<string, string> } => m.params !== undefined);
    if (matches.length === 0) return reply.code(404).send();
    const method = request.method.toUpperCase();
    const hit = matches.find((m) => !m.route.methods || m.route.methods.has(method));
    if (!hit) {
      const allowed = new Set(matches.flatMap((m) => [...(m.route.methods ?? allMethods)]));
      return reply
        .code(405)
        .header('allow', [...allowed].join(', '))
        .send();
    }
    if (!ctx.authorize(hit.route.authLevel, requestKey(request))) return reply.code(401).send();

    try {
      const outcome = await ctx.invoker.invoke(hit.route.fn, {
        triggerData: { http: toRpcHttpRequest(request, ctx.baseUrl(), hit.params) },
      });
      return sendRpcHttpResponse(reply, httpResponseOf(outcome.response, hit.route.fn));
    } catch (err) {
      if (err instanceof FunctionInvocationError) return reply.code(500).send();
      throw err;
    }
  };

  return {
    name: 'http',
    triggerTypes: ['httpTrigger'],
    init(context) {
      ctx = context;
      prefix = routePrefixOf(context.hostJson);
      routes = routesOf(context);
      withRawBodies(context.http, (scope) => {
        const urls = prefix ? [`/${prefix}`, `/${prefix}/*`] : ['/*'];
        for (const url of urls) {
          scope.route({ method: [...allMethods], url, exposeHeadRoute: false, handler: handle });
        }
      });
    },
    describe(functionName) {
      const route = routes.find((r) => r.fn.name === functionName);
      if (!route) return undefined;
      const methods = route.methods ? [...route.methods].join(',') : allMethods.join(',');
      return `[${methods}] ${urlOf(route)}`;
    },
  };
}
