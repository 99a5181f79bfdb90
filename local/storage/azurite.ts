import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HostLogger } from '../log.js';

/** The well-known Azurite development account (public, documented by Microsoft; not a secret). */
export const devAccountName = 'devstoreaccount1';
export const devAccountKey =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** Ports `UseDevelopmentStorage=true` means. */
export const defaultAzuritePorts = { blob: 10000, queue: 10001, table: 10002 } as const;

/** Storage endpoints the host and the app talk to. `stop` ends Azurite if this process started it. */
export interface StorageHandle {
  connectionString: string;
  blobEndpoint: string;
  queueEndpoint: string;
  tableEndpoint: string;
  /** True when this process started Azurite (false when an already running one is reused). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Folder for persistent data; omit for in-memory storage (tests). */
  location?: string;
  logger?: HostLogger;
  /** 'ephemeral' (default) lets the OS choose ports; 'default' uses 10000-10002 like `UseDevelopmentStorage`. */
  ports?: 'ephemeral' | 'default';
  /** How long to wait for all three services to listen. */
  startTimeoutMs?: number;
}

/** Storage could not be started or reached; `transient` says whether retrying may help. */
export class StorageError extends Error {
  constructor(
    readonly code:
      'AZURITE_START_FAILED' | 'STORAGE_NOT_LOOPBACK' | 'STORAGE_UNREACHABLE' | 'BAD_CONNECTION_STRING',
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

/** Builds an Azurite connection string for the development account. */
export function azuriteConnectionString(endpoints: { blob: string; queue: string; table: string }): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${devAccountName}`,
    `AccountKey=${devAccountKey}`,
    `BlobEndpoint=${endpoints.blob}`,
    `QueueEndpoint=${endpoints.queue}`,
    `TableEndpoint=${endpoints.table}`,
    '',
  ].join(';');
}

function endpointsFor(ports: { blob: number; queue: number; table: number }) {
  return {
    blob: `http://127.0.0.1:${ports.blob}/${devAccountName}`,
    queue: `http://127.0.0.1:${ports.queue}/${devAccountName}`,
    table: `http://127.0.0.1:${ports.table}/${devAccountName}`,
  };
}

function azuriteScript(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
}

// Azurite has no "exit with the parent" option: the child listens on an IPC channel and shuts itself
// down gracefully (SIGTERM → Azurite flushes) when the channel closes, so a killed host leaves no orphan.
const launcher =
  'const s=process.env.AZURITE_SCRIPT;process.argv.splice(1,0,s);' +
  "process.on('disconnect',()=>process.kill(process.pid,'SIGTERM'));process.channel?.unref();require(s);";

const listeningLine = /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/;

/**
 * Starts Azurite 3.x as a child process on loopback with telemetry disabled, in memory unless `location`
 * is given, and resolves once blob, queue and table services listen.
 */
export async function startAzurite(opts: StartAzuriteOptions = {}): Promise<StorageHandle> {
  const portsMode = opts.ports ?? 'ephemeral';
  const port = (service: keyof typeof defaultAzuritePorts) =>
    String(portsMode === 'default' ? defaultAzuritePorts[service] : 0);
  const args = [
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--blobHost',
    '127.0.0.1',
    '--queueHost',
    '127.0.0.1',
    '--tableHost',
    '127.0.0.1',
    '--blobPort',
    port('blob'),
    '--queuePort',
    port('queue'),
    '--tablePort',
    port('table'),
  ];
  if (opts.location) {
    await mkdir(opts.location, { recursive: true });
    args.push('--location', opts.location);
  } else {
    args.push('--inMemoryPersistence');
  }

  const child = spawn(process.execPath, ['-e', launcher, '--', ...args], {
    env: { ...process.env, AZURITE_SCRIPT: azuriteScript() },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd: opts.location ?? process.cwd(),
  });
  const ports = await waitForListening(child, opts.startTimeoutMs ?? 30_000);
  const endpoints = endpointsFor(ports);
  opts.logger?.info('Azurite started', {
    blob: ports.blob,
    queue: ports.queue,
    table: ports.table,
    storage: opts.location ?? 'in-memory',
  });
  // Keep the child from holding the event loop open; stop() still waits for it.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  (child as unknown as { channel?: { unref(): void } }).channel?.unref();

  let stopping: Promise<void> | undefined;
  return {
    connectionString: azuriteConnectionString(endpoints),
    blobEndpoint: endpoints.blob,
    queueEndpoint: endpoints.queue,
    tableEndpoint: endpoints.table,
    owned: true,
    stop() {
      stopping ??= stopChild(child);
      return stopping;
    },
  };
}

function waitForListening(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ blob: number; queue: number; table: number }> {
  return new Promise((resolve, reject) => {
    const found: Partial<Record<'blob' | 'queue' | 'table', number>> = {};
    let output = '';
    const fail = (message: string) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new StorageError('AZURITE_START_FAILED', `${message}\n${output.trim()}`, true));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n')) {
        const m = listeningLine.exec(line);
        if (m?.[1] && m[2]) found[m[1].toLowerCase() as 'blob' | 'queue' | 'table'] = Number(m[2]);
      }
      if (found.blob && found.queue && found.table) {
        cleanup();
        resolve({ blob: found.blob, queue: found.queue, table: found.table });
      }
    };
    const onExit = (code: number | null) => fail(`Azurite exited with code ${code} before listening.`);
    const timer = setTimeout(() => fail(`Azurite did not start within ${timeoutMs} ms.`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // keep draining so the child never blocks on a full pipe
      child.stdout?.resume();
      child.stderr?.resume();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // the child was unref'd after start; hold the event loop until it has exited
  child.ref();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Parses `Key=Value;...` into a map (keys case-insensitive, lower-cased). */
export function parseConnectionString(connectionString: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    map.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return map;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function endpointsOf(connectionString: string): { blob: string; queue: string; table: string } {
  const parsed = parseConnectionString(connectionString);
  if (parsed.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    return endpointsFor(defaultAzuritePorts);
  }
  const blob = parsed.get('blobendpoint');
  const queue = parsed.get('queueendpoint');
  const table = parsed.get('tableendpoint');
  if (!blob || !queue || !table) {
    throw new StorageError(
      'BAD_CONNECTION_STRING',
      'AzureWebJobsStorage must be "UseDevelopmentStorage=true" or name BlobEndpoint, QueueEndpoint and TableEndpoint.',
    );
  }
  for (const endpoint of [blob, queue, table]) {
    const host = new URL(endpoint).hostname;
    if (!loopbackHosts.has(host)) {
      throw new StorageError(
        'STORAGE_NOT_LOOPBACK',
        `AzureWebJobsStorage points at ${host}; the local host only talks to loopback storage (Azurite).`,
      );
    }
  }
  return { blob, queue, table };
}

/** True when every endpoint answers HTTP (any status) within `timeoutMs`. */
export async function storageReachable(
  endpoints: { blob: string; queue: string; table: string },
  timeoutMs = 1500,
): Promise<boolean> {
  // node:http without an agent: no keep-alive socket is left behind to delay Azurite's shutdown
  const probe = (url: string) =>
    new Promise<boolean>((resolve) => {
      const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
    });
  const results = await Promise.all([probe(endpoints.blob), probe(endpoints.queue), probe(endpoints.table)]);
  return results.every(Boolean);
}

export interface ResolveStorageOptions {
  /** Folder for Azurite's data when one has to be started; omit for in-memory. */
  location?: string;
  logger?: HostLogger;
}

/**
 * Resolves `AzureWebJobsStorage` as the local host uses it: an Azurite that already answers at the
 * named (or, for `UseDevelopmentStorage=true`, default) endpoints is reused; otherwise, for the development
 * storage setting, Azurite is started on the default ports. Non-loopback storage is refused.
 */
export async function resolveWebJobsStorage(
  setting: string | undefined,
  opts: ResolveStorageOptions = {},
): Promise<StorageHandle> {
  const value = setting?.trim() || 'UseDevelopmentStorage=true';
  const endpoints = endpointsOf(value);
  const isDevStorage = parseConnectionString(value).get('usedevelopmentstorage')?.toLowerCase() === 'true';
  if (await storageReachable(endpoints)) {
    opts.logger?.info('Reusing running storage', { blob: endpoints.blob });
    return {
      connectionString: isDevStorage ? azuriteConnectionString(endpoints) : value,
      blobEndpoint: endpoints.blob,
      queueEndpoint: endpoints.queue,
      tableEndpoint: endpoints.table,
      owned: false,
      stop: () => Promise.resolve(),
    };
  }
  if (!isDevStorage) {
    throw new StorageError(
      'STORAGE_UNREACHABLE',
      `No storage answers at ${endpoints.blob}; start Azurite there or set AzureWebJobsStorage=UseDevelopmentStorage=true.`,
      true,
    );
  }
  return startAzurite({
    ports: 'default',
    ...(opts.location ? { location: opts.location } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
}
