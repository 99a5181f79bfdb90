import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../local/clock.js';
import { LocalHost } from '../../local/host.js';
import { createMemoryLogger } from '../../local/log.js';
import { eventually, fixtureAppDir, tempStateDir } from './helpers.js';

interface Seen {
  events: { id: string; kind: string; subject?: string; topic?: string }[];
  ticks: { isPastDue: boolean; hasStatus: boolean }[];
  flaky: { retryCount: number; previousError: string | null }[];
}

describe('local host running the fixture app', () => {
  const clock = new ManualClock('2026-01-05T00:00:00.000Z');
  const logger = createMemoryLogger();
  let host: LocalHost;
  let stateDir: string;
  let keys: { masterKey: string; functionKeys: { default: string } };
  const warn = vi.spyOn(console, 'warn');
  const url = (p: string) => `${host.baseUrl}${p}`;
  const seen = async () => (await (await fetch(url('/api/seen'))).json()) as Seen;

  beforeAll(async () => {
    process.env.FIXTURE_PRESET = 'from the environment';
    stateDir = await tempStateDir();
    host = await LocalHost.start({
      appDir: fixtureAppDir,
      port: 0,
      clock,
      storage: 'memory',
      stateDir,
      logger,
    });
    keys = JSON.parse(await readFile(path.join(stateDir, 'keys.json'), 'utf8')) as typeof keys;
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('loads every entry file through functions-core, without test mode, and warns about unserved triggers', () => {
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/test mode/);
    expect([...host.registry.functions.keys()].sort()).toEqual(
      [
        'adminOnly',
        'boom',
        'echo',
        'files',
        'flaky',
        'greeting',
        'nightly',
        'onEvent',
        'onQueue',
        'products',
        'seen',
        'tick',
      ].sort(),
    );
    expect(host.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(host.baseUrl).not.toContain(':7199');
    expect(logger.lines.join('\n')).toMatch(
      /Function "onQueue" has trigger type "queueTrigger" that no host extension serves/,
    );
  });

  it('applies local.settings.json Values without overwriting the environment', async () => {
    const res = await fetch(url('/api/greeting'));
    expect(await res.json()).toEqual({
      greeting: 'hello from local.settings.json',
      preset: 'from the environment',
    });
  });

  it('routes requests with parameters, constraints, optionals and catch-alls', async () => {
    const product = await fetch(url('/api/products/shoes/42?sort=price'));
    expect(product.status).toBe(200);
    const body = (await product.json()) as { params: Record<string, string>; sort: string; url: string };
    expect(body.params).toEqual({ category: 'shoes', id: '42' });
    expect(body.sort).toBe('price');
    expect(body.url).toBe(url('/api/products/shoes/42?sort=price'));
    expect(((await (await fetch(url('/api/products/hats'))).json()) as { params: object }).params).toEqual({
      category: 'hats',
    });
    expect((await fetch(url('/api/products/shoes/x1'))).status).toBe(404);
    expect((await fetch(url('/api/products/123/4'))).status).toBe(404);
    expect(await (await fetch(url('/api/files/a/b%20c/d.csv'))).json()).toEqual({ path: 'a/b c/d.csv' });
    expect((await fetch(url('/api/nope'))).status).toBe(404);
    const wrongMethod = await fetch(url('/api/products/shoes/1'), { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('enforces keys for function and admin routes', async () => {
    const post = (query = '', headers: Record<string, string> = {}) =>
      fetch(url(`/api/echo${query}`), { method: 'POST', body: 'x', headers });
    expect((await post()).status).toBe(401);
    expect((await post('?code=wrong')).status).toBe(401);
    expect((await post('', { 'x-functions-key': keys.functionKeys.default })).status).toBe(201);
    expect((await post(`?code=${keys.functionKeys.default}`)).status).toBe(201);
    expect((await post('', { 'x-functions-key': keys.masterKey })).status).toBe(201);
    const admin = (key: string) => fetch(url('/api/admin-only'), { headers: { 'x-functions-key': key } });
    expect((await admin(keys.functionKeys.default)).status).toBe(401);
    const ok = await admin(keys.masterKey);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('secret');
  });

  it('passes raw body bytes in and maps status, headers, cookies and body out', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0x80]);
    const res = await fetch(url('/api/echo'), {
      method: 'PUT',
      body: bytes,
      headers: { 'x-functions-key': keys.functionKeys.default, 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo-length')).toBe('7');
    expect(res.headers.get('set-cookie')).toBe('session=abc; Path=/; HttpOnly; SameSite=Strict');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 500 when a function throws and logs each invocation with its outcome', async () => {
    expect((await fetch(url('/api/boom'))).status).toBe(500);
    const log = logger.lines.join('\n');
    expect(log).toMatch(
      /Executed 'Functions\.boom' \(Failed, Id=[0-9a-f-]+, Duration=\d+ms\).*the handler failed on purpose/,
    );
    expect(log).toMatch(/Executed 'Functions\.products' \(Succeeded, Id=[0-9a-f-]+, Duration=\d+ms\)/);
  });

  describe('Event Grid webhook', () => {
    const post = (body: unknown, type: string | undefined, fn = 'onEvent') =>
      fetch(url(`/runtime/webhooks/eventgrid?functionName=${fn}`), {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(type ? { 'aeg-event-type': type } : {}) },
      });
    const egEvent = (id: string, data: object = {}) => ({
      id,
      topic: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z',
      subject: `/blobServices/default/containers/raw/blobs/${id}.csv.gz`,
      eventType: 'Microsoft.Storage.BlobCreated',
      eventTime: '2026-01-05T00:00:00Z',
      data,
      dataVersion: '1',
      metadataVersion: '1',
    });
    const cloudEvent = (id: string) => ({
      specversion: '1.0',
      id,
      source: '/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices/workspaces/w',
      type: 'Microsoft.MachineLearningServices.ModelRegistered',
      subject: 'models/demand-forecast:3',
      time: '2026-01-05T00:00:00Z',
      data: { modelName: 'demand-forecast', modelVersion: '3' },
    });

    it('answers the validation handshake for both schemas without invoking', async () => {
      const before = (await seen()).events.length;
      const eg = await post(
        [
          {
            ...egEvent('v1'),
            eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
            data: { validationCode: 'code-1' },
          },
        ],
        'SubscriptionValidation',
      );
      expect(eg.status).toBe(200);
      expect(await eg.json()).toEqual({ validationResponse: 'code-1' });
      const ce = await post(
        { ...cloudEvent('v2'), data: JSON.stringify({ validationCode: 'code-2' }) },
        'subscriptionvalidation',
      );
      expect(await ce.json()).toEqual({ validationResponse: 'code-2' });
      expect((await seen()).events.length).toBe(before);
    });

    it('invokes once per event for Event Grid batches, CloudEvents and CloudEvents batches', async () => {
      expect((await post([egEvent('e1'), egEvent('e2'), egEvent('e3')], 'Notification')).status).toBe(202);
      expect((await post(cloudEvent('c1'), 'Notification')).status).toBe(202);
      expect((await post([cloudEvent('c2'), cloudEvent('c3')], 'Notification')).status).toBe(202);
      const events = (await seen()).events;
      expect(events.map((e) => e.id).sort()).toEqual(['c1', 'c2', 'c3', 'e1', 'e2', 'e3']);
      expect(events.find((e) => e.id === 'c1')?.kind).toBe(
        'Microsoft.MachineLearningServices.ModelRegistered',
      );
      expect(events.find((e) => e.id === 'e1')?.topic).toMatch(/storageAccounts\/z$/);
      expect((await post([], 'Unsubscribe')).status).toBe(202);
    });

    it('refuses malformed payloads and unknown functions with 400 and the reason', async () => {
      const bad = async (res: Promise<Response>, reason: RegExp) => {
        const r = await res;
        expect(r.status).toBe(400);
        expect(await r.text()).toMatch(reason);
      };
      await bad(post('{"id": ', 'Notification'), /not valid JSON/);
      await bad(
        post([egEvent('ok'), { id: 'x', eventType: 'T' }], 'Notification'),
        /Event 1 .*missing required field\(s\): subject, eventTime/,
      );
      await bad(
        post({ specversion: '1.0', id: 'x', type: 'T' }, 'Notification'),
        /CloudEvents 1\.0.*missing.*source/,
      );
      await bad(post([egEvent('u')], 'Notification', 'nobody'), /cannot find function: 'nobody'/);
      await bad(post([egEvent('u')], 'Notification', 'products'), /cannot find function: 'products'/);
      await bad(post([egEvent('u')], undefined), /aeg-event-type/);
      await bad(post([{ data: {} }], 'SubscriptionValidation'), /validationCode/);
      expect((await seen()).events.map((e) => e.id)).not.toContain('ok');
    });

    it('answers 500 with the first failure so the sender retries', async () => {
      const res = await post([egEvent('f1', { fail: true }), egEvent('f2')], 'Notification');
      expect(res.status).toBe(500);
      expect(await res.text()).toMatch(/refused event f1/);
      expect((await seen()).events.map((e) => e.id)).toContain('f2');
    });
  });

  it('fires a 1-second timer on the injected clock, serially, with no monitor status', async () => {
    const before = (await seen()).ticks.length;
    for (let i = 1; i <= 3; i++) {
      await eventually(() => clock.pendingCount >= 2, 'both timers to wait on the clock');
      clock.advance(1000);
      await eventually(async () => (await seen()).ticks.length === before + i, `tick ${i}`);
    }
    const ticks = (await seen()).ticks;
    expect(ticks.slice(before).every((t) => !t.isPastDue && !t.hasStatus)).toBe(true);
  });

  it('runs a non-HTTP function by hand through /admin/functions with the master key', async () => {
    const before = (await seen()).ticks.length;
    const run = (key?: string, name = 'tick') =>
      fetch(url(`/admin/functions/${name}`), {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
      });
    expect((await run()).status).toBe(401);
    expect((await run(keys.functionKeys.default)).status).toBe(401);
    expect((await run(keys.masterKey, 'ghost')).status).toBe(404);
    expect((await run(keys.masterKey)).status).toBe(202);
    await eventually(async () => (await seen()).ticks.length === before + 1, 'the manual tick');
  });

  it('retries a failing timer per its retry policy, with retryContext, waiting on the clock', async () => {
    const res = await fetch(url('/admin/functions/flaky'), {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', 'x-functions-key': keys.masterKey },
    });
    expect(res.status).toBe(202);
    await eventually(async () => (await seen()).flaky.length === 1, 'the first attempt');
    for (let attempt = 1; attempt <= 2; attempt++) {
      // tick, nightly and flaky's own schedule wait on the clock; the fourth wait is the retry (5 s)
      await eventually(() => clock.pendingCount === 4, `retry ${attempt} to wait`);
      clock.advance(4000);
      expect((await seen()).flaky.length).toBe(attempt);
      clock.advance(1000);
      await eventually(async () => (await seen()).flaky.length === attempt + 1, `retry ${attempt}`);
    }
    expect((await seen()).flaky).toEqual([
      { retryCount: 0, previousError: null },
      { retryCount: 1, previousError: 'flaky attempt 0 failed' },
      { retryCount: 2, previousError: 'flaky attempt 1 failed' },
    ]);
  });
});
