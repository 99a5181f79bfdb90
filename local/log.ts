/** Structured log fields attached to a host log line. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** The host's logger: one line per event, fields as key=value so both people and grep can read them. */
export interface HostLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const rank: Record<LogLevelName, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** A logger writing to a sink (stdout by default), filtered by level. */
export function createLogger(
  level: LogLevelName = 'info',
  sink: (line: string, level: Exclude<LogLevelName, 'silent'>) => void = (line, lvl) =>
    (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(`${line}\n`),
): HostLogger {
  const emit = (lvl: Exclude<LogLevelName, 'silent'>, message: string, fields?: LogFields) => {
    if (rank[lvl] < rank[level]) return;
    const time = new Date().toISOString().slice(11, 23);
    sink(`[${time}] ${lvl.toUpperCase().padEnd(5)} ${message}${formatFields(fields)}`, lvl);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(): HostLogger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(
    createLogger('debug', (line) => lines.push(line)),
    { lines },
  );
}
