import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { activateRegistry, installCoreModule } from './coreApi.js';
import { FunctionInvoker } from './invoker.js';
import { importEntryPoints, resolveEntryPoints } from './loadApp.js';
import { FunctionRegistry } from './registry.js';

describe('function invoker', () => {
  it('loads an app through @azure/functions-core and invokes it via the programming model', async () => {
    const warn = vi.spyOn(console, 'warn');
    installCoreModule();
    const registry = new FunctionRegistry();
    activateRegistry(registry);
    const appDir = path.join(import.meta.dirname, '__fixtures__/kernel-app');
    await importEntryPoints(await resolveEntryPoints(appDir));
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/test mode/);
    expect([...registry.functions.keys()].sort()).toEqual(['double', 'hello']);
    expect(registry.find('double')?.triggerType).toBe('activitytrigger');

    const logs: string[] = [];
    const invoker = new FunctionInvoker(registry, (e) => logs.push(`${e.category}:${e.message}`));
    const hello = registry.find('hello')!;
    const out = await invoker.invoke(hello, {
      triggerData: {
        http: {
          method: 'GET',
          url: 'http://127.0.0.1:7071/api/hello/ada?q=1',
          headers: {},
          query: { q: '1' },
          params: { name: 'ada' },
        },
      },
    });
    const http = out.response.returnValue?.http;
    expect(http?.statusCode).toBe('200');
    expect(JSON.parse(Buffer.from(http!.body!.bytes!).toString('utf8'))).toEqual({ hello: 'ada', q: '1' });
    expect(logs).toContain('user:saying hello');

    const double = await invoker.invoke(registry.find('double')!, { triggerData: { json: '21' } });
    expect(double.response.returnValue).toEqual({ int: 42 });
  });
});
