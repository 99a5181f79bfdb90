import {
  BIGINT,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  UINTEGER,
  UTINYINT,
} from '@duckdb/node-api';
// The node-api vector classes write one value per call (BIGINT as JS bigint); the bindings' copy_data_to_vector
// fills a whole vector from a typed array.
import duckdb from '@duckdb/node-bindings';
import { type RowBatch } from './rows.js';
import { dayRowsTableSql, dictionaryTable, type DictionaryKey, literal } from './sql.js';

/** DuckDB's vector size: the rows of one appended data chunk. */
const CHUNK_ROWS = 2048;
const TWO_32 = 4294967296;
const COLUMN_TYPES = [UTINYINT, BIGINT, UINTEGER, UINTEGER, BIGINT, BIGINT];

interface DayTable {
  name: string;
  /** Open while rows are being appended; closed (its rows committed) when the day is finished. */
  appender: DuckDBAppender | undefined;
  rows: number;
}

/**
 * Loads encoded rows into one DuckDB table per day with the appender, on its own connection so loading
 * the next day overlaps the SQL on the last one (that connection runs one thing at a time: every method
 * queues behind the ones called before it). Owns the key dictionaries: every text gets exactly one id
 * (the encoder's ids are mapped to these as batches arrive, and texts met only by the SQL get theirs
 * through {@link idsFor}), kept in tables the daily SQL joins to render keys.
 */
export class RowLoader {
  private readonly days = new Map<string, DayTable>();
  private readonly ids: Record<DictionaryKey, Map<string, number>> = {
    category_code: new Map(),
    brand: new Map(),
  };
  /** Per key: the encoder's id (index) to ours; index 0 (empty) stays 0. */
  private readonly fromEncoder: Record<DictionaryKey, number[]> = { category_code: [0], brand: [0] };
  private tableCount = 0;
  /**
   * One data chunk refilled for every append (the appender copies it): a chunk per append costs about 3x
   * the whole append in native allocation and finalizers.
   */
  private readonly chunk = DuckDBDataChunk.create(COLUMN_TYPES, CHUNK_ROWS);
  private chunkRows = CHUNK_ROWS;

  constructor(
    private readonly connection: DuckDBConnection,
    /** Starts the names of this loader's tables. */
    readonly prefix: string,
  ) {}

  /** The tail of the loader's work: its connection runs one statement at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `work` after everything queued before it (the split's loading and the SQL's requests interleave). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Creates the dictionary tables (empty). */
  open(): Promise<void> {
    return this.exclusive(() => this.createDictionaries());
  }

  private async createDictionaries(): Promise<void> {
    for (const key of ['category_code', 'brand'] as const) {
      await this.connection.run(
        `CREATE OR REPLACE TABLE ${dictionaryTable(this.prefix, key)} (id UINTEGER, text VARCHAR)`,
      );
    }
  }

  /** The table a day's rows go to (created on first use). */
  private async table(day: string): Promise<DayTable> {
    let table = this.days.get(day);
    if (!table) {
      const name = `${this.prefix}_rows_${this.tableCount++}`;
      await this.connection.run(dayRowsTableSql(name));
      table = { name, appender: undefined, rows: 0 };
      this.days.set(day, table);
    }
    return table;
  }

  /** Appends a batch to its day's table. */
  add(batch: RowBatch): Promise<void> {
    return this.exclusive(() => this.append(batch));
  }

  private async append(batch: RowBatch): Promise<void> {
    const category = await this.mapEncoderIds(
      'category_code',
      batch.newCategories,
      batch.category,
      batch.count,
    );
    const brand = await this.mapEncoderIds('brand', batch.newBrands, batch.brand, batch.count);
    const table = await this.table(batch.day);
    const appender = (table.appender ??= await this.connection.createAppender(table.name));
    const chunk = this.chunk;
    for (let from = 0; from < batch.count; from += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, batch.count - from);
      if (n !== CHUNK_ROWS || this.chunkRows !== n) {
        chunk.rowCount = n;
        this.chunkRows = n;
      }
      fill(chunk, 0, batch.etype.subarray(from, from + n));
      fill(chunk, 1, bigints(batch.product, from, n));
      fill(chunk, 2, category.subarray(from, from + n));
      fill(chunk, 3, brand.subarray(from, from + n));
      fill(chunk, 4, bigints(batch.price, from, n));
      fill(chunk, 5, bigints(batch.user, from, n));
      appender.appendDataChunk(chunk);
    }
    table.rows += batch.count;
  }

  /**
   * Ends loading a day (again is a no-op): its rows are committed. Returns its table (created empty for a
   * day without encoded rows, so the SQL can add rows to it) and how many rows were loaded.
   */
  finishDay(day: string): Promise<{ name: string; rows: number }> {
    return this.exclusive(async () => {
      const table = await this.table(day);
      table.appender?.closeSync();
      table.appender = undefined;
      return { name: table.name, rows: table.rows };
    });
  }

  /** Ids for texts the SQL met (adding those not known yet). */
  idsFor(key: DictionaryKey, texts: readonly string[]): Promise<void> {
    return this.exclusive(() => this.assign(key, texts));
  }

  /** Drops a day's table once its aggregates are computed. */
  dropDay(day: string): Promise<void> {
    return this.exclusive(() => this.drop(day));
  }

  private async drop(day: string): Promise<void> {
    const table = this.days.get(day);
    if (!table) return;
    this.days.delete(day);
    await this.connection.run(`DROP TABLE IF EXISTS ${table.name}`);
  }

  /** Drops every table this loader made. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      for (const [day, table] of this.days) {
        table.appender?.closeSync();
        table.appender = undefined;
        await this.drop(day);
      }
      for (const key of ['category_code', 'brand'] as const) {
        await this.connection.run(`DROP TABLE IF EXISTS ${dictionaryTable(this.prefix, key)}`);
      }
    });
  }

  /** Maps a batch's encoder ids to ours. */
  private async mapEncoderIds(
    key: DictionaryKey,
    newTexts: readonly string[],
    encoderIds: Uint32Array,
    count: number,
  ): Promise<Uint32Array> {
    const map = this.fromEncoder[key];
    if (newTexts.length) {
      await this.assign(key, newTexts);
      const ids = this.ids[key];
      for (const text of newTexts) map.push(ids.get(text) as number);
    }
    // Mapped in place: the batch's buffers are the loader's until they are handed back.
    for (let i = 0; i < count; i++) encoderIds[i] = map[encoderIds[i] as number] as number;
    return encoderIds;
  }

  /** Gives each unknown text the next id and records it in the dictionary table. */
  private async assign(key: DictionaryKey, texts: readonly string[]): Promise<void> {
    const ids = this.ids[key];
    const fresh = [...new Set(texts)].filter((t) => !ids.has(t));
    if (fresh.length === 0) return;
    for (const text of fresh) ids.set(text, ids.size + 1);
    const values = fresh.map((t) => `(${ids.get(t)}, ${literal(t)})`).join(', ');
    await this.connection.run(`INSERT INTO ${dictionaryTable(this.prefix, key)} VALUES ${values}`);
  }
}

/** Copies a column's values into vector `column` of `chunk` (all valid). */
function fill(chunk: DuckDBDataChunk, column: number, values: Uint8Array | Uint32Array): void {
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
  duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

const scratch = new Uint32Array(CHUNK_ROWS * 2);

/**
 * Non-negative integers below 2^53 as BIGINT vector data: two little-endian 32-bit halves each (in a
 * scratch array reused by the next call).
 */
function bigints(values: Float64Array, from: number, n: number): Uint32Array {
  for (let i = 0; i < n; i++) {
    const v = values[from + i] as number;
    const low = v % TWO_32;
    scratch[2 * i] = low;
    scratch[2 * i + 1] = (v - low) / TWO_32;
  }
  return scratch.subarray(0, 2 * n);
}
