import { type Agent, type IncomingHttpHeaders, request } from 'node:http';

/** An upstream answer, fully buffered (scoring responses are small). */
export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Why forwarding failed: the instance did not answer in time, or the connection broke. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly code: 'UpstreamTimeout' | 'UpstreamUnavailable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** POSTs a body to an instance on loopback through a keep-alive agent, with an overall deadline. */
export function forwardRequest(
  agent: Agent,
  port: number,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (error) => {
          clearTimeout(deadline);
          reject(
            new UpstreamError('UpstreamUnavailable', `instance on port ${port} broke off`, { cause: error }),
          );
        });
      },
    );
    const deadline = setTimeout(() => {
      req.destroy(new UpstreamError('UpstreamTimeout', `instance on port ${port} took over ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(deadline);
      reject(
        error instanceof UpstreamError
          ? error
          : new UpstreamError('UpstreamUnavailable', `instance on port ${port} unreachable`, {
              cause: error,
            }),
      );
    });
    req.end(body);
  });
}
