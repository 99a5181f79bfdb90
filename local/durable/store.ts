import { odata, TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { DurableHubError } from './errors.js';
import type { HistoryEvent, RuntimeStatus } from './history.js';

/**
 * The task hub in Azure Storage, laid out like the Durable Task Azure Storage provider so Storage
 * Explorer can read it: `{hub}Instances` (one row per instance), `{hub}History` (one row per history
 * event plus a `sentinel` row whose ETag guards appends), the control queue `{hub}-control-00`, the
 * work-item queue `{hub}-workitems` and the `{hub}-largemessages` container for values over 45 KB.
 */

/** The instance row (`{hub}Instances`). */
export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  createdTime: Date;
  lastUpdatedTime: Date;
  /** JSON of the ExecutionStarted `ParentInstance`, for sub-orchestrations. */
  parent: string | null;
}

/** The committed history of an instance's current execution. */
export interface StoredHistory {
  executionId: string;
  events: HistoryEvent[];
  /** Engine bookkeeping committed with the events (JSON). */
  engineState: string | null;
  etag: string;
}

/** A message on the control queue. */
export interface ControlMessage {
  instanceId: string;
  executionId?: string;
  event: HistoryEvent;
}

/** A received control message with what is needed to delete it. */
export interface ReceivedControlMessage {
  message: ControlMessage;
  messageId: string;
  popReceipt: string;
}

const largeValueChars = 45_000;
const batchLimit = 100;
const sentinelRowKey = 'sentinel';
const objectFields = new Set([
  'OrchestrationInstance',
  'ParentInstance',
  'FailureDetails',
  'Tags',
  'Correlation',
]);
const instanceBlobFields = ['Input', 'Output', 'CustomStatus'] as const;

/** Azure Storage status code of an error thrown by the SDKs, if any. */
export function storageStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

function rowKeyOf(index: number): string {
  return index.toString(16).padStart(16, '0');
}

/** Storage access for one task hub. */
export class TaskHubStore {
  readonly instances: TableClient;
  readonly history: TableClient;
  readonly control: QueueClient;
  readonly workItems: QueueClient;
  readonly largeMessages: ContainerClient;

  constructor(
    connectionString: string,
    readonly hubName: string,
  ) {
    const tableOptions = { allowInsecureConnection: connectionString.includes('http://') };
    this.instances = TableClient.fromConnectionString(connectionString, `${hubName}Instances`, tableOptions);
    this.history = TableClient.fromConnectionString(connectionString, `${hubName}History`, tableOptions);
    const lower = hubName.toLowerCase();
    this.control = new QueueClient(connectionString, `${lower}-control-00`);
    this.workItems = new QueueClient(connectionString, `${lower}-workitems`);
    this.largeMessages = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
      `${lower}-largemessages`,
    );
  }

  /** Creates the tables, queues and container if they do not exist. */
  async ensureCreated(): Promise<void> {
    await Promise.all([
      this.instances.createTable(),
      this.history.createTable(),
      this.control.createIfNotExists(),
      this.workItems.createIfNotExists(),
      this.largeMessages.createIfNotExists(),
    ]);
  }

  // ---- large values ----

  async #putLarge(entity: Record<string, unknown>, field: string, value: string, blobName: string) {
    if (value.length <= largeValueChars) {
      entity[field] = value;
      return;
    }
    await this.largeMessages.getBlockBlobClient(blobName).upload(value, Buffer.byteLength(value));
    entity[`${field}BlobName`] = blobName;
  }

  async #getLarge(entity: Record<string, unknown>, field: string): Promise<string | null> {
    const blobName = entity[`${field}BlobName`];
    if (typeof blobName === 'string') {
      const buffer = await this.largeMessages.getBlockBlobClient(blobName).downloadToBuffer();
      return buffer.toString('utf8');
    }
    const value = entity[field];
    return typeof value === 'string' ? value : null;
  }

  // ---- instances ----

  async #toInstanceEntity(r: InstanceRecord): Promise<TableEntity> {
    const entity: Record<string, unknown> = {
      partitionKey: r.instanceId,
      rowKey: '',
      Name: r.name,
      Version: '',
      ExecutionId: r.executionId,
      RuntimeStatus: r.runtimeStatus,
      CreatedTime: r.createdTime,
      LastUpdatedTime: r.lastUpdatedTime,
    };
    if (r.parent) entity.ParentInstance = r.parent;
    const values = { Input: r.input, Output: r.output, CustomStatus: r.customStatus };
    for (const field of instanceBlobFields) {
      const value = values[field];
      if (value !== null) {
        await this.#putLarge(entity, field, value, `${r.instanceId}/${r.executionId}/${field}.json`);
      }
    }
    return entity as TableEntity;
  }

  async #fromInstanceEntity(e: Record<string, unknown>, withInput = true): Promise<InstanceRecord> {
    return {
      instanceId: String(e.partitionKey),
      name: String(e.Name ?? ''),
      executionId: String(e.ExecutionId ?? ''),
      runtimeStatus: String(e.RuntimeStatus ?? 'Pending') as RuntimeStatus,
      input: withInput ? await this.#getLarge(e, 'Input') : null,
      output: await this.#getLarge(e, 'Output'),
      customStatus: await this.#getLarge(e, 'CustomStatus'),
      createdTime: new Date(e.CreatedTime as string | Date),
      lastUpdatedTime: new Date(e.LastUpdatedTime as string | Date),
      parent: typeof e.ParentInstance === 'string' ? e.ParentInstance : null,
    };
  }

  /** Reads an instance row; undefined if there is none. */
  async getInstance(instanceId: string): Promise<{ record: InstanceRecord; etag: string } | undefined> {
    try {
      const entity = await this.instances.getEntity(instanceId, '');
      return { record: await this.#fromInstanceEntity(entity), etag: entity.etag };
    } catch (err) {
      if (storageStatus(err) === 404) return undefined;
      throw this.#wrap(err, `read instance ${instanceId}`);
    }
  }

  /**
   * Writes an instance row. With `etag` the write succeeds only if the row is unchanged since it was read
   * (optimistic concurrency); with `'create'` only if no row exists. Throws DURABLE_CONFLICT otherwise.
   */
  async putInstance(record: InstanceRecord, etag: string | 'create' | '*'): Promise<string> {
    const entity = await this.#toInstanceEntity(record);
    try {
      const result =
        etag === 'create'
          ? await this.instances.createEntity(entity)
          : await this.instances.updateEntity(entity, 'Replace', { etag });
      return result.etag ?? '';
    } catch (err) {
      const status = storageStatus(err);
      if (status === 409 || status === 412 || status === 404) {
        throw new DurableHubError(
          'DURABLE_CONFLICT',
          `Instance ${record.instanceId} changed concurrently.`,
          true,
          {
            cause: err,
          },
        );
      }
      throw this.#wrap(err, `write instance ${record.instanceId}`);
    }
  }

  /** Lists instance rows matching an OData filter, one page at a time. */
  async listInstances(
    filter: string | undefined,
    pageSize: number,
    continuationToken: string | undefined,
    withInput: boolean,
  ): Promise<{ records: InstanceRecord[]; continuationToken: string | undefined }> {
    const pages = this.instances
      .listEntities({ queryOptions: filter ? { filter } : {} })
      .byPage({ maxPageSize: pageSize, ...(continuationToken ? { continuationToken } : {}) });
    const page = await pages.next();
    if (page.done) return { records: [], continuationToken: undefined };
    const records = await Promise.all(page.value.map((e) => this.#fromInstanceEntity(e, withInput)));
    return { records, continuationToken: page.value.continuationToken };
  }

  /** Deletes an instance row, its history and its large values. */
  async purgeInstance(instanceId: string): Promise<void> {
    const rows = this.history.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${instanceId}`, select: ['rowKey'] },
    });
    const keys: string[] = [];
    for await (const row of rows) keys.push(String(row.rowKey));
    for (let i = 0; i < keys.length; i += batchLimit) {
      await this.history.submitTransaction(
        keys.slice(i, i + batchLimit).map((k) => ['delete', { partitionKey: instanceId, rowKey: k }]),
      );
    }
    for await (const blob of this.largeMessages.listBlobsFlat({ prefix: `${instanceId}/` })) {
      await this.largeMessages.deleteBlob(blob.name);
    }
    try {
      await this.instances.deleteEntity(instanceId, '');
    } catch (err) {
      if (storageStatus(err) !== 404) throw this.#wrap(err, `purge ${instanceId}`);
    }
  }

  // ---- history ----

  async #toHistoryEntity(instanceId: string, executionId: string, index: number, event: HistoryEvent) {
    const rowKey = rowKeyOf(index);
    const entity: Record<string, unknown> = { partitionKey: instanceId, rowKey, ExecutionId: executionId };
    for (const [key, value] of Object.entries(event)) {
      if (value === null || value === undefined) continue;
      // "Timestamp" is a system property of Azure Tables; the Azure Storage provider stores it as _Timestamp.
      const column = key === 'Timestamp' ? '_Timestamp' : key;
      if (typeof value === 'string') {
        await this.#putLarge(
          entity,
          column,
          value,
          `${instanceId}/${executionId}/history-${rowKey}-${column}.json`,
        );
      } else if (typeof value === 'object') {
        entity[column] = JSON.stringify(value);
      } else {
        entity[column] = value;
      }
    }
    return entity as TableEntity;
  }

  async #fromHistoryEntity(entity: Record<string, unknown>): Promise<HistoryEvent> {
    const event: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entity)) {
      if (key === 'partitionKey' || key === 'rowKey' || key === 'timestamp' || key === 'etag') continue;
      if (key === 'ExecutionId' || key.endsWith('BlobName')) continue;
      if (key === '_Timestamp') event.Timestamp = value;
      else if (objectFields.has(key) && typeof value === 'string') event[key] = JSON.parse(value);
      else event[key] = value;
    }
    for (const key of Object.keys(entity)) {
      if (key.endsWith('BlobName')) {
        const field = key.slice(0, -'BlobName'.length);
        event[field === '_Timestamp' ? 'Timestamp' : field] = await this.#getLarge(entity, field);
      }
    }
    return event as HistoryEvent;
  }

  /** Reads the committed history of the instance's current execution; undefined if none was committed. */
  async loadHistory(instanceId: string): Promise<StoredHistory | undefined> {
    const rows: Record<string, unknown>[] = [];
    try {
      for await (const row of this.history.listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${instanceId}` },
      })) {
        rows.push(row);
      }
    } catch (err) {
      throw this.#wrap(err, `read history of ${instanceId}`);
    }
    const sentinel = rows.find((r) => r.rowKey === sentinelRowKey);
    if (!sentinel) return undefined;
    const executionId = String(sentinel.ExecutionId);
    const count = Number(sentinel.HistoryCount);
    // Rows past the committed count or of an older execution are leftovers of an unfinished append.
    const committed = rows
      .filter((r) => r.rowKey !== sentinelRowKey && r.ExecutionId === executionId)
      .filter((r) => parseInt(String(r.rowKey), 16) < count)
      .sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey)));
    return {
      executionId,
      events: await Promise.all(committed.map((r) => this.#fromHistoryEntity(r))),
      engineState: await this.#getLarge(sentinel, 'EngineState'),
      etag: String(sentinel.etag),
    };
  }

  /**
   * Appends events to the current execution's history atomically: event rows first (invisible until the
   * sentinel's count covers them), then the sentinel, whose ETag must still match (`null` = no sentinel
   * yet). Returns the sentinel's new ETag; throws DURABLE_CONFLICT if another writer got there first.
   */
  async appendHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    newEvents: readonly HistoryEvent[],
    engineState: string,
    etag: string | null,
  ): Promise<string> {
    const actions: TransactionAction[] = [];
    for (let i = 0; i < newEvents.length; i++) {
      actions.push([
        'upsert',
        await this.#toHistoryEntity(instanceId, executionId, fromIndex + i, newEvents[i]!),
        'Replace',
      ]);
    }
    const sentinel: Record<string, unknown> = {
      partitionKey: instanceId,
      rowKey: sentinelRowKey,
      ExecutionId: executionId,
      HistoryCount: fromIndex + newEvents.length,
    };
    await this.#putLarge(
      sentinel,
      'EngineState',
      engineState,
      `${instanceId}/${executionId}/state-${rowKeyOf(fromIndex + newEvents.length)}.json`,
    );
    const sentinelAction: TransactionAction =
      etag === null
        ? ['create', sentinel as TableEntity]
        : ['update', sentinel as TableEntity, 'Replace', { etag }];
    try {
      while (actions.length >= batchLimit) {
        await this.history.submitTransaction(actions.splice(0, batchLimit));
      }
      const response = await this.history.submitTransaction([...actions, sentinelAction]);
      // Sub-responses come in request order and carry no row key for updates: the sentinel is last.
      const etag = response.subResponses.at(-1)?.etag;
      if (etag) return etag;
      return (await this.history.getEntity(instanceId, sentinelRowKey)).etag;
    } catch (err) {
      const status = storageStatus(err);
      if (status === 409 || status === 412 || status === 404) {
        throw new DurableHubError(
          'DURABLE_CONFLICT',
          `History of ${instanceId} was appended concurrently; this episode is discarded.`,
          false,
          { cause: err },
        );
      }
      throw this.#wrap(err, `append history of ${instanceId}`);
    }
  }

  // ---- control queue ----

  /** Sends a message to the control queue (bodies over 45 KB go to a blob). */
  async sendControl(message: ControlMessage): Promise<void> {
    let text = JSON.stringify(message);
    if (text.length > largeValueChars) {
      const blobName = `${message.instanceId}/messages/${crypto.randomUUID()}.json`;
      await this.largeMessages.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text));
      text = JSON.stringify({ blob: blobName });
    }
    try {
      await this.control.sendMessage(text);
    } catch (err) {
      throw this.#wrap(err, 'send a control message');
    }
  }

  /** Receives up to 32 control messages, hidden from other receivers for `visibilitySeconds`. */
  async receiveControl(visibilitySeconds: number): Promise<ReceivedControlMessage[]> {
    const response = await this.control.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: visibilitySeconds,
    });
    const out: ReceivedControlMessage[] = [];
    for (const item of response.receivedMessageItems) {
      let body = JSON.parse(item.messageText) as ControlMessage | { blob: string };
      if ('blob' in body) {
        const buffer = await this.largeMessages.getBlockBlobClient(body.blob).downloadToBuffer();
        body = JSON.parse(buffer.toString('utf8')) as ControlMessage;
      }
      out.push({ message: body, messageId: item.messageId, popReceipt: item.popReceipt });
    }
    return out;
  }

  /** Deletes a processed control message (a message already gone is fine: it was processed). */
  async deleteControl(received: ReceivedControlMessage): Promise<void> {
    try {
      await this.control.deleteMessage(received.messageId, received.popReceipt);
    } catch (err) {
      if (storageStatus(err) !== 404) throw this.#wrap(err, 'delete a control message');
    }
  }

  #wrap(err: unknown, what: string): DurableHubError {
    const status = storageStatus(err);
    const transient = status === undefined || status >= 500 || status === 408;
    return new DurableHubError(
      'DURABLE_STORAGE',
      `Storage failed to ${what}: ${(err as Error).message}`,
      transient,
      {
        cause: err,
      },
    );
  }
}
