import { randomUUID } from 'node:crypto';
import type { FunctionRegistry, RegisteredFunction } from './registry.js';
import type {
  CoreInvocationContext,
  FunctionCallback,
  RpcBindingInfo,
  RpcInvocationRequest,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcRetryContext,
  RpcTypedData,
} from './types.js';

/** What a trigger hands the invoker: the trigger's value and the binding data that goes with it. */
export interface InvocationRequest {
  triggerData: RpcTypedData;
  triggerMetadata?: Record<string, RpcTypedData>;
  retryContext?: RpcRetryContext;
  traceContext?: RpcInvocationRequest['traceContext'];
  /** Values for non-trigger input bindings, by binding name; others come from input providers. */
  extraInputs?: Record<string, RpcTypedData>;
  invocationId?: string;
}

/** The worker's answer plus timing, for logs. */
export interface InvocationOutcome {
  invocationId: string;
  response: RpcInvocationResponse;
  durationMs: number;
}

/** Supplies the value of a non-trigger input binding (e.g. `durableClient`) for one invocation. */
export type InputProvider = (
  binding: RpcBindingInfo,
  fn: RegisteredFunction,
) => RpcTypedData | Promise<RpcTypedData>;

/** A user log line or a system log line emitted during an invocation. */
export interface InvocationLogEvent {
  functionName: string;
  invocationId: string;
  level: RpcLogLevel;
  category: RpcLogCategory;
  message: string;
}

/** How one invocation ended, for the host's invocation log. */
export interface InvocationSummary {
  functionName: string;
  invocationId: string;
  triggerType: string;
  durationMs: number;
  outcome: 'Succeeded' | 'Failed';
  error?: string;
}

/**
 * A function invocation failed. `hostMessage` is the exact text the Functions host builds
 * (`RpcException`), which the Durable extension parses; keep its format.
 */
export class FunctionInvocationError extends Error {
  readonly code = 'FUNCTION_INVOCATION_FAILED';
  readonly hostMessage: string;

  constructor(
    readonly functionName: string,
    readonly invocationId: string,
    readonly innerMessage: string,
    readonly innerStack: string | undefined,
  ) {
    super(`Exception while executing function: Functions.${functionName}. ${innerMessage}`);
    this.hostMessage = `Result: Failure\nException: ${innerMessage}\nStack: ${innerStack ?? ''}`;
  }
}

/** The Node worker's `ensureErrorType`: anything thrown becomes an Error with a useful message. */
function ensureError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new Error(err);
  try {
    return new Error(JSON.stringify(err));
  } catch {
    return new Error(String(err));
  }
}

/**
 * Invokes functions through the app's registered programming model, exactly as the Node worker does:
 * getInvocationModel → getArguments → preInvocation hooks → invokeFunction → postInvocation hooks → getResponse.
 */
export class FunctionInvoker {
  readonly #inputProviders = new Map<string, InputProvider>();
  readonly appHookData: Record<string, unknown> = {};

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly onLog: (event: InvocationLogEvent) => void,
    private readonly onComplete?: (summary: InvocationSummary) => void,
  ) {}

  /** Registers the provider of an input binding type (case-insensitive). */
  provideInput(bindingType: string, provider: InputProvider): void {
    this.#inputProviders.set(bindingType.toLowerCase(), provider);
  }

  /** Invokes `fn` with the given trigger data; throws {@link FunctionInvocationError} if it fails. */
  async invoke(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationOutcome> {
    const invocationId = request.invocationId ?? randomUUID();
    const started = performance.now();
    const summary = (outcome: 'Succeeded' | 'Failed', error?: string): InvocationSummary => ({
      functionName: fn.name,
      invocationId,
      triggerType: fn.triggerType,
      durationMs: performance.now() - started,
      outcome,
      ...(error === undefined ? {} : { error }),
    });
    try {
      const outcome = await this.#invoke(fn, request, invocationId, started);
      this.onComplete?.(summary('Succeeded'));
      return outcome;
    } catch (err) {
      this.onComplete?.(summary('Failed', (err as Error).message));
      throw err;
    }
  }

  async #invoke(
    fn: RegisteredFunction,
    request: InvocationRequest,
    invocationId: string,
    started: number,
  ): Promise<InvocationOutcome> {
    const model = this.registry.programmingModel;
    if (!model) {
      throw new Error('The app registered no programming model: is "@azure/functions" loaded by the app?');
    }
    const inputData = [{ name: fn.triggerName, data: request.triggerData }];
    for (const [bindingName, binding] of Object.entries(fn.metadata.bindings)) {
      if (bindingName === fn.triggerName || binding.direction !== 'in') continue;
      const explicit = request.extraInputs?.[bindingName];
      if (explicit) {
        inputData.push({ name: bindingName, data: explicit });
        continue;
      }
      const provider = this.#inputProviders.get((binding.type ?? '').toLowerCase());
      if (!provider) {
        throw new Error(
          `Function "${fn.name}" has an input binding of type "${binding.type}" that the local host does not support.`,
        );
      }
      inputData.push({ name: bindingName, data: await provider(binding, fn) });
    }

    const coreContext: CoreInvocationContext = {
      invocationId,
      metadata: fn.metadata,
      request: {
        invocationId,
        functionId: fn.id,
        inputData,
        triggerMetadata: request.triggerMetadata ?? {},
        traceContext: request.traceContext ?? null,
        retryContext: request.retryContext ?? null,
      },
      log: (level, category, message) =>
        this.onLog({ functionName: fn.name, invocationId, level, category, message }),
    };

    const invocationModel = model.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData: Record<string, unknown> = {};

    let error: unknown;
    let result: unknown;
    let currentInputs = inputs;
    try {
      coreContext.state = 'preInvocationHooks';
      const preContext = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: context,
        inputs: currentInputs,
        functionCallback: fn.callback,
      };
      await this.#runHooks('preInvocation', preContext);
      currentInputs = preContext.inputs;
      coreContext.state = 'invocation';
      result = await invocationModel.invokeFunction(
        context,
        currentInputs,
        preContext.functionCallback as FunctionCallback,
      );
    } catch (err) {
      error = err;
    }

    coreContext.state = 'postInvocationHooks';
    const postContext: Record<string, unknown> = {
      hookData,
      appHookData: this.appHookData,
      invocationContext: context,
      inputs: currentInputs,
      result,
      error,
    };
    try {
      await this.#runHooks('postInvocation', postContext);
    } catch (err) {
      postContext.error = err;
    }
    coreContext.state = undefined;

    if (postContext.error !== undefined && postContext.error !== null) {
      const err = ensureError(postContext.error);
      throw new FunctionInvocationError(fn.name, invocationId, err.message, err.stack);
    }
    const response = await invocationModel.getResponse(context, postContext.result);
    return { invocationId, response, durationMs: performance.now() - started };
  }

  /** Runs the app-level hooks (`appStart`, `appTerminate`) with the worker's context shape. */
  async runAppHook(name: 'appStart' | 'appTerminate', extra: Record<string, unknown> = {}): Promise<void> {
    await this.#runHooks(name, { hookData: {}, appHookData: this.appHookData, ...extra });
  }

  async #runHooks(
    name: 'preInvocation' | 'postInvocation' | 'appStart' | 'appTerminate',
    context: object,
  ): Promise<void> {
    for (const hook of this.registry.hooks.get(name) ?? []) {
      await hook(context as Record<string, unknown>);
    }
  }
}
