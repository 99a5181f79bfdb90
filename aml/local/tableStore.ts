/** Small helpers over `@azure/data-tables` for the local adapter's records (JSON columns, typed errors). */
import { RestError, TableClient } from '@azure/data-tables';
import { MlPlatformError } from '../port.js';
import { storageError } from '../azure/blobDataLake.js';

/** A table that stores one JSON document per (partition, row). */
export class JsonTable<T extends object> {
  readonly #client: TableClient;
  #created: Promise<void> | undefined;

  constructor(connectionString: string, tableName: string) {
    this.#client = TableClient.fromConnectionString(connectionString, tableName, {
      allowInsecureConnection: true,
    });
  }

  async #ensure(): Promise<void> {
    this.#created ??= this.#client.createTable().catch((err: unknown) => {
      this.#created = undefined;
      throw storageError(err, 'Creating a table failed');
    });
    await this.#created;
  }

  /** The document, or undefined. */
  async get(partition: string, row: string): Promise<{ value: T; etag: string } | undefined> {
    await this.#ensure();
    try {
      const entity = await this.#client.getEntity<{ doc: string }>(partition, checkedKey(row));
      return { value: JSON.parse(entity.doc) as T, etag: entity.etag };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw storageError(err, `Reading ${partition}/${row} failed`);
    }
  }

  /** Inserts; Conflict when the row exists. */
  async insert(partition: string, row: string, value: T): Promise<void> {
    await this.#ensure();
    try {
      await this.#client.createEntity({
        partitionKey: partition,
        rowKey: checkedKey(row),
        doc: JSON.stringify(value),
      });
    } catch (err) {
      throw storageError(err, `Creating ${partition}/${row} failed`);
    }
  }

  /** Replaces; with `etag`, fails with Conflict when someone else changed it since. */
  async replace(partition: string, row: string, value: T, etag = '*'): Promise<void> {
    await this.#ensure();
    try {
      await this.#client.updateEntity(
        { partitionKey: partition, rowKey: checkedKey(row), doc: JSON.stringify(value) },
        'Replace',
        { etag },
      );
    } catch (err) {
      throw storageError(err, `Updating ${partition}/${row} failed`);
    }
  }

  /** Every document of a partition (every partition when omitted). */
  async list(partition?: string): Promise<T[]> {
    await this.#ensure();
    const out: T[] = [];
    const filter = partition === undefined ? undefined : `PartitionKey eq '${partition.replace(/'/g, "''")}'`;
    try {
      for await (const e of this.#client.listEntities<{ doc: string }>(
        filter ? { queryOptions: { filter } } : {},
      )) {
        out.push(JSON.parse(e.doc) as T);
      }
    } catch (err) {
      throw storageError(err, 'Listing a table failed');
    }
    return out;
  }
}

// Row keys may not contain / \ # ? or control characters; Azure ML names cannot either, but versions may hold dots.
function checkedKey(key: string): string {
  const forbidden =
    /[/\\#?]/.test(key) ||
    [...key].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));
  if (forbidden) throw new MlPlatformError('InvalidRequest', `'${key}' cannot be used as a key.`);
  return key;
}
