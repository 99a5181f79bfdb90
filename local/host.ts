import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { SystemClock, type Clock } from './clock.js';
import { HostKeys } from './config/keys.js';
import {
  applySettingsToEnv,
  readHostJson,
  readLocalSettings,
  resolveSettingPlaceholders,
  routePrefixOf,
} from './config/settings.js';
import { activateRegistry, installCoreModule } from './core/coreApi.js';
import { FunctionInvoker, type InvocationLogEvent, type InvocationSummary } from './core/invoker.js';
import { assertSingleFunctionsLibrary, importEntryPoints, resolveEntryPoints } from './core/loadApp.js';
import { FunctionRegistry, type RegisteredFunction } from './core/registry.js';
import type { HostContext, HostExtension, HostJson } from './extension.js';
import { createLogger, type HostLogger } from './log.js';
import { resolveWebJobsStorage, startAzurite, type StorageHandle } from './storage/azurite.js';
import { adminRoutes } from './triggers/admin.js';
import { eventGridExtension } from './triggers/eventGrid.js';
import { httpExtension } from './triggers/http.js';
import { timerExtension } from './triggers/timer.js';

export { resolveSettingPlaceholders };

/** Where the host's storage comes from. */
export type HostStorageOption = 'memory' | 'persistent' | { connectionString: string };

export interface LocalHostOptions {
  /** Folder with the app's package.json, host.json and local.settings.json. */
  appDir: string;
  /** 0 = ephemeral; default local.settings.json `Host.LocalHttpPort`, else 7071. */
  port?: number;
  clock?: Clock;
  /** Extra extensions (e.g. durable, local Event Grid), initialised after the built-ins. */
  extensions?: HostExtension[];
  /**
   * 'memory': a private in-memory Azurite on ephemeral ports (tests). 'persistent' (default): resolve
   * `AzureWebJobsStorage` (reuse a running Azurite, else start one under `<stateDir>/azurite`).
   */
  storage?: HostStorageOption;
  /** Host state (keys, Azurite data); default `<appDir>/.local`. */
  stateDir?: string;
  logger?: HostLogger;
  /** Entry file or glob replacing package.json `main` (e.g. `functions/index.ts` under tsx). */
  entry?: string;
  /** Use `local.settings.json.sample` when `local.settings.json` is missing (the CLI, for a fresh clone). */
  settingsFallbackToSample?: boolean;
  /** Settings that win over both the environment and local.settings.json (tests). */
  settings?: Record<string, string>;
}

/** The host failed to start; `code` says which stage. */
export class HostStartError extends Error {
  constructor(
    readonly code: 'HOST_PORT_IN_USE' | 'HOST_START_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

let hostInProcess = false;

/**
 * A local Azure Functions host for one `@azure/functions` v4 app: storage, the functions-core shim, the app,
 * built-in HTTP / Event Grid / timer triggers plus any extensions, on 127.0.0.1.
 */
export class LocalHost {
  #stopping: Promise<void> | undefined;
  readonly #started: HostExtension[] = [];

  private constructor(
    readonly appDir: string,
    readonly registry: FunctionRegistry,
    readonly invoker: FunctionInvoker,
    readonly clock: Clock,
    readonly keys: HostKeys,
    readonly logger: HostLogger,
    readonly hostJson: HostJson,
    readonly storage: StorageHandle,
    readonly http: FastifyInstance,
    readonly extensions: HostExtension[],
    readonly stateDir: string,
    readonly routePrefix: string,
  ) {}

  #baseUrl = '';
  #admin: { drain(): Promise<void> } | undefined;

  /** `http://127.0.0.1:<port>` the host listens on. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** Storage connection string the host and the app use (also in `process.env.AzureWebJobsStorage`). */
  get storageConnectionString(): string {
    return this.storage.connectionString;
  }

  /** Starts the host; one host per process (the app's modules and @azure/functions are cached per process). */
  static async start(options: LocalHostOptions): Promise<LocalHost> {
    if (hostInProcess) {
      throw new HostStartError(
        'HOST_START_FAILED',
        'A local host already runs in this process; stop it first.',
      );
    }
    hostInProcess = true;
    try {
      return await LocalHost.#start(options);
    } catch (err) {
      hostInProcess = false;
      throw err;
    }
  }

  static async #start(options: LocalHostOptions): Promise<LocalHost> {
    const appDir = path.resolve(options.appDir);
    const logger = options.logger ?? createLogger('info');
    const clock = options.clock ?? new SystemClock();
    const stateDir = path.resolve(options.stateDir ?? path.join(appDir, '.local'));

    const localSettings = await readLocalSettings(appDir, {
      fallbackToSample: options.settingsFallbackToSample ?? false,
    });
    if (localSettings.source?.endsWith('.sample')) {
      logger.info('local.settings.json not found: using local.settings.json.sample', {
        file: localSettings.source,
      });
    }
    Object.assign(process.env, options.settings ?? {});
    applySettingsToEnv(localSettings.Values);
    const hostJson = await readHostJson(appDir);
    const keys = await HostKeys.load(stateDir);

    const storage = await openStorage(options.storage ?? 'persistent', stateDir, logger);
    const cleanup: (() => Promise<void>)[] = [() => storage.stop()];
    try {
      // The app and the extensions reach storage through this setting, as in Azure.
      process.env.AzureWebJobsStorage = storage.connectionString;

      const registry = new FunctionRegistry();
      const invoker = new FunctionInvoker(registry, logUserEvent(logger), logInvocation(logger));
      installCoreModule();
      activateRegistry(registry, (level, category, message) => {
        if (level === 'error' || level === 'critical') logger.error(message, { category });
        else if (level === 'warning') logger.warn(message, { category });
        else logger.debug(message, { category });
      });

      const entryFiles = await resolveEntryPoints(appDir, options.entry);
      assertSingleFunctionsLibrary(appDir, entryFiles);
      await importEntryPoints(entryFiles);
      await invoker.runAppHook('appStart', { functionAppDirectory: appDir });
      const capabilities = await registry.programmingModel?.getCapabilities?.({});
      if (capabilities?.HttpUri) {
        // AFL would then send HTTP responses to its own proxy instead of returning them to the host
        throw new HostStartError(
          'HOST_START_FAILED',
          'The app enables HTTP streaming (app.setup({ enableHttpStream: true })), which the local host does not support.',
        );
      }
      registry.lock();

      const http = Fastify({ bodyLimit: 100 * 1024 * 1024, forceCloseConnections: true });
      cleanup.unshift(() => http.close());
      const extensions = [
        httpExtension(),
        eventGridExtension(),
        timerExtension(),
        ...(options.extensions ?? []),
      ];
      const routePrefix = routePrefixOf(hostJson);
      const host = new LocalHost(
        appDir,
        registry,
        invoker,
        clock,
        keys,
        logger,
        hostJson,
        storage,
        http,
        extensions,
        stateDir,
        routePrefix,
      );
      const ctx = host.#context();
      host.#admin = adminRoutes(ctx, keys, (fn) => host.#owner(fn));
      for (const extension of extensions) await extension.init(ctx);
      warnUnowned(registry, extensions, logger);

      const port = options.port ?? Number(localSettings.Host.LocalHttpPort ?? 7071);
      try {
        await http.listen({ host: '127.0.0.1', port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new HostStartError(
          code === 'EADDRINUSE' ? 'HOST_PORT_IN_USE' : 'HOST_START_FAILED',
          code === 'EADDRINUSE'
            ? `Port ${port} is in use: stop the other host or pass --port.`
            : `The host could not listen on 127.0.0.1:${port}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      host.#baseUrl = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
      for (const extension of extensions) {
        await extension.start?.();
        host.#started.push(extension);
      }
      host.#printBanner(keys.created);
      return host;
    } catch (err) {
      for (const step of cleanup) await step().catch(() => undefined);
      throw err;
    }
  }

  #context(): HostContext {
    return {
      appDir: this.appDir,
      registry: this.registry,
      invoker: this.invoker,
      http: this.http,
      baseUrl: () => this.#baseUrl,
      clock: this.clock,
      logger: this.logger,
      settings: process.env,
      hostJson: this.hostJson,
      storageConnectionString: this.storage.connectionString,
      stateDir: this.stateDir,
      systemKey: (name) => this.keys.systemKey(name),
      authorize: (level, key) => this.keys.authorizes(level, key),
    };
  }

  #owner(fn: RegisteredFunction): HostExtension | undefined {
    return this.extensions.find((e) => e.triggerTypes.some((t) => t.toLowerCase() === fn.triggerType));
  }

  #printBanner(keysCreated: boolean): void {
    const lines = ['', 'Functions:', ''];
    for (const fn of this.registry.functions.values()) {
      const owner = this.#owner(fn);
      const description = owner?.describe?.(fn.name) ?? `${fn.trigger.type ?? fn.triggerType}`;
      lines.push(`        ${fn.name}: ${description}`, '');
    }
    if (keysCreated) {
      lines.push(
        `Keys created in ${this.keys.path} (shown once):`,
        `        function key (default): ${this.keys.defaultFunctionKey}`,
        `        master key:             ${this.keys.masterKey}`,
        '',
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    this.logger.info(`Host started ${this.#baseUrl}`, {
      functions: this.registry.functions.size,
      storage: this.storage.blobEndpoint,
    });
  }

  /** Stops extensions (reverse order), runs appTerminate hooks, closes the server and storage. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const errors: unknown[] = [];
    for (const extension of [...this.#started].reverse()) {
      try {
        await extension.stop?.();
      } catch (err) {
        errors.push(err);
        this.logger.error('Extension failed to stop', {
          extension: extension.name,
          error: (err as Error).message,
        });
      }
    }
    // manual runs go through their extension (timer retries end when it stops), so drain them after
    await this.#admin?.drain();
    try {
      await this.invoker.runAppHook('appTerminate');
    } catch (err) {
      errors.push(err);
    }
    await this.http.close();
    await this.storage.stop();
    hostInProcess = false;
    this.logger.info('Host stopped');
    if (errors.length) throw new AggregateError(errors, 'The host stopped with errors.');
  }
}

async function openStorage(
  option: HostStorageOption,
  stateDir: string,
  logger: HostLogger,
): Promise<StorageHandle> {
  if (option === 'memory') return startAzurite({ logger });
  if (option === 'persistent') {
    return resolveWebJobsStorage(process.env.AzureWebJobsStorage, {
      location: path.join(stateDir, 'azurite'),
      logger,
    });
  }
  return resolveWebJobsStorage(option.connectionString, { logger });
}

function warnUnowned(registry: FunctionRegistry, extensions: HostExtension[], logger: HostLogger): void {
  const owned = new Set(extensions.flatMap((e) => e.triggerTypes.map((t) => t.toLowerCase())));
  for (const fn of registry.functions.values()) {
    if (!owned.has(fn.triggerType)) {
      logger.warn(
        `Function "${fn.name}" has trigger type "${fn.trigger.type}" that no host extension serves.`,
        {
          function: fn.name,
        },
      );
    }
  }
}

function logUserEvent(logger: HostLogger): (event: InvocationLogEvent) => void {
  return (event) => {
    const fields = { function: event.functionName, id: event.invocationId };
    if (event.level === 'error' || event.level === 'critical') logger.error(event.message, fields);
    else if (event.level === 'warning') logger.warn(event.message, fields);
    else if (event.level === 'debug' || event.level === 'trace') logger.debug(event.message, fields);
    else logger.info(event.message, fields);
  };
}

function logInvocation(logger: HostLogger): (summary: InvocationSummary) => void {
  return (s) => {
    const text = `Executed 'Functions.${s.functionName}' (${s.outcome}, Id=${s.invocationId}, Duration=${Math.round(s.durationMs)}ms)`;
    if (s.outcome === 'Failed') logger.error(text, { error: s.error });
    else logger.info(text);
  };
}
