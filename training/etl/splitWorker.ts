/**
 * Worker-thread entry of the splitter (see splitJob.ts): decompresses, splits and encodes the unit's files
 * and posts days and row batches to the main thread, which loads them into DuckDB. Keeps at most
 * MAX_BATCHES_IN_FLIGHT batches unacknowledged, so memory stays bounded when DuckDB is the slower side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EtlError, EtlInputError } from './errors.js';
import { type SplitJob, type SplitMessage, type WireError } from './splitJob.js';
import { batchBuffers } from './rows.js';
import { DaySplitter, SplitOrderError } from './split.js';

const MAX_BATCHES_IN_FLIGHT = 8;
/** Progress is posted at most every this many compressed bytes. */
const PROGRESS_BYTES = 4 << 20;

const port = parentPort;
if (!port) throw new Error('splitWorker.ts runs only as a worker thread');
const job = workerData as SplitJob;
const post = (message: SplitMessage, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);

let inFlight = 0;
let wake: (() => void) | undefined;
port.on('message', (message: { ack: number; buffers: ArrayBuffer[] }) => {
  inFlight -= message.ack;
  splitter.recycle(message.buffers);
  wake?.();
});

const splitter = new DaySplitter(
  job.scratch,
  {
    rows: (batch) => {
      inFlight++;
      post({ kind: 'rows', batch }, batchBuffers(batch));
    },
    day: (lines) => post({ kind: 'day', lines }),
    settle: async () => {
      while (inFlight > MAX_BATCHES_IN_FLIGHT) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  },
  job.mode,
);

try {
  let before = 0;
  for (const { file, bytes } of job.files) {
    let posted = 0;
    const result = await splitter.splitFile(file, (done) => {
      if (done - posted < PROGRESS_BYTES) return;
      posted = done;
      post({ kind: 'bytes', compressedBytes: before + done });
    });
    before += bytes;
    post({ kind: 'file', result: { ...result, file, bytes } });
  }
  const { remaining, late } = splitter.finish();
  post({
    kind: 'done',
    remaining: remaining.map((d) => splitter.day(d)),
    late: late.map((d) => splitter.day(d)),
    suspects: splitter.suspectFragments(),
  });
} catch (error) {
  splitter.finish();
  post({ kind: 'error', error: toWire(error) });
}

function toWire(error: unknown): WireError {
  if (error instanceof SplitOrderError) return { kind: 'order', day: error.day, why: error.why };
  if (error instanceof EtlInputError)
    return { kind: 'input', code: error.code, file: error.file, message: error.message };
  if (error instanceof EtlError)
    return { kind: 'etl', code: error.code, message: error.message, transient: error.transient };
  return { kind: 'other', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
