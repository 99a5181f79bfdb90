import type { FastifyInstance } from 'fastify';
import type { Clock } from './clock.js';
import type { AuthLevel } from './config/keys.js';
import type { FunctionInvoker } from './core/invoker.js';
import type { FunctionRegistry, RegisteredFunction } from './core/registry.js';
import type { HostLogger } from './log.js';

/** host.json as the local host reads it (only what it uses is typed). */
export interface HostJson {
  version?: string;
  extensions?: {
    http?: { routePrefix?: string };
    durableTask?: { hubName?: string; [setting: string]: unknown };
    [extension: string]: unknown;
  };
  [setting: string]: unknown;
}

/** Everything the host lends an extension. */
export interface HostContext {
  /** Folder holding the app's package.json and host.json. */
  appDir: string;
  registry: FunctionRegistry;
  invoker: FunctionInvoker;
  /** The host's HTTP server; add routes in `init`, before it listens. */
  http: FastifyInstance;
  /** `http://127.0.0.1:<port>`, valid once the server listens (i.e. in `start`). */
  baseUrl(): string;
  clock: Clock;
  logger: HostLogger;
  /** App settings: process.env after `local.settings.json` Values were applied. */
  settings: Readonly<Record<string, string | undefined>>;
  hostJson: HostJson;
  /** Connection string of the storage account behind `AzureWebJobsStorage` (Azurite locally). */
  storageConnectionString: string;
  /** Folder for the host's own state (keys, etc.); `.local/` for `npm start`, a temp folder in tests. */
  stateDir: string;
  /** The system key for `/runtime/webhooks/{name}` (e.g. `durabletask_extension`), created on first use. */
  systemKey(name: string): string;
  /** True when `key` (from `x-functions-key` or `?code=`) grants `level` access (keys file in stateDir). */
  authorize(level: AuthLevel, key: string | undefined): boolean;
}

/**
 * A binding extension of the local host, like the Functions host's extensions (HTTP, Event Grid, Timer,
 * Durable Task). It owns the trigger types it lists and may provide input bindings to the invoker.
 */
export interface HostExtension {
  readonly name: string;
  /** Trigger binding types (case-insensitive) whose functions this extension invokes. */
  readonly triggerTypes: readonly string[];
  /** After the app loaded and before the server listens: add routes and input providers. */
  init(ctx: HostContext): void | Promise<void>;
  /** After the server listens: start listeners, schedules, workers. */
  start?(): void | Promise<void>;
  /** On shutdown, in reverse order of start: stop taking work and finish what is in flight. */
  stop?(): void | Promise<void>;
  /** One line per function this extension owns, for the start-up listing (like `func start`). */
  describe?(functionName: string): string | undefined;
  /**
   * Runs a function by hand for `POST /admin/functions/{name}` (body `{"input": ...}`). Without it the host
   * passes `input` as the trigger's string value.
   */
  manualInvoke?(fn: RegisteredFunction, input: string | undefined): Promise<void>;
}
