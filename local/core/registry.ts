import type {
  DisposableLike,
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookName,
  ProgrammingModel,
  RpcBindingInfo,
} from './types.js';

/** A function as the app registered it, with its trigger binding found by type (never by name). */
export interface RegisteredFunction {
  id: string;
  name: string;
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  triggerName: string;
  trigger: RpcBindingInfo;
  triggerType: string;
}

const hookNames: readonly HookName[] = ['preInvocation', 'postInvocation', 'appStart', 'appTerminate', 'log'];

/** Error thrown for registrations the real Node worker would refuse. */
export class RegistrationError extends Error {
  readonly code = 'REGISTRATION_ERROR';
}

/** Disposable as the worker's core API exposes it. */
export class Disposable implements DisposableLike {
  #callOnDispose: (() => unknown) | undefined;

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  /** Combines several disposables into one. */
  static from(...items: DisposableLike[]): Disposable {
    return new Disposable(() => items.forEach((item) => item.dispose()));
  }

  dispose(): void {
    const fn = this.#callOnDispose;
    this.#callOnDispose = undefined;
    fn?.();
  }
}

/** Holds what the app registered: functions, hooks and the programming model (last caller wins). */
export class FunctionRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<HookName, HookCallback[]>(hookNames.map((name) => [name, []]));
  programmingModel: ProgrammingModel | undefined;
  #locked = false;

  /** Registers a function exactly as the Node worker's `registerFunction` does. */
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (this.#locked) {
      throw new RegistrationError('A function can only be registered during app startup.');
    }
    const id = metadata.functionId || metadata.name;
    if (this.functions.has(id)) {
      throw new RegistrationError(`A function with id "${id}" has already been registered.`);
    }
    const triggerEntry = Object.entries(metadata.bindings ?? {}).find(([, b]) =>
      /trigger$/i.test(b.type ?? ''),
    );
    if (!triggerEntry) {
      throw new RegistrationError(`Function "${metadata.name}" has no trigger binding.`);
    }
    const [triggerName, trigger] = triggerEntry;
    this.functions.set(id, {
      id,
      name: metadata.name,
      metadata,
      callback,
      triggerName,
      trigger,
      triggerType: (trigger.type ?? '').toLowerCase(),
    });
    return new Disposable(() => this.functions.delete(id));
  }

  /** Registers a hook; unknown hook names are refused like the worker does. */
  registerHook(name: HookName, callback: HookCallback): Disposable {
    const list = this.hooks.get(name);
    if (!list) {
      throw new RangeError(`Invalid hook name "${String(name)}".`);
    }
    list.push(callback);
    return new Disposable(() => {
      const index = list.indexOf(callback);
      if (index >= 0) list.splice(index, 1);
    });
  }

  /** Stops further registrations, as the worker does once the host has indexed the app. */
  lock(): void {
    this.#locked = true;
  }

  get locked(): boolean {
    return this.#locked;
  }

  /** Functions whose trigger has the given type (case-insensitive). */
  byTriggerType(type: string): RegisteredFunction[] {
    const wanted = type.toLowerCase();
    return [...this.functions.values()].filter((f) => f.triggerType === wanted);
  }

  /** The function registered under a name (case-insensitive, as the Functions host matches names). */
  find(name: string): RegisteredFunction | undefined {
    const direct = this.functions.get(name);
    if (direct) return direct;
    const lower = name.toLowerCase();
    return [...this.functions.values()].find((f) => f.name.toLowerCase() === lower);
  }
}
