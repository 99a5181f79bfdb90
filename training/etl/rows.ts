/**
 * Plainly valid clickstream lines encoded straight into typed columns, the form DuckDB's appender takes:
 * no text for DuckDB to parse again, and integer keys (category_code and brand as dictionary ids) for its
 * hash tables. Everything here is plain JavaScript so it can run in a worker beside the main thread.
 */

/** Rows of one day, in columns. Ids and prices are exact integers below 2^53. */
export interface RowBatch {
  day: string;
  count: number;
  /** 0 view, 1 cart, 2 remove_from_cart, 3 purchase. */
  etype: Uint8Array;
  product: Float64Array;
  /** Dictionary id of category_code; 0 when empty. */
  category: Uint32Array;
  /** Dictionary id of brand; 0 when empty. */
  brand: Uint32Array;
  /** Price in ten-thousandths; 0 when empty (an empty price and a zero price count alike everywhere). */
  price: Float64Array;
  user: Float64Array;
  /** Texts of the dictionary ids first used by this batch, in id order (ids continue the earlier ones). */
  newCategories: string[];
  newBrands: string[];
}

/** Rows per batch handed over; a multiple of DuckDB's vector size (2048). */
export const BATCH_ROWS = 16384;

/** Longest line the reader accepts (DuckDB's max_line_size); longer lines are never encoded. */
export const MAX_LINE_BYTES = 1 << 20;

const ZERO = 0x30;
const NINE = 0x39;
const COMMA = 0x2c;
const DOT = 0x2e;
const CR = 0x0d;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;
/** Ids and prices are carried as doubles: at most 15 digits keeps them exact. */
const MAX_NUMBER_DIGITS = 15;
const BIGINT_MAX = Buffer.from('9223372036854775807', 'latin1');
const EVENT_PATTERNS = ['view,', 'cart,', 'remove_from_cart,', 'purchase,'].map((t) =>
  Buffer.from(t, 'latin1'),
);
/** Event type by the first byte of its name (-1: no event type starts so). */
const EVENT_BY_FIRST_BYTE = new Int8Array(256).fill(-1);
EVENT_PATTERNS.forEach((pattern, etype) => (EVENT_BY_FIRST_BYTE[pattern[0] as number] = etype));

/**
 * Ids for the texts of one key column, assigned in order of first appearance from 1. Looked up by an
 * FNV-1a hash of the bytes computed while the line is scanned, then checked byte by byte.
 */
class TextDictionary {
  private readonly byHash = new Map<number, number>();
  /** Per id (index id - 1): the next id with the same hash, or 0. */
  private readonly nextWithHash: number[] = [];
  private readonly texts: Buffer[] = [];
  /** Texts added since the last {@link takeNew}. */
  private fresh: string[] = [];

  /** The id of the bytes `start`..`end` whose hash is `hash`, adding them when new. */
  idOf(b: Buffer, start: number, end: number, hash: number): number {
    const length = end - start;
    const first = this.byHash.get(hash) ?? 0;
    for (let id = first; id !== 0; id = this.nextWithHash[id - 1] as number) {
      const text = this.texts[id - 1] as Buffer;
      if (text.length !== length) continue;
      let k = 0;
      while (k < length && text[k] === b[start + k]) k++;
      if (k === length) return id;
    }
    const text = Buffer.from(b.subarray(start, end));
    this.texts.push(text);
    this.nextWithHash.push(first);
    const id = this.texts.length;
    this.byHash.set(hash, id);
    this.fresh.push(text.toString('latin1'));
    return id;
  }

  /** Texts added since the last call, in id order. */
  takeNew(): string[] {
    const fresh = this.fresh;
    this.fresh = [];
    return fresh;
  }
}

/**
 * Parses plainly valid lines into {@link RowBatch}es. "Plainly valid" accepts only text DuckDB reads to the
 * same values with no doubt: 9 fields of printable ASCII, a known event type, product_id and user_id of 1-15
 * plain digits, category_id empty or 1-19 digits within BIGINT, a price that is empty or
 * `\d{1,10}(\.\d{1,4})?`. Any other line is left to the SQL, which holds every rule for invalid lines.
 * Hand-written: it is the per-line hot loop (one forward pass that validates and converts), and no library
 * parses CSV into typed columns at this speed. The scans need no bounds checks: each loop stops at the
 * line's newline (or CR), which matches none of the byte classes it accepts.
 */
export class RowEncoder {
  private readonly categories = new TextDictionary();
  private readonly brands = new TextDictionary();
  private batch: RowBatch | undefined;
  /** Column buffers handed back by the consumer, reused for new batches (saves allocation and GC). */
  private readonly spare: ArrayBuffer[][] = [];

  /** @param onBatch receives each full batch, and the rest of a day's rows on {@link flush} */
  constructor(private readonly onBatch: (batch: RowBatch) => void) {}

  /**
   * Encodes the line `start`..`end` (`end` at its newline; event_time already checked) as a row of `day`;
   * false, with nothing recorded, when the line is not plainly valid.
   */
  encode(b: Buffer, start: number, end: number, day: string): boolean {
    if (end - start > MAX_LINE_BYTES) return false;
    let i = start + 24;
    // The first letter tells the event types apart.
    const etype = EVENT_BY_FIRST_BYTE[b[i] as number] ?? -1;
    if (etype < 0) return false;
    const pattern = EVENT_PATTERNS[etype] as Buffer;
    for (let k = 1; k < pattern.length; k++) if (b[i + k] !== pattern[k]) return false;
    i += pattern.length;
    // product_id
    let s = i;
    let c = b[i] as number;
    let value = 0;
    while (c >= ZERO && c <= NINE) {
      value = value * 10 + (c - ZERO);
      c = b[++i] as number;
    }
    if (c !== COMMA || i === s || i - s > MAX_NUMBER_DIGITS) return false;
    const product = value;
    // category_id: checked, not kept
    s = ++i;
    c = b[i] as number;
    while (c >= ZERO && c <= NINE) c = b[++i] as number;
    if (c !== COMMA || (i > s && !fitsBigint(b, s, i))) return false;
    // category_code, then brand: the same scan written out twice, because as a shared helper (returning its
    // hash through a scratch record) the whole split measured ~8% slower.
    s = ++i;
    c = b[i] as number;
    let hash = FNV_OFFSET;
    while (c !== COMMA) {
      if (c < 0x20 || c > 0x7e) return false;
      hash = Math.imul(hash ^ c, FNV_PRIME);
      c = b[++i] as number;
    }
    const categoryStart = s;
    const categoryEnd = i;
    const categoryHash = hash;
    // brand
    s = ++i;
    c = b[i] as number;
    hash = FNV_OFFSET;
    while (c !== COMMA) {
      if (c < 0x20 || c > 0x7e) return false;
      hash = Math.imul(hash ^ c, FNV_PRIME);
      c = b[++i] as number;
    }
    const brandStart = s;
    const brandEnd = i;
    const brandHash = hash;
    // price, in ten-thousandths
    s = ++i;
    c = b[i] as number;
    value = 0;
    while (c >= ZERO && c <= NINE) {
      value = value * 10 + (c - ZERO);
      c = b[++i] as number;
    }
    const intDigits = i - s;
    if (intDigits > 10) return false;
    let scale = 10000;
    if (c === DOT) {
      if (intDigits === 0) return false;
      const d = ++i;
      c = b[i] as number;
      while (c >= ZERO && c <= NINE) {
        value = value * 10 + (c - ZERO);
        c = b[++i] as number;
      }
      const decimals = i - d;
      if (decimals < 1 || decimals > 4) return false;
      scale = 10 ** (4 - decimals);
    }
    if (c !== COMMA) return false;
    const price = value * scale;
    // user_id
    s = ++i;
    c = b[i] as number;
    value = 0;
    while (c >= ZERO && c <= NINE) {
      value = value * 10 + (c - ZERO);
      c = b[++i] as number;
    }
    if (c !== COMMA || i === s || i - s > MAX_NUMBER_DIGITS) return false;
    // user_session: checked, not kept; a CRLF file's \r ends it.
    const last = b[end - 1] === CR ? end - 1 : end;
    for (i++; i < last; i++) {
      c = b[i] as number;
      if (c === COMMA || c < 0x20 || c > 0x7e) return false;
    }

    let batch = this.batch;
    if (batch && batch.day !== day) {
      this.flush();
      batch = undefined;
    }
    batch ??= this.batch = newBatch(day, this.spare.pop());
    const n = batch.count++;
    batch.etype[n] = etype;
    batch.product[n] = product;
    batch.category[n] =
      categoryEnd > categoryStart ? this.categories.idOf(b, categoryStart, categoryEnd, categoryHash) : 0;
    batch.brand[n] = brandEnd > brandStart ? this.brands.idOf(b, brandStart, brandEnd, brandHash) : 0;
    batch.price[n] = price;
    batch.user[n] = value;
    if (batch.count === BATCH_ROWS) this.flush();
    return true;
  }

  /** Takes back the column buffers of a batch the consumer is done with (see {@link batchBuffers}). */
  recycle(buffers: ArrayBuffer[]): void {
    if (buffers.length === COLUMN_BYTES.length && this.spare.length < 16) this.spare.push(buffers);
  }

  /** Hands over the rows not yet handed over (call before the day is handed over). */
  flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch || batch.count === 0) return;
    batch.newCategories = this.categories.takeNew();
    batch.newBrands = this.brands.takeNew();
    this.onBatch(batch);
  }
}

/** Bytes per row of each column, in {@link batchBuffers} order. */
const COLUMN_BYTES = [1, 8, 4, 4, 8, 8];

/** The column buffers of a batch, in a fixed order (to transfer them, or to recycle them). */
export function batchBuffers(batch: RowBatch): ArrayBuffer[] {
  return [batch.etype, batch.product, batch.category, batch.brand, batch.price, batch.user].map(
    (column) => column.buffer as ArrayBuffer,
  );
}

function newBatch(day: string, reused?: ArrayBuffer[]): RowBatch {
  const buffers = reused ?? COLUMN_BYTES.map((bytes) => new ArrayBuffer(bytes * BATCH_ROWS));
  const at = (i: number): ArrayBuffer => buffers[i] as ArrayBuffer;
  return {
    day,
    count: 0,
    etype: new Uint8Array(at(0)),
    product: new Float64Array(at(1)),
    category: new Uint32Array(at(2)),
    brand: new Uint32Array(at(3)),
    price: new Float64Array(at(4)),
    user: new Float64Array(at(5)),
    newCategories: [],
    newBrands: [],
  };
}

/** True when the digits `start`..`end` are 1-19 of them and within BIGINT's range. */
function fitsBigint(b: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length < 1 || length > 19) return false;
  if (length < 19) return true;
  for (let k = 0; k < 19; k++) {
    const c = b[start + k] as number;
    const m = BIGINT_MAX[k] as number;
    if (c !== m) return c < m;
  }
  return true;
}
