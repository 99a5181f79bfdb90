/** Codes of the errors the scoring server answers with, each tied to one HTTP status in `statusOf`. */
export type InferenceErrorCode = 'INVALID_INPUT' | 'MODEL_NOT_READY' | 'INJECTED_FAULT' | 'MODEL_LOAD_FAILED';

/** An error the server maps to an HTTP answer (one mapping, in app.ts). */
export class InferenceError extends Error {
  override readonly name: string = 'InferenceError';
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    /** True when the same request may succeed later (model still loading, injected fault). */
    readonly transient: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The request body is malformed; the message names the field. */
export class InvalidInputError extends InferenceError {
  override readonly name = 'InvalidInputError';
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_INPUT', message, false, options);
  }
}

/** A scoring request arrived before the model was loaded (or after shutdown began). */
export class ModelNotReadyError extends InferenceError {
  override readonly name = 'ModelNotReadyError';
  constructor() {
    super('MODEL_NOT_READY', 'the model is not loaded', true);
  }
}

/** A failure injected on purpose (deployment fault settings), for canary drills. */
export class InjectedFaultError extends InferenceError {
  override readonly name = 'InjectedFaultError';
  constructor() {
    super('INJECTED_FAULT', 'injected fault (INFERENCE_FAULT_ERROR_RATE)', true);
  }
}

/** The model directory is missing or unusable; the server refuses to start. */
export class ModelLoadError extends InferenceError {
  override readonly name = 'ModelLoadError';
  constructor(message: string, options?: ErrorOptions) {
    super('MODEL_LOAD_FAILED', message, false, options);
  }
}

/** HTTP status of each error code. */
export function statusOf(code: InferenceErrorCode): number {
  switch (code) {
    case 'INVALID_INPUT':
      return 400;
    case 'MODEL_NOT_READY':
      return 503;
    case 'INJECTED_FAULT':
    case 'MODEL_LOAD_FAILED':
      return 500;
  }
}
