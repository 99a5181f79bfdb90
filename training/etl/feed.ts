import { execFile } from 'node:child_process';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { close, open } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';

/** What the feed saw of a file's decompressed text. */
export interface FeedResult {
  /** Lines in the text (a last line without a newline counts). */
  lines: number;
  bytes: number;
}

/** A file's text offered to DuckDB at `path` while Node decompresses and checks it. */
export interface Feed {
  path: string;
  /** Resolves when the whole file was decompressed intact; rejects on a corrupt or truncated stream. */
  done: Promise<FeedResult>;
  /** Stops feeding (the reader failed); never leaves a writer blocked on the pipe. */
  abort(): void;
}

/** Counts newlines as text passes through, so the ETL can prove no line went missing. */
class LineCounter extends Transform {
  lines = 0;
  bytes = 0;
  private lastByte = 0x0a;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let at = chunk.indexOf(0x0a);
    while (at !== -1) {
      this.lines++;
      at = chunk.indexOf(0x0a, at + 1);
    }
    this.bytes += chunk.length;
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1] ?? 0x0a;
    callback(null, chunk);
  }

  result(): FeedResult {
    return { lines: this.lines + (this.lastByte === 0x0a ? 0 : 1), bytes: this.bytes };
  }
}

/**
 * Decompresses `file` in Node (zlib runs on the libuv pool) into a named pipe DuckDB reads as plain CSV.
 * This checks gzip integrity (DuckDB's reader stops quietly at a truncated stream), counts lines for the
 * row accounting, and lets decompression and parsing run on two cores at once. Where named pipes are not
 * available, it decompresses to a temporary file first.
 */
export async function openFeed(file: string, pipePath: string): Promise<Feed> {
  const counter = new LineCounter();
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  const hasPipe = await promisify(execFile)('mkfifo', [pipePath]).then(
    () => true,
    () => false,
  );
  const sink = createWriteStream(pipePath, { highWaterMark: 1 << 20 });
  const piped = file.endsWith('.gz')
    ? pipeline(source, createGunzip({ chunkSize: 1 << 20 }), counter, sink)
    : pipeline(source, counter, sink);
  const done = piped.then(() => counter.result());
  if (!hasPipe) {
    const result = await done;
    return { path: pipePath, done: Promise.resolve(result), abort: () => undefined };
  }
  done.catch(() => undefined); // Observed by the caller via `done`; this only keeps it from being unhandled.
  return {
    path: pipePath,
    done,
    abort() {
      // A writer still waiting for a reader blocks in open(); opening the read end releases it.
      open(pipePath, constants.O_RDONLY | constants.O_NONBLOCK, (error, fd) => {
        if (!error) close(fd, () => undefined);
      });
      source.destroy();
      sink.destroy();
    },
  };
}
