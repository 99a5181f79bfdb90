/** Why an ETL run failed; stable codes for callers (the saga's activity maps them to retry or stop). */
export type EtlErrorCode =
  | 'NO_INPUTS'
  | 'NOT_FOUND'
  | 'EMPTY_FILE'
  | 'HEADER_ONLY'
  | 'WRONG_SCHEMA'
  | 'CORRUPT_INPUT'
  | 'NO_VALID_ROWS'
  | 'MOSTLY_MALFORMED'
  | 'BAD_OPTIONS'
  | 'ENGINE_FAILED';

/** Base of every ETL error: a code and whether retrying the same call could succeed. */
export class EtlError extends Error {
  readonly code: EtlErrorCode;
  /** True when a retry may succeed (resource trouble); false when the input or options are at fault. */
  readonly transient: boolean;

  constructor(code: EtlErrorCode, message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EtlError';
    this.code = code;
    this.transient = options?.transient ?? false;
  }
}

/** An input file is missing, empty, not the source schema or unreadable; `file` names it. */
export class EtlInputError extends EtlError {
  readonly file: string;

  constructor(code: EtlErrorCode, file: string, problem: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${problem}`, { ...options, transient: false });
    this.name = 'EtlInputError';
    this.file = file;
  }
}
