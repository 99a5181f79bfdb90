import Module from 'node:module';
import { Disposable, type FunctionRegistry } from './registry.js';
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookName,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from './types.js';

export const coreModuleName = '@azure/functions-core';
export const localHostVersion = '4.1037.0-local';

type SystemLogSink = (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;

let activeRegistry: FunctionRegistry | undefined;
let systemLogSink: SystemLogSink = (level, _category, message) => {
  if (level === 'warning' || level === 'error' || level === 'critical') console.warn(message);
};

function requireRegistry(): FunctionRegistry {
  if (!activeRegistry) {
    throw new Error('No local Functions host is active: call activateRegistry() before loading the app.');
  }
  return activeRegistry;
}

/**
 * The object `require('@azure/functions-core')` returns, shaped like the Node worker's core API.
 * `@azure/functions` caches it on first use, so it is one per process and delegates to the active registry.
 */
export const coreApi = {
  version: '3.9.1-local',
  get hostVersion(): string {
    return localHostVersion;
  },
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    return requireRegistry().registerFunction(metadata, callback);
  },
  setProgrammingModel(model: ProgrammingModel): void {
    requireRegistry().programmingModel = model;
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return requireRegistry().programmingModel;
  },
  registerHook(name: HookName, callback: HookCallback): Disposable {
    return requireRegistry().registerHook(name, callback);
  },
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    systemLogSink(level, category, message);
  },
  Disposable,
};

let installed = false;

/**
 * Makes `require('@azure/functions-core')` answer with {@link coreApi}, the way the Node worker does
 * (a proxy on Module.prototype.require). Must run before the app's first `app.*` call.
 */
export function installCoreModule(): void {
  if (installed) return;
  installed = true;
  const proto = (Module as unknown as { prototype: { require: (...args: unknown[]) => unknown } }).prototype;
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, argArray: unknown[]) {
      return argArray[0] === coreModuleName ? coreApi : Reflect.apply(target, thisArg, argArray);
    },
  });
}

/** Routes the core API to a registry (one app per process, as with the real worker). */
export function activateRegistry(registry: FunctionRegistry, logSink?: SystemLogSink): void {
  activeRegistry = registry;
  if (logSink) systemLogSink = logSink;
}
