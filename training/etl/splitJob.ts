import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EtlError, type EtlErrorCode, EtlInputError } from './errors.js';
import { batchBuffers, type RowBatch } from './rows.js';
import {
  type DayLines,
  type Fragment,
  type SplitFileResult,
  type SplitMode,
  SplitOrderError,
} from './split.js';

/** What the split worker is asked to do. */
export interface SplitJob {
  files: { file: string; bytes: number }[];
  scratch: string;
  mode: SplitMode;
}

/** One file's split, with its name and compressed size. */
export type SplitFile = SplitFileResult & { file: string; bytes: number };

/** What a finished split leaves for the main thread besides the days already posted. */
export interface SplitOutcome {
  files: SplitFile[];
  /** Days never handed over (the input ended in them). */
  remaining: DayLines[];
  /** Days that got lines after they were handed over (full mode): to be processed again with all lines. */
  late: DayLines[];
  /** Lines that cannot be valid, from every file. */
  suspects: Fragment[];
}

/** An error crossing the thread boundary (classes do not survive structured cloning). */
export type WireError =
  | { kind: 'order'; day: string; why: 'late' | 'unordered' }
  | { kind: 'input'; code: EtlErrorCode; file: string; message: string }
  | { kind: 'etl'; code: EtlErrorCode; message: string; transient: boolean }
  | { kind: 'other'; message: string };

/** Messages from the worker, in input order. */
export type SplitMessage =
  | { kind: 'rows'; batch: RowBatch }
  | { kind: 'day'; lines: DayLines }
  | { kind: 'bytes'; compressedBytes: number }
  | { kind: 'file'; result: SplitFile }
  | ({ kind: 'done' } & Omit<SplitOutcome, 'files'>)
  | { kind: 'error'; error: WireError };

/** What the main thread does with the worker's output; each promise settles before the next message is handled. */
export interface SplitHandlers {
  rows(batch: RowBatch): Promise<void>;
  day(lines: DayLines): Promise<void>;
  bytes?(compressedBytes: number): void;
}

/** A running split: its outcome, and a way to stop it early. */
export interface RunningSplit {
  done: Promise<SplitOutcome>;
  /** Stops the worker (when the unit failed downstream). */
  stop(): Promise<void>;
}

/**
 * Splits the unit's files on a worker thread, so decompressing, splitting and encoding (one core's worth
 * of work) overlap the main thread's loading and the SQL. Messages are handled strictly in order; each row
 * batch is acknowledged once loaded, which paces the worker.
 */
export function runSplitJob(job: SplitJob, handlers: SplitHandlers): RunningSplit {
  const worker = startWorker(job);
  const files: SplitFile[] = [];
  let chain: Promise<void> = Promise.resolve();
  let settled = false;
  let fail: (error: unknown) => void = () => undefined;
  const done = new Promise<SplitOutcome>((resolve, reject) => {
    fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      reject(error);
      void worker.terminate();
    };
    worker.on('message', (message: SplitMessage) => {
      chain = chain.then(async () => {
        if (settled) return;
        switch (message.kind) {
          case 'rows':
            await handlers.rows(message.batch);
            {
              const buffers = batchBuffers(message.batch);
              worker.postMessage({ ack: 1, buffers }, buffers);
            }
            return;
          case 'day':
            return handlers.day(message.lines);
          case 'bytes':
            handlers.bytes?.(message.compressedBytes);
            return;
          case 'file':
            files.push(message.result);
            return;
          case 'done':
            settled = true;
            resolve({ files, remaining: message.remaining, late: message.late, suspects: message.suspects });
            await worker.terminate();
            return;
          case 'error':
            fail(fromWire(message.error));
            return;
        }
      });
      chain = chain.catch(fail);
    });
    worker.on('error', (error) =>
      fail(new EtlError('ENGINE_FAILED', `the split worker failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) => {
      if (!settled) fail(new EtlError('ENGINE_FAILED', `the split worker exited with code ${code}`));
    });
  });
  return {
    done,
    async stop() {
      fail(new EtlError('ENGINE_FAILED', 'the split was stopped'));
      await worker.terminate();
    },
  };
}

function fromWire(error: WireError): Error {
  switch (error.kind) {
    case 'order':
      return new SplitOrderError(error.day, error.why);
    case 'input': {
      // The message already starts with the file name.
      const problem = error.message.startsWith(`${error.file}: `)
        ? error.message.slice(error.file.length + 2)
        : error.message;
      return new EtlInputError(error.code, error.file, problem);
    }
    case 'etl':
      return new EtlError(error.code, error.message, { transient: error.transient });
    case 'other':
      return new EtlError('ENGINE_FAILED', `the split worker failed: ${error.message}`);
  }
}

/**
 * Starts splitWorker next to this module: the compiled .js as it is; from source (.ts under tsx or
 * vitest) through a bootstrap that registers tsx in the worker first, since loaders are not reliably
 * passed on to worker threads.
 */
function startWorker(job: SplitJob): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = new URL(`./splitWorker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(script, { workerData: job });
  // tsx's ESM api (its CommonJS build resolves its own files wrongly inside an eval worker); require.resolve
  // gives the CommonJS twin next to it.
  const tsxApi = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  );
  const bootstrap = `import(${JSON.stringify(tsxApi.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: job });
}
