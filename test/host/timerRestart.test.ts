import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/clock.js';
import { HostKeys } from '../../local/config/keys.js';
import { activateRegistry, installCoreModule } from '../../local/core/coreApi.js';
import { FunctionInvoker } from '../../local/core/invoker.js';
import { importEntryPoints, resolveEntryPoints } from '../../local/core/loadApp.js';
import { FunctionRegistry } from '../../local/core/registry.js';
import type { HostContext } from '../../local/extension.js';
import { createMemoryLogger } from '../../local/log.js';
import { startAzurite, type StorageHandle } from '../../local/storage/azurite.js';
import { BlobScheduleMonitor } from '../../local/triggers/scheduleMonitor.js';
import { timerExtension } from '../../local/triggers/timer.js';
import { seen } from '../fixtures/host-app/src/seen.js';
import { eventually, fixtureAppDir, tempStateDir } from './helpers.js';

// Two timer listeners over the same storage stand for a host that stops and starts again: the second
// one must find the missed 02:30 occurrence in the status blob and run once with isPastDue.
describe('timer schedule monitor across restarts', () => {
  let storage: StorageHandle;
  const registry = new FunctionRegistry();
  const logger = createMemoryLogger();
  const invoker = new FunctionInvoker(registry, () => undefined);

  const contextFor = async (clock: ManualClock): Promise<HostContext> => {
    const stateDir = await tempStateDir();
    const keys = await HostKeys.load(stateDir);
    return {
      appDir: fixtureAppDir,
      registry,
      invoker,
      http: Fastify(),
      baseUrl: () => 'http://127.0.0.1:0',
      clock,
      logger,
      settings: {
        ...process.env,
        NIGHTLY_SCHEDULE: '0 30 2 * * *',
        AzureFunctionsWebHost__hostid: 'fixture-host',
      },
      hostJson: {},
      storageConnectionString: storage.connectionString,
      stateDir,
      systemKey: (name) => keys.systemKey(name),
      authorize: (level, key) => keys.authorizes(level, key),
    };
  };

  beforeAll(async () => {
    storage = await startAzurite();
    installCoreModule();
    activateRegistry(registry);
    await importEntryPoints(await resolveEntryPoints(fixtureAppDir));
    registry.lock();
  });
  afterAll(async () => {
    await storage?.stop();
  });

  it('detects a missed occurrence after a restart, and a failing run does not stop the schedule', async () => {
    const monitor = new BlobScheduleMonitor(storage.connectionString, 'fixture-host');

    const firstClock = new ManualClock('2026-01-05T00:00:00.000Z');
    const first = timerExtension();
    await first.init(await contextFor(firstClock));
    await first.start?.();
    const initial = await eventually(() => monitor.get('nightly'), 'the initial status blob');
    expect(initial).toMatchObject({ Last: '0001-01-01T00:00:00+00:00', Next: '2026-01-05T02:30:00+00:00' });
    await first.stop?.();
    expect(seen.nightly).toEqual([]);

    // "restart" at 03:00: the 02:30 run was missed while the host was down
    const secondClock = new ManualClock('2026-01-05T03:00:00.000Z');
    const second = timerExtension();
    await second.init(await contextFor(secondClock));
    await second.start?.();
    await eventually(() => seen.nightly.length === 1, 'the past-due run');
    expect(seen.nightly[0]).toEqual({ isPastDue: true, last: '0001-01-01T00:00:00+00:00' });
    const afterPastDue = await eventually(async () => {
      const s = await monitor.get('nightly');
      return s?.Last === '2026-01-05T03:00:00+00:00' ? s : undefined;
    }, 'the status after the past-due run');
    expect(afterPastDue.Next).toBe('2026-01-06T02:30:00+00:00');

    // the first run threw; the schedule still fires the next night
    await eventually(() => secondClock.pendingCount >= 2, 'both timers to wait on the clock');
    secondClock.advanceTo(new Date('2026-01-06T02:30:00.000Z'));
    await eventually(() => seen.nightly.length === 2, 'the next nightly run');
    expect(seen.nightly[1]).toEqual({ isPastDue: false, last: '2026-01-05T03:00:00+00:00' });
    await second.stop?.();
    expect(logger.lines.join('\n')).not.toMatch(/Timer stopped unexpectedly/);
  });
});
