import type { Clock } from '../clock.js';
import type { HostContext, HostExtension } from '../extension.js';
import { durableClientPayload } from './clientBinding.js';
import { DurableEngine } from './engine.js';
import { DurableHubError } from './errors.js';
import { registerDurableHttpApi } from './httpApi.js';
import { SessionCache } from './sessions.js';
import { TaskHubStore } from './store.js';

export { DurableEngine } from './engine.js';
export { DurableHubError } from './errors.js';
export { webhookPrefix } from './httpApi.js';

/** Options of the durable extension. */
export interface DurableExtensionOptions {
  /** Overrides host.json `extensions.durableTask.hubName`. */
  hubName?: string;
  /** Clock for durable timers and event timestamps; defaults to the host's clock. */
  clock?: Clock;
  /** Keep per-episode timings in `engine.stats` (benchmarks). */
  collectStats?: boolean;
  /** Overrides host.json `extensions.durableTask.extendedSessionsEnabled` (default false, as in Azure). */
  extendedSessions?: boolean;
}

/** The durable extension as the host sees it, plus access to its engine for tests and benchmarks. */
export interface DurableExtension extends HostExtension {
  readonly engine: DurableEngine;
  readonly hubName: string;
}

const defaultHubName = 'TestHubName';

/** host.json hub name with `%SETTING%` placeholders resolved from app settings (default "TestHubName"). */
export function resolveHubName(ctx: Pick<HostContext, 'hostJson' | 'settings'>, override?: string): string {
  const raw = override ?? ctx.hostJson.extensions?.durableTask?.hubName ?? defaultHubName;
  const name = raw.replace(/%([^%]+)%/g, (_m, setting: string) => {
    const value = ctx.settings[setting];
    if (value === undefined) {
      throw new DurableHubError(
        'DURABLE_BAD_REQUEST',
        `host.json hubName refers to app setting '${setting}', which is not set.`,
      );
    }
    return value;
  });
  // Azure Storage task hub names: letters and digits, 3-45 characters, starting with a letter.
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(name)) {
    throw new DurableHubError(
      'DURABLE_BAD_REQUEST',
      `Task hub name '${name}' is invalid: use 3-45 letters or digits, starting with a letter.`,
    );
  }
  return name;
}

/**
 * The Durable Task extension of the local host: runs orchestrations, activities and durable timers on
 * a task hub in Azure Storage (Azurite), provides the `durableClient` input and serves the management
 * API under /runtime/webhooks/durabletask.
 */
export function createDurableExtension(options: DurableExtensionOptions = {}): DurableExtension {
  let engine: DurableEngine | undefined;
  let hubName = '';
  let setHostname = false;
  let ctxRef: HostContext | undefined;
  return {
    name: 'durableTask',
    triggerTypes: ['orchestrationTrigger', 'activityTrigger'],
    get engine(): DurableEngine {
      if (!engine)
        throw new DurableHubError('DURABLE_PROTOCOL', 'The durable extension has not been initialised.');
      return engine;
    },
    get hubName() {
      return hubName;
    },
    init(ctx) {
      ctxRef = ctx;
      hubName = resolveHubName(ctx, options.hubName);
      const store = new TaskHubStore(ctx.storageConnectionString, hubName);
      const extended =
        options.extendedSessions ?? ctx.hostJson.extensions?.durableTask?.extendedSessionsEnabled === true;
      const sessions = extended ? new SessionCache() : undefined;
      if (sessions) for (const fn of ctx.registry.byTriggerType('orchestrationTrigger')) sessions.wrap(fn);
      engine = new DurableEngine({
        store,
        registry: ctx.registry,
        invoker: ctx.invoker,
        clock: options.clock ?? ctx.clock,
        logger: ctx.logger,
        collectStats: options.collectStats ?? false,
        ...(sessions ? { sessions } : {}),
      });
      const systemKey = () => ctx.systemKey('durabletask_extension');
      const clientInput = () => ({
        string: JSON.stringify(durableClientPayload(ctx.baseUrl(), hubName, systemKey())),
      });
      ctx.invoker.provideInput('durableClient', clientInput);
      ctx.invoker.provideInput('orchestrationClient', clientInput);
      registerDurableHttpApi(ctx.http, { engine, store, registry: ctx.registry, hubName, systemKey });
    },
    async start() {
      // The SDK rewrites management URLs to localhost:7071 unless WEBSITE_HOSTNAME names the host (§6.1).
      if (ctxRef && (!process.env.WEBSITE_HOSTNAME || setHostname)) {
        process.env.WEBSITE_HOSTNAME = new URL(ctxRef.baseUrl()).host;
        setHostname = true;
      }
      await engine?.start();
    },
    async stop() {
      await engine?.stop();
    },
    describe(functionName) {
      const fn = ctxRef?.registry.find(functionName);
      if (fn?.triggerType === 'orchestrationtrigger') return 'orchestrationTrigger';
      if (fn?.triggerType === 'activitytrigger') return 'activityTrigger';
      return undefined;
    },
  };
}
