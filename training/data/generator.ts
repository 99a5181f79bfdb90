import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { buildCatalog, type Product } from './catalog.js';
import { dayNumber, isoDate, specialDayAt, weekday } from './calendar.js';
import { malformRow } from './dirty.js';
import { drawCumulative, Random } from './random.js';
import { EVENT_TYPES, type EventType, MALFORMED_KINDS, type MalformedKind, SOURCE_HEADER } from './schema.js';

export {
  specialDays,
  specialDayOn,
  specialDayAt,
  SPECIAL_DAY_NAMES,
  type SpecialDay,
  type SpecialDayKind,
} from './calendar.js';

/** Options of {@link generateClickstream}. */
export interface GenerateOptions {
  days: number;
  products: number;
  seed: number;
  /** First day (YYYY-MM-DD, UTC); defaults to 2019-10-01 like the source's first month. */
  startDate?: string;
  /** Share of data lines replaced by a malformed line (0..1); default 0. */
  dirty?: number;
  /** Share of good lines written twice, as the source does; default 0.002. */
  duplicateRate?: number;
  /** Mean events per day on an ordinary day; default 8 per product (the source's density). */
  eventsPerDay?: number;
  /** gzip level 1-9; default 6 (gzip's own default). */
  gzipLevel?: number;
  /** Output path (.csv.gz). Written to a temporary name and renamed when complete. */
  out: string;
  onProgress?: (progress: GenerateProgress) => void;
}

/** Progress after each generated day. */
export interface GenerateProgress {
  day: number;
  days: number;
  rows: number;
  uncompressedBytes: number;
}

/** What was written: exact counts, so tests can check the ETL against them. */
export interface GenerateSummary {
  out: string;
  /** Data lines written (header excluded) = goodRows + duplicateRows + malformedRows. */
  rows: number;
  goodRows: number;
  duplicateRows: number;
  malformedRows: number;
  malformedByKind: Record<MalformedKind, number>;
  /** Good events by type (duplicates and malformed lines excluded). */
  eventsByType: Record<EventType, number>;
  firstDate: string;
  lastDate: string;
  uncompressedBytes: number;
}

// Funnel: per view, chance of a cart; per cart, of a removal, then of a purchase.
const CART_RATE = 0.04;
const REMOVE_RATE = 0.3;
const PURCHASE_AFTER_REMOVE = 0.1;
const PURCHASE_RATE = 0.62;
const VIEWS_PER_SESSION = 3.2;
const EVENTS_PER_VIEW = 1 + CART_RATE * (1 + REMOVE_RATE + 0.46);
// Elasticities: cheaper than usual draws more views and converts better.
const VIEW_ELASTICITY = 0.8;
const CART_ELASTICITY = 1.5;
// Shoppers browse in the evening more than at night (weights per UTC hour, Moscow is UTC+3).
const HOURLY = [3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 11, 12, 13, 14, 15, 15, 14, 12, 9, 6, 4, 3, 2];
const SEC_BITS = 2 ** 26;
const FLUSH_LINES = 4096;

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
let clock: string[] | undefined;
/** HH:MM:SS of a second of the day, from a table built once (formatting dominates the generator's time). */
const clockText = (sec: number): string => {
  clock ??= Array.from(
    { length: 86_400 },
    (_, t) => `${two(Math.floor(t / 3600))}:${two(Math.floor(t / 60) % 60)}:${two(t % 60)}`,
  );
  return clock[sec] ?? '00:00:00';
};

/** Streams a deterministic synthetic clickstream (the source schema, gzip) to `out`. */
export async function generateClickstream(options: GenerateOptions): Promise<GenerateSummary> {
  const { days, products: productCount, seed, out } = options;
  const startDay = dayNumber(options.startDate ?? '2019-10-01');
  const dirtyRate = options.dirty ?? 0;
  const duplicateRate = options.duplicateRate ?? 0.002;
  const eventsPerDay = options.eventsPerDay ?? productCount * 8;
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a positive integer: ${days}`);
  if (!Number.isInteger(productCount) || productCount < 1) {
    throw new RangeError(`products must be a positive integer: ${productCount}`);
  }
  if (!(dirtyRate >= 0 && dirtyRate < 1)) throw new RangeError(`dirty must be in [0, 1): ${dirtyRate}`);

  const random = new Random(seed);
  const { products } = buildCatalog(random, productCount);
  // The product's constant columns, pre-joined once: product_id,category_id,category_code,brand.
  const productText = products.map((p) => `${p.id},${p.category.id},${p.category.code},${p.brand}`);
  const totalWeight = products.reduce((s, p) => s + p.weight, 0);
  const viewsPerOrdinaryDay = eventsPerDay / EVENTS_PER_VIEW;
  const userPool = Math.max(500, Math.round((eventsPerDay * Math.min(days, 60)) / 14));
  const hourly = cumulative(HOURLY);
  const hourlyTotal = hourly[hourly.length - 1] ?? 1;

  const summary: GenerateSummary = {
    out,
    rows: 0,
    goodRows: 0,
    duplicateRows: 0,
    malformedRows: 0,
    malformedByKind: Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<MalformedKind, number>,
    eventsByType: Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>,
    firstDate: isoDate(startDay),
    lastDate: isoDate(startDay + days - 1),
    uncompressedBytes: 0,
  };

  await mkdir(dirname(out), { recursive: true });
  const partial = `${out}.partial`;
  const gzip = createGzip({ level: options.gzipLevel ?? 6 });
  const file = createWriteStream(partial);
  gzip.pipe(file);
  const written = finished(file);
  let lines: string[] = [];
  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    const chunk = lines.join('');
    lines = [];
    summary.uncompressedBytes += Buffer.byteLength(chunk);
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };

  try {
    lines.push(`${SOURCE_HEADER}\n`);
    const priceLevel = new Float64Array(products.length).fill(1);
    for (let d = 0; d < days; d++) {
      const day = startDay + d;
      const events = simulateDay({
        day,
        dayIndex: d,
        products,
        priceLevel,
        random,
        hourly,
        hourlyTotal,
        userPool,
        viewsPerOrdinaryDay,
        totalWeight,
      });
      const prefix = `${isoDate(day)} `;
      const priceText = products.map((p, i) =>
        (p.basePrice * (priceLevel[i] ?? 1) * events.priceFactor).toFixed(2),
      );
      const order = events.order;
      for (let k = 0; k < events.count; k++) {
        const e = (order[k] ?? 0) % SEC_BITS;
        const sec = events.sec[e] ?? 0;
        const p = events.product[e] ?? 0;
        const product = products[p] as Product;
        const type = EVENT_TYPES[events.type[e] ?? 0] as EventType;
        const user = `${512_000_000 + (events.user[e] ?? 0)}`;
        const session = events.sessions[events.session[e] ?? 0] ?? '';
        const price = priceText[p] ?? '0.00';
        const time = `${prefix}${clockText(sec)} UTC`;
        if (dirtyRate > 0 && random.chance(dirtyRate)) {
          const fields = [
            time,
            type,
            `${product.id}`,
            product.category.id,
            product.category.code,
            product.brand,
            price,
            user,
            session,
          ];
          const bad = malformRow(fields, random);
          lines.push(`${bad.line}\n`);
          summary.malformedRows++;
          summary.malformedByKind[bad.kind]++;
        } else {
          const line = `${time},${type},${productText[p] ?? ''},${price},${user},${session}\n`;
          lines.push(line);
          summary.goodRows++;
          summary.eventsByType[type]++;
          if (random.chance(duplicateRate)) {
            lines.push(line);
            summary.duplicateRows++;
          }
        }
        if (lines.length >= FLUSH_LINES) await flush();
      }
      await flush();
      summary.rows = summary.goodRows + summary.duplicateRows + summary.malformedRows;
      options.onProgress?.({
        day: d + 1,
        days,
        rows: summary.rows,
        uncompressedBytes: summary.uncompressedBytes,
      });
    }
    gzip.end();
    await written;
    await rename(partial, out);
    return summary;
  } catch (error) {
    gzip.destroy();
    file.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

interface DayInput {
  day: number;
  dayIndex: number;
  products: readonly Product[];
  priceLevel: Float64Array;
  random: Random;
  hourly: Float64Array;
  hourlyTotal: number;
  userPool: number;
  viewsPerOrdinaryDay: number;
  totalWeight: number;
}

interface DayEvents {
  count: number;
  sec: Uint32Array;
  type: Uint8Array;
  product: Uint32Array;
  user: Uint32Array;
  session: Uint32Array;
  sessions: string[];
  /** Event indices in time order (encoded sec * 2^26 + index; decode with % 2^26). */
  order: Float64Array;
  /** The calendar's price factor that day. */
  priceFactor: number;
}

/** Simulates one day's sessions; memory is bounded by one day's events. */
function simulateDay(input: DayInput): DayEvents {
  const { day, dayIndex, products, priceLevel, random } = input;
  const special = specialDayAt(day);
  const wd = weekday(day);
  const priceFactor = special?.priceFactor ?? 1;
  const isPromotion = special?.kind === 'promotion';

  // Shelf prices drift: each product re-prices about once a month, within ±35% of its base price.
  for (let i = 0; i < products.length; i++) {
    if (random.chance(1 / 30))
      priceLevel[i] = Math.min(1.35, Math.max(0.7, Math.exp(0.15 * random.normal())));
  }
  const weights = new Float64Array(products.length);
  const conversion = new Float64Array(products.length);
  const categoryNoise = new Map<string, number>();
  let acc = 0;
  for (let i = 0; i < products.length; i++) {
    const p = products[i] as Product;
    const c = p.category;
    let noise = categoryNoise.get(c.id);
    if (noise === undefined) {
      noise = Math.exp(0.04 * random.normal());
      categoryNoise.set(c.id, noise);
    }
    const uplift = special ? 1 + (special.uplift - 1) * c.specialSensitivity : 1;
    const trend = Math.exp((c.trendPerYear * dayIndex) / 365);
    const priceRatio = (priceLevel[i] ?? 1) * priceFactor;
    acc += p.weight * (c.weekly[wd] ?? 1) * trend * uplift * noise * Math.pow(priceRatio, -VIEW_ELASTICITY);
    weights[i] = acc;
    conversion[i] = Math.min(
      0.5,
      CART_RATE * p.conversion * Math.pow(priceRatio, -CART_ELASTICITY) * (isPromotion ? 1.15 : 1),
    );
  }
  const views = Math.max(1, Math.round((input.viewsPerOrdinaryDay * acc) / input.totalWeight));
  const capacity = Math.ceil(views * 1.6) + 16;
  const ev = {
    sec: new Uint32Array(capacity),
    type: new Uint8Array(capacity),
    product: new Uint32Array(capacity),
    user: new Uint32Array(capacity),
    session: new Uint32Array(capacity),
  };
  const sessions: string[] = [];
  let count = 0;
  const push = (sec: number, type: number, product: number, user: number, session: number): void => {
    // Sessions that run past midnight are cut there, so every event belongs to the day it was drawn for.
    if (sec > 86_399) return;
    if (count === ev.sec.length) grow(ev);
    ev.sec[count] = sec;
    ev.type[count] = type;
    ev.product[count] = product;
    ev.user[count] = user;
    ev.session[count] = session;
    count++;
  };

  let viewsLeft = views;
  while (viewsLeft > 0) {
    const session = sessions.length;
    sessions.push(random.uuid());
    const user = Math.floor(input.userPool * Math.pow(random.float(), 1.6));
    const hour = drawCumulative(input.hourly, random.float() * input.hourlyTotal);
    let t = hour * 3600 + random.int(3600);
    const n = Math.min(viewsLeft, random.geometric(VIEWS_PER_SESSION));
    let p = drawCumulative(weights, random.float() * acc);
    for (let v = 0; v < n; v++) {
      if (v > 0 && !random.chance(0.25)) p = drawCumulative(weights, random.float() * acc);
      push(t, 0, p, user, session);
      if (random.chance(conversion[p] ?? 0)) {
        const cartAt = t + 5 + random.int(60);
        push(cartAt, 1, p, user, session);
        const removed = random.chance(REMOVE_RATE);
        if (removed) push(cartAt + 10 + random.int(300), 2, p, user, session);
        if (random.chance(removed ? PURCHASE_AFTER_REMOVE : PURCHASE_RATE)) {
          push(cartAt + 30 + random.int(600), 3, p, user, session);
        }
      }
      t += 10 + random.int(120);
    }
    viewsLeft -= n;
  }

  const order = new Float64Array(count);
  for (let i = 0; i < count; i++) order[i] = (ev.sec[i] ?? 0) * SEC_BITS + i;
  order.sort();
  return { count, ...ev, sessions, order, priceFactor };
}

function grow(ev: {
  sec: Uint32Array;
  type: Uint8Array;
  product: Uint32Array;
  user: Uint32Array;
  session: Uint32Array;
}): void {
  const size = ev.sec.length * 2;
  const copy = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
    const b = make(size);
    b.set(a);
    return b;
  };
  ev.sec = copy(ev.sec, (n) => new Uint32Array(n));
  ev.type = copy(ev.type, (n) => new Uint8Array(n));
  ev.product = copy(ev.product, (n) => new Uint32Array(n));
  ev.user = copy(ev.user, (n) => new Uint32Array(n));
  ev.session = copy(ev.session, (n) => new Uint32Array(n));
}

function cumulative(values: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  let acc = 0;
  values.forEach((v, i) => {
    acc += v;
    out[i] = acc;
  });
  return out;
}
