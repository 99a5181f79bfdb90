import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prober, probeOnce } from './probes.js';
import type { ProbeSettings } from './spec.js';

let healthy = true;
let hang = false;
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (hang) return; // never answers: the probe must time out
    res.statusCode = healthy ? 200 : 503;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const settings = (over: Partial<ProbeSettings> = {}): ProbeSettings => ({
  path: '/ready',
  initialDelayMs: 0,
  periodMs: 20,
  timeoutMs: 200,
  failureThreshold: 3,
  successThreshold: 2,
  ...over,
});

describe('probes', () => {
  it('passes on 2xx and fails on 5xx, a timeout or a closed port', async () => {
    healthy = true;
    expect(await probeOnce(port, '/ready', 500)).toBe(true);
    healthy = false;
    expect(await probeOnce(port, '/ready', 500)).toBe(false);
    hang = true;
    expect(await probeOnce(port, '/ready', 50)).toBe(false);
    hang = false;
    expect(await probeOnce(1, '/ready', 500)).toBe(false);
  });

  it('turns healthy after successThreshold passes and unhealthy after failureThreshold failures', async () => {
    healthy = true;
    const changes: boolean[] = [];
    const prober = new Prober(settings(), port, false, (value) => changes.push(value));
    prober.start();
    await expect.poll(() => changes, { timeout: 5_000 }).toEqual([true]);
    healthy = false;
    await expect.poll(() => changes, { timeout: 5_000 }).toEqual([true, false]);
    expect(prober.isHealthy).toBe(false);
    prober.stop();
    healthy = true;
  });

  it('does not flip on fewer failures than the threshold', async () => {
    healthy = true;
    const changes: boolean[] = [];
    const prober = new Prober(settings({ failureThreshold: 1000 }), port, true, (value) =>
      changes.push(value),
    );
    prober.start();
    healthy = false;
    await new Promise((resolve) => setTimeout(resolve, 200));
    prober.stop();
    healthy = true;
    expect(changes).toEqual([]);
    expect(prober.isHealthy).toBe(true);
  });
});
