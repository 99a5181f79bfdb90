import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { EtlInputError } from './errors.js';
import { type RowBatch, RowEncoder } from './rows.js';

/**
 * Version of the split rules below (what counts as a well-formed event_time, what is a duplicate); part of
 * the ETL code version because it decides which lines are valid.
 */
export const SPLIT_RULES_VERSION =
  'split-3: event_time YYYY-MM-DD HH:MM:SS UTC, calendar-checked; dup = same bytes; plain lines encoded';

/** A file of raw lines (plain CSV, no header) written by the splitter for DuckDB to read. */
export interface Fragment {
  path: string;
  source: string;
  /** Lines written (blank lines are never written; the splitter counts them). */
  lines: number;
  bytes: number;
  /** [line in this fragment (1-based), line in the source (header = 1)] wherever the two stop running in step. */
  checkpoints: [number, number][];
}

/** One calendar day's lines (from every file split so far). */
export interface DayLines {
  day: string;
  /** Plainly valid lines handed over as encoded rows (see {@link RowEncoder}); only in encode mode. */
  rows: number;
  /** The day's other lines as they are (every line in full mode), minus the exact copies in `copies`. */
  fragments: Fragment[];
  /** Exact copies of earlier lines of the same day and second, removed from `fragments`. */
  copies: Fragment[];
  /**
   * False when every copy was recognised by the splitter: the day's lines came in one run with
   * non-decreasing time. True when DuckDB must de-duplicate the day itself.
   */
  needsDedupe: boolean;
}

/** What splitting one file saw. */
export interface SplitFileResult {
  sha256: string;
  /** Data lines (header excluded; a last line without a newline counts). */
  lines: number;
  /** Data lines with no text at all; never written to a fragment, quarantined as empty_line. */
  emptyLines: number;
  /** Decompressed bytes. */
  bytes: number;
}

/**
 * The input is out of the order a fast path needs: a line for a day whose fragments were already processed
 * and deleted ('late'), or, in encode mode, lines of a day that may hold copies the splitter cannot see
 * ('unordered': time going backwards, or a day coming back). The unit must be split again in full mode,
 * keeping every fragment.
 */
export class SplitOrderError extends Error {
  constructor(
    readonly day: string,
    readonly why: 'late' | 'unordered',
  ) {
    super(
      why === 'late'
        ? `lines of ${day} arrived after that day was processed`
        : `lines of ${day} are not in time order`,
    );
    this.name = 'SplitOrderError';
  }
}

/** How the splitter treats days and lines. */
export interface SplitMode {
  /** When false, a line for a day already handed over throws {@link SplitOrderError} ('late'). */
  keepEmitted: boolean;
  /**
   * Hands plainly valid lines over as encoded rows instead of writing them. Needs time-ordered input
   * (copies are recognised within a second), so any disorder throws {@link SplitOrderError} ('unordered').
   */
  encode: boolean;
}

/** Where the splitter's output goes, in input order: a day's row batches always come before the day. */
export interface SplitSink {
  /** A day that is complete as far as the input read so far tells. */
  day(lines: DayLines): void;
  /** Encoded rows (encode mode). */
  rows(batch: RowBatch): void;
  /** Awaited after each decompressed chunk: lets the consumer catch up (back-pressure). */
  settle(): Promise<void>;
}

/** A fragment being written: its file and the byte ranges of `data` waiting to be written. */
interface Sink {
  fd: number;
  fragment: Fragment;
  nextSourceLine: number;
  data: Buffer | undefined;
  starts: number[];
  ends: number[];
}

interface Bucket {
  day: string;
  dayBytes: Buffer;
  rows: number;
  fragments: Fragment[];
  copies: Fragment[];
  sink?: Sink;
  copySink?: Sink;
  /** Second of day of the last line, and where the lines of that second are (to recognise exact copies). */
  lastSecond: number;
  runBufs: Buffer[];
  runStarts: number[];
  runEnds: number[];
  runLength: number;
  needsDedupe: boolean;
  emitted: boolean;
  late: boolean;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Second of day of a well-formed `YYYY-MM-DD HH:MM:SS UTC,` at the start of a line (a real calendar date,
 * time 00:00:00-23:59:59), or -1. Only such lines can be valid rows; the rest are quarantined as
 * bad_event_time (or for an earlier reason) without DuckDB parsing times.
 */
export function eventSecond(b: Buffer, at: number, length: number): number {
  if (length < 24 || b[at + 23] !== 0x2c) return -1;
  if (b[at + 4] !== 0x2d || b[at + 7] !== 0x2d || b[at + 10] !== 0x20 || b[at + 13] !== 0x3a) return -1;
  if (b[at + 16] !== 0x3a || b[at + 19] !== 0x20 || b[at + 20] !== 0x55 || b[at + 21] !== 0x54) return -1;
  if (b[at + 22] !== 0x43) return -1;
  const year = digit(b, at) * 1000 + digit(b, at + 1) * 100 + digit(b, at + 2) * 10 + digit(b, at + 3);
  const month = digit(b, at + 5) * 10 + digit(b, at + 6);
  const day = digit(b, at + 8) * 10 + digit(b, at + 9);
  const h = digit(b, at + 11) * 10 + digit(b, at + 12);
  const m = digit(b, at + 14) * 10 + digit(b, at + 15);
  const s = digit(b, at + 17) * 10 + digit(b, at + 18);
  if (year < 0 || month < 1 || month > 12 || day < 1 || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59)
    return -1;
  if (day > 28) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] as number))) return -1;
  }
  return h * 3600 + m * 60 + s;
}

/** The decimal digit at `at`, or a negative number large enough to fail any range check. */
function digit(b: Buffer, at: number): number {
  const c = (b[at] as number) - 0x30;
  return c >= 0 && c <= 9 ? c : -100_000;
}

/**
 * Splits raw clickstream text into one plain CSV per calendar day while Node decompresses (zlib runs on the
 * libuv pool, beside DuckDB's threads). Per-day pieces let DuckDB parse with all threads (a gzip stream can
 * only be parsed by one), keep de-duplication and distinct users exact with hash tables the size of a day,
 * and let DuckDB work on finished days while later ones are still being decompressed. On the way it
 * checks each line's event_time (lines without a well-formed one, or with a quote, go to a "suspect"
 * fragment: they cannot be valid) and, for time-ordered input, takes out exact copies of a line within its
 * second so DuckDB need not de-duplicate. In encode mode plainly valid lines become typed rows (see
 * {@link RowEncoder}) for DuckDB's appender, so DuckDB parses only the few other lines. A day is handed to
 * the sink when the lines move on to another day; lines that come back to a handed-over day make it "late",
 * to be processed again at the end.
 * Hand-written because no library does this routing at decompression speed.
 */
export class DaySplitter {
  private readonly buckets = new Map<string, Bucket>();
  private current: Bucket | undefined;
  private suspectSink: Sink | undefined;
  private readonly suspects: Fragment[] = [];
  private fragmentCount = 0;
  private readonly dirty = new Set<Sink>();
  private readonly encoder: RowEncoder;

  /**
   * @param dir where fragments go
   * @param sink receives the days and encoded rows
   * @param mode what to do with late days and whether to encode lines
   */
  constructor(
    private readonly dir: string,
    private readonly sink: SplitSink,
    private readonly mode: SplitMode,
  ) {
    this.encoder = new RowEncoder((batch) => sink.rows(batch));
  }

  /** Takes back the column buffers of a row batch the consumer has loaded, for reuse. */
  recycle(buffers: ArrayBuffer[]): void {
    this.encoder.recycle(buffers);
  }

  /** A day's lines as the consumer sees them. */
  day(day: string): DayLines {
    const b = this.buckets.get(day);
    return {
      day,
      rows: b?.rows ?? 0,
      fragments: b?.fragments ?? [],
      copies: b?.copies ?? [],
      needsDedupe: b?.needsDedupe ?? false,
    };
  }

  /** Fragments of lines that cannot be valid (bad event_time, quotes), for quarantine. */
  suspectFragments(): Fragment[] {
    return this.suspects;
  }

  /** Splits one file (gzip or plain); resolves when it was read intact. */
  async splitFile(file: string, onBytes?: (compressedBytes: number) => void): Promise<SplitFileResult> {
    const hash = createHash('sha256');
    const source = createReadStream(file, { highWaterMark: 1 << 20 });
    let compressed = 0;
    source.on('data', (chunk) => {
      hash.update(chunk as Buffer);
      compressed += (chunk as Buffer).length;
      onBytes?.(compressed);
    });
    const text = file.endsWith('.gz') ? source.pipe(createGunzip({ chunkSize: 1 << 20 })) : source;
    if (text !== source) source.on('error', (e) => text.destroy(e));
    const state = { line: 0, emptyLines: 0 };
    let bytes = 0;
    let carry: Buffer | undefined;
    const chunks = (text as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (cause) {
          throw new EtlInputError('CORRUPT_INPUT', file, `cannot decompress: ${(cause as Error).message}`, {
            cause,
          });
        }
        if (next.done) break;
        let buf = next.value;
        bytes += buf.length;
        if (carry) {
          // Only the line cut by the chunk boundary is joined: copying whole chunks cost ~1 s per 1.5 GB.
          const first = buf.indexOf(NEWLINE) + 1;
          if (first === 0) {
            carry = Buffer.concat([carry, buf]);
            continue;
          }
          this.route(Buffer.concat([carry, buf.subarray(0, first)]), file, state);
          buf = buf.subarray(first);
          carry = undefined;
        }
        const end = buf.lastIndexOf(NEWLINE) + 1;
        if (end > 0) this.route(buf.subarray(0, end), file, state);
        carry = end < buf.length ? Buffer.from(buf.subarray(end)) : undefined;
        await this.sink.settle();
      }
    } finally {
      // Stops reading when the split ends early (bad input, or a failure downstream).
      source.destroy();
      text.destroy();
    }
    if (carry && carry.length > 0) this.route(Buffer.concat([carry, Buffer.from('\n')]), file, state);
    // A file ends its day; the next file's lines of the same day come back as late lines.
    this.leaveCurrent();
    for (const bucket of this.buckets.values()) this.closeSinks(bucket);
    this.close(this.suspectSink);
    this.suspectSink = undefined;
    return {
      sha256: hash.digest('hex'),
      lines: Math.max(0, state.line - 1),
      emptyLines: state.emptyLines,
      bytes,
    };
  }

  /** Days never handed over and days that got late lines; closes every open fragment. */
  finish(): { remaining: string[]; late: string[] } {
    this.leaveCurrent();
    const remaining: string[] = [];
    const late: string[] = [];
    for (const [day, bucket] of this.buckets) {
      this.closeSinks(bucket);
      if (bucket.late) late.push(day);
      else if (!bucket.emitted) remaining.push(day);
    }
    this.close(this.suspectSink);
    this.suspectSink = undefined;
    return { remaining: remaining.sort(), late: late.sort() };
  }

  /** Routes the whole lines of `data` (which ends right after a newline). */
  private route(data: Buffer, file: string, state: { line: number; emptyLines: number }): void {
    let pos = 0;
    if (state.line === 0) {
      // The header (checked before the run) is not data.
      pos = data.indexOf(NEWLINE) + 1;
      state.line = 1;
    }
    // Next quote at or after the line being looked at (-1: none left in this chunk).
    let quote = data.indexOf(QUOTE, pos);
    let bucket = this.current;
    for (;;) {
      const nl = data.indexOf(NEWLINE, pos);
      if (nl === -1) break;
      const line = ++state.line;
      const length = nl - pos;
      if (length === 0 || (length === 1 && data[pos] === 0x0d)) {
        state.emptyLines++;
        pos = nl + 1;
        continue;
      }
      if (quote !== -1 && quote < pos) quote = data.indexOf(QUOTE, pos);
      const second = eventSecond(data, pos, length);
      if (second < 0 || (quote !== -1 && quote < nl)) {
        this.suspectSink ??= this.open(file, line, this.suspects);
        this.append(this.suspectSink, data, pos, nl + 1, line);
        pos = nl + 1;
        continue;
      }
      if (!bucket || !sameDay(data, pos, bucket.dayBytes))
        bucket = this.switchTo(data.toString('latin1', pos, pos + 10));
      let copy = false;
      const end = nl + 1;
      if (second === bucket.lastSecond) {
        for (let r = 0; r < bucket.runLength; r++) {
          const rs = bucket.runStarts[r] as number;
          const re = bucket.runEnds[r] as number;
          if (re - rs === end - pos && data.compare(bucket.runBufs[r] as Buffer, rs, re, pos, end) === 0) {
            copy = true;
            break;
          }
        }
      } else {
        if (second < bucket.lastSecond) {
          if (this.mode.encode) throw new SplitOrderError(bucket.day, 'unordered');
          bucket.needsDedupe = true;
        }
        bucket.lastSecond = second;
        bucket.runLength = 0;
      }
      if (copy) {
        bucket.copySink ??= this.open(file, line, bucket.copies);
        this.append(bucket.copySink, data, pos, nl + 1, line);
      } else {
        const r = bucket.runLength++;
        bucket.runBufs[r] = data;
        bucket.runStarts[r] = pos;
        bucket.runEnds[r] = end;
        if (this.mode.encode && this.encoder.encode(data, pos, nl, bucket.day)) bucket.rows++;
        else {
          bucket.sink ??= this.open(file, line, bucket.fragments);
          this.append(bucket.sink, data, pos, nl + 1, line);
        }
      }
      pos = nl + 1;
    }
    this.flush();
  }

  private switchTo(day: string): Bucket {
    this.leaveCurrent();
    let bucket = this.buckets.get(day);
    if (!bucket) {
      bucket = {
        day,
        dayBytes: Buffer.from(day, 'latin1'),
        rows: 0,
        fragments: [],
        copies: [],
        lastSecond: -1,
        runBufs: [],
        runStarts: [],
        runEnds: [],
        runLength: 0,
        needsDedupe: false,
        emitted: false,
        late: false,
        // Present from the start so every bucket keeps one shape (the hot loop reads them).
        sink: undefined,
        copySink: undefined,
      };
      this.buckets.set(day, bucket);
    } else {
      // Lines of this day come in more than one run: copies may sit in different runs.
      if (this.mode.encode) throw new SplitOrderError(day, 'unordered');
      bucket.needsDedupe = true;
      if (bucket.emitted && !bucket.late) {
        if (!this.mode.keepEmitted) throw new SplitOrderError(day, 'late');
        bucket.late = true;
      }
    }
    this.current = bucket;
    return bucket;
  }

  /** The input moved on from the current day: hand it over unless it is late (then it waits for the end). */
  private leaveCurrent(): void {
    const bucket = this.current;
    this.current = undefined;
    if (!bucket) return;
    this.flush();
    this.closeSinks(bucket);
    bucket.runLength = 0;
    bucket.runBufs = [];
    this.encoder.flush();
    if (!bucket.emitted) {
      bucket.emitted = true;
      this.sink.day(this.day(bucket.day));
    }
  }

  private newFragment(source: string, into: Fragment[]): Fragment {
    const path = join(this.dir, `f${this.fragmentCount++}.csv`);
    const fragment: Fragment = { path, source, lines: 0, bytes: 0, checkpoints: [] };
    into.push(fragment);
    return fragment;
  }

  private open(source: string, line: number, into: Fragment[]): Sink {
    const fragment = this.newFragment(source, into);
    return {
      fd: openSync(fragment.path, 'w'),
      fragment,
      nextSourceLine: line,
      data: undefined,
      starts: [],
      ends: [],
    };
  }

  private closeSinks(bucket: Bucket): void {
    this.close(bucket.sink);
    this.close(bucket.copySink);
    bucket.sink = bucket.copySink = undefined;
  }

  private append(sink: Sink, data: Buffer, start: number, end: number, line: number): void {
    const f = sink.fragment;
    if (f.lines === 0 || line !== sink.nextSourceLine) f.checkpoints.push([f.lines + 1, line]);
    f.lines++;
    f.bytes += end - start;
    sink.nextSourceLine = line + 1;
    const n = sink.ends.length;
    // Consecutive lines of the same chunk are one range.
    if (sink.data === data && n > 0 && sink.ends[n - 1] === start) sink.ends[n - 1] = end;
    else {
      if (sink.data !== data) {
        writeAll(sink);
        sink.data = data;
      }
      sink.starts.push(start);
      sink.ends.push(end);
      this.dirty.add(sink);
    }
  }

  /** Writes what every sink has pending (once per chunk, so a day's lines cost a syscall per chunk). */
  private flush(): void {
    for (const sink of this.dirty) {
      writeAll(sink);
    }
    this.dirty.clear();
  }

  private close(sink: Sink | undefined): void {
    if (!sink) return;
    writeAll(sink);
    this.dirty.delete(sink);
    closeSync(sink.fd);
  }
}

function writeAll(sink: Sink): void {
  const { data, starts, ends } = sink;
  if (!data || starts.length === 0) return;
  const parts = starts.map((s, i) => data.subarray(s, ends[i]));
  const want = parts.reduce((a, b) => a + b.length, 0);
  let wrote = 0;
  // writev takes at most IOV_MAX (1024) buffers at a time.
  for (let i = 0; i < parts.length; i += 1024) wrote += writevSync(sink.fd, parts.slice(i, i + 1024));
  sink.starts = [];
  sink.ends = [];
  if (wrote !== want) throw new Error(`short write to ${sink.fragment.path} (${wrote} of ${want} bytes)`);
}

/** True when the 10 bytes at `at` equal `day`. */
function sameDay(b: Buffer, at: number, day: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (b[at + i] !== day[i]) return false;
  return true;
}
