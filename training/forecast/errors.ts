/** A model directory that cannot be used: missing, unreadable or of another format version. */
export class ModelFormatError extends Error {
  readonly code = 'MODEL_FORMAT';
  readonly transient = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFormatError';
  }
}

/** A forecast request the model cannot answer (horizon too long, start before the history). */
export class ForecastRequestError extends Error {
  readonly transient = false;
  constructor(
    readonly code: 'HORIZON_NOT_SUPPORTED' | 'START_OUT_OF_RANGE' | 'BAD_HISTORY',
    message: string,
  ) {
    super(message);
    this.name = 'ForecastRequestError';
  }
}

/** Training input that cannot produce a model (no series, too few days for the backtest). */
export class TrainingDataError extends Error {
  readonly transient = false;
  constructor(
    readonly code: 'NO_SERIES' | 'TOO_FEW_DAYS' | 'BAD_CHAMPION',
    message: string,
  ) {
    super(message);
    this.name = 'TrainingDataError';
  }
}
