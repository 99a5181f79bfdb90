// First: it configures DuckDB's allocator, which must happen before DuckDB's library loads.
import './allocator.js';
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
  /** Runs statements; resolves to the rows the last statement changed. */
  run(sql: string): Promise<number>;
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
  // DuckDB's progress bar stays off (its default outside the CLI): computing progress cost ~2% of the ETL's
  // CPU, and the run reports progress from the bytes it has read.
  return {
    connection,
    loader,
    async run(sql) {
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
