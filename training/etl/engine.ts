import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** Settings of the DuckDB engine one ETL run uses. */
export interface EngineOptions {
  /** Where DuckDB may spill when an aggregate outgrows memory. */
  spillDir: string;
  threads?: number;
  /** DuckDB memory limit, e.g. '512MB'; keeps the run's footprint bounded whatever the input size. */
  memoryLimit?: string;
}

/** An in-memory DuckDB with bounded memory: a connection for queries and one for loading rows. */
export interface Engine {
  connection: DuckDBConnection;
  /** Loads rows with the appender while `connection` runs SQL on earlier ones. */
  loader: DuckDBConnection;
  /**
   * Runs statements; while they run, reports DuckDB's own progress (0-100) every interval. Resolves to the
   * rows the last statement changed.
   */
  run(sql: string, onPercent?: (percent: number) => void): Promise<number>;
  /** Runs a query and returns its rows as JSON-friendly objects. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/** Opens the engine. */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? 2),
    memory_limit: options.memoryLimit ?? '512MB',
    temp_directory: options.spillDir,
    preserve_insertion_order: 'false',
    // Nothing the ETL does needs the network or extensions.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  const loader = await instance.connect();
  // Progress is a session setting; printing it is off because the caller renders its own line.
  await connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  return {
    connection,
    loader,
    async run(sql, onPercent) {
      const timer =
        onPercent &&
        setInterval(() => {
          const { percentage } = connection.progress;
          if (percentage >= 0) onPercent(percentage);
        }, 500);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      try {
        const result = await connection.run(sql);
        return result.rowsChanged;
      } finally {
        if (process.env.ETL_DEBUG_SQL) {
          const cpu = process.cpuUsage(c0);
          console.error(
            `[etl] ${((performance.now() - t0) / 1000).toFixed(2)}s cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)}s ${sql.slice(0, 60).replace(/\s+/g, ' ')}`,
          );
        }
        if (timer) clearInterval(timer);
      }
    },
    async rows(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJS() as Record<string, unknown>[];
    },
    close() {
      loader.closeSync();
      connection.closeSync();
      instance.closeSync();
    },
  };
}
