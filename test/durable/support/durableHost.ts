import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ManualClock, type Clock } from '../../../local/clock.js';
import { LocalHost, type HostStorageOption } from '../../../local/host.js';
import { createMemoryLogger } from '../../../local/log.js';
import { createDurableExtension, type DurableExtension } from '../../../local/durable/index.js';

/** A local host running the durable fixture app, with helpers to drive it over HTTP. */
export interface DurableTestHost {
  host: LocalHost;
  durable: DurableExtension;
  clock: Clock;
  logs: string[];
  /** Calls the host; JSON bodies are parsed when the response says JSON. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Starts an orchestration through the management API and returns its instance id. */
  start(name: string, input?: unknown, instanceId?: string): Promise<string>;
  /** Polls the status until it is one of `statuses`; fails after `timeoutMs` (real time). */
  waitFor(instanceId: string, statuses: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export const fixtureAppDir = path.resolve(import.meta.dirname, '../../fixtures/durable-app');
export const durablePrefix = '/runtime/webhooks/durabletask';

/** Starts the fixture app on a fresh in-memory Azurite (or the given storage) with the durable extension. */
export async function startDurableHost(
  options: {
    clock?: Clock;
    storage?: HostStorageOption;
    hubName?: string;
    collectStats?: boolean;
    appDir?: string;
    extendedSessions?: boolean;
  } = {},
): Promise<DurableTestHost> {
  const clock = options.clock ?? new ManualClock('2026-03-02T08:00:00.000Z');
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'durable-host-'));
  const logger = createMemoryLogger();
  const durable = createDurableExtension({
    clock,
    collectStats: options.collectStats ?? false,
    extendedSessions: options.extendedSessions ?? false,
  });
  const host = await LocalHost.start({
    appDir: options.appDir ?? fixtureAppDir,
    port: 0,
    clock,
    extensions: [durable],
    storage: options.storage ?? 'memory',
    stateDir,
    logger,
    settings: { DURABLE_TEST_HUB: options.hubName ?? 'DurableTests' },
  });
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(url.startsWith('http') ? url : `${host.baseUrl}${url}`, init);
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  const waitFor = async (instanceId: string, statuses: string[], timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const res = await call('GET', `${durablePrefix}/instances/${instanceId}`);
      last = res.body;
      if (res.status < 300 && statuses.includes((res.body as { runtimeStatus: string }).runtimeStatus)) {
        return res.body as Record<string, unknown>;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(
      `Instance ${instanceId} did not reach ${statuses.join('/')}: last status ${JSON.stringify(last)}`,
    );
  };
  return {
    host,
    durable,
    clock,
    logs: logger.lines,
    call,
    waitFor,
    async start(name, input, instanceId) {
      const res = await call(
        'POST',
        `${durablePrefix}/orchestrators/${name}${instanceId ? `/${instanceId}` : ''}`,
        input,
      );
      if (res.status !== 202) throw new Error(`start ${name} answered ${res.status}: ${res.text}`);
      return (res.body as { id: string }).id;
    },
    async stop() {
      await host.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** Waits until something sleeps on the manual clock, then moves time to when it is due. */
export async function fireNextTimer(clock: ManualClock, timeoutMs = 10_000): Promise<Date> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const due = clock.nextDue();
    if (due) {
      clock.advanceTo(due);
      return due;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('No durable timer was armed.');
}
