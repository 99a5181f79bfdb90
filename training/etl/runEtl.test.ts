import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClickstream, type GenerateSummary } from '../data/generator.js';
import { EVENT_TYPES, SOURCE_HEADER } from '../data/schema.js';
import { EtlInputError, type EtlReport, runEtl } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'etl-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rows of a DuckDB query, as plain JS values. */
async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

interface RefDay {
  views: number;
  carts: number;
  removes: number;
  purchases: number;
  revenue: number;
  priceSum: number;
  priceN: number;
  users: Set<string>;
}

/** Why the reference rejects a raw line, or undefined when it is valid (written independently of the ETL). */
function referenceReason(line: string): string | undefined {
  if (line.includes('"')) return 'broken_quoting';
  const f = line.split(',');
  if (f.length !== 9) return 'wrong_column_count';
  const [time = '', type = '', , , , , price = ''] = f;
  const t = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/.exec(time);
  if (!t || Number.isNaN(Date.parse(`${t[1]}T${t[2]}Z`))) return 'bad_event_time';
  if (!(EVENT_TYPES as readonly string[]).includes(type)) return 'unknown_event_type';
  if (price !== '' && !/^-?\d+(\.\d+)?$/.test(price)) return 'bad_price';
  if (Number(price) < 0) return 'negative_price';
  return undefined;
}

/** A straightforward reference ETL over the raw lines: dedup, aggregate per key type, key and day. */
function referenceEtl(lines: readonly string[]) {
  const quarantine: string[] = [];
  const valid = new Set<string>();
  let validCopies = 0;
  for (const line of lines) {
    const reason = referenceReason(line);
    if (reason) quarantine.push(`${reason}|${line}`);
    else {
      valid.add(line);
      validCopies++;
    }
  }
  const series = new Map<string, RefDay>();
  for (const line of valid) {
    const [time = '', type = '', product = '', , code = '', brand = '', priceText = '', user = ''] =
      line.split(',');
    const date = time.slice(0, 10);
    const price = priceText === '' ? null : Number(priceText);
    for (const [keyType, key] of [
      ['product_id', product],
      ['category_code', code],
      ['brand', brand],
    ] as const) {
      if (key === '') continue;
      const id = `${keyType}|${key}|${date}`;
      const day = series.get(id) ?? {
        views: 0,
        carts: 0,
        removes: 0,
        purchases: 0,
        revenue: 0,
        priceSum: 0,
        priceN: 0,
        users: new Set<string>(),
      };
      if (type === 'view') day.views++;
      if (type === 'cart') day.carts++;
      if (type === 'remove_from_cart') day.removes++;
      if (type === 'purchase') {
        day.purchases++;
        day.revenue += price ?? 0;
      }
      if (price !== null && price > 0) {
        day.priceSum += price;
        day.priceN++;
      }
      day.users.add(user);
      series.set(id, day);
    }
  }
  return {
    quarantine: quarantine.sort(),
    series,
    accepted: valid.size,
    duplicates: validCopies - valid.size,
  };
}

const seriesRows = (out: string): Promise<Record<string, unknown>[]> =>
  query(`SELECT key_type, key, date::VARCHAR AS date, views, carts, removes, purchases, revenue, price_mean, users
    FROM read_parquet('${out}/series/*/*.parquet', hive_partitioning = true) ORDER BY key_type, key, date`);

describe('runEtl on generated data with dirty rows', () => {
  let summary: GenerateSummary;
  let report: EtlReport;
  let lines: string[];
  let out: string;

  beforeAll(async () => {
    summary = await generateClickstream({
      days: 6,
      products: 150,
      eventsPerDay: 1200,
      seed: 21,
      dirty: 0.03,
      duplicateRate: 0.01,
      out: join(dir, 'dirty', '2019-Oct.csv.gz'),
    });
    lines = gunzipSync(await readFile(summary.out))
      .toString('utf8')
      .split('\n')
      .slice(1, -1);
    out = join(dir, 'out-dirty');
    report = await runEtl({ inputs: join(dir, 'dirty', '*.csv.gz'), outDir: out });
  });

  it('accounts for every row read: accepted + duplicates + quarantined', () => {
    expect(report.rowsRead).toBe(lines.length);
    expect(report.rowsRead).toBe(summary.rows);
    expect(report.rowsAccepted + report.duplicatesRemoved + report.rowsQuarantined).toBe(report.rowsRead);
    const byReason = Object.values(report.quarantinedByReason).reduce((a, b) => a + b, 0);
    expect(byReason).toBe(report.rowsQuarantined);
    const ref = referenceEtl(lines);
    expect(report.rowsAccepted).toBe(ref.accepted);
    expect(report.duplicatesRemoved).toBe(ref.duplicates);
    expect(report.duplicatesRemoved).toBeGreaterThanOrEqual(summary.duplicateRows);
  });

  it('quarantines every injected malformed row with the reason it was injected for', async () => {
    expect(report.quarantinedByReason).toEqual(summary.malformedByKind);
    const rows = await query(
      `SELECT reason, raw, source_file FROM read_parquet('${out}/quarantine/*.parquet')`,
    );
    expect(rows.length).toBe(summary.malformedRows);
    expect(rows.map((r) => `${String(r.reason)}|${String(r.raw)}`).sort()).toEqual(
      referenceEtl(lines).quarantine,
    );
    expect(new Set(rows.map((r) => r.source_file))).toEqual(new Set([join(dir, 'dirty', '2019-Oct.csv.gz')]));
  });

  it('writes aggregates equal to an independent computation, zero-filling days without activity', async () => {
    const ref = referenceEtl(lines).series;
    const rows = await seriesRows(out);
    const keyTypes = new Set(rows.map((r) => r.key_type));
    expect(keyTypes).toEqual(new Set(['product_id', 'category_code', 'brand']));
    let zeroDays = 0;
    for (const r of rows) {
      const want = ref.get(`${String(r.key_type)}|${String(r.key)}|${String(r.date)}`);
      if (!want) {
        zeroDays++;
        expect(r).toMatchObject({
          views: 0n,
          carts: 0n,
          removes: 0n,
          purchases: 0n,
          revenue: 0,
          price_mean: null,
          users: 0n,
        });
        continue;
      }
      expect(r).toMatchObject({
        views: BigInt(want.views),
        carts: BigInt(want.carts),
        removes: BigInt(want.removes),
        purchases: BigInt(want.purchases),
        users: BigInt(want.users.size),
      });
      expect(r.revenue as number).toBeCloseTo(want.revenue, 6);
      if (want.priceN === 0) expect(r.price_mean).toBeNull();
      else expect(r.price_mean as number).toBeCloseTo(want.priceSum / want.priceN, 6);
    }
    expect(rows.length - zeroDays).toBe(ref.size);
    expect(zeroDays).toBeGreaterThan(0);
    // One row per key per calendar day, first to last active day, no gaps.
    const spans =
      await query(`SELECT key_type, key, count(*) AS n, (max(date) - min(date) + 1)::BIGINT AS span
      FROM read_parquet('${out}/series/*/*.parquet', hive_partitioning = true) GROUP BY ALL HAVING n <> span`);
    expect(spans).toEqual([]);
    expect(report.keys.product_id).toBe(
      new Set(rows.filter((r) => r.key_type === 'product_id').map((r) => r.key)).size,
    );
    expect(report.dateRange).toEqual({ first: summary.firstDate, last: summary.lastDate });
    expect(report.seriesRows).toBe(rows.length);
  });

  it('writes the contract column types', async () => {
    const columns = await query(
      `DESCRIBE SELECT * FROM read_parquet('${out}/series/key_type=brand/*.parquet', hive_partitioning = false)`,
    );
    expect(Object.fromEntries(columns.map((c) => [c.column_name, c.column_type]))).toEqual({
      key: 'VARCHAR',
      date: 'DATE',
      views: 'BIGINT',
      carts: 'BIGINT',
      removes: 'BIGINT',
      purchases: 'BIGINT',
      revenue: 'DOUBLE',
      price_mean: 'DOUBLE',
      users: 'BIGINT',
    });
    const onDisk = JSON.parse(await readFile(join(out, 'etl-report.json'), 'utf8')) as EtlReport;
    expect(onDisk.datasetVersion).toBe(report.datasetVersion);
    expect(onDisk.inputs[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('runEtl incrementally over monthly files', () => {
  it('re-processes only the new month and gives the same series as a fresh run', async () => {
    const monthly = join(dir, 'monthly');
    const base = { products: 30, eventsPerDay: 600, days: 4 };
    await generateClickstream({
      ...base,
      seed: 1,
      startDate: '2019-10-01',
      out: join(monthly, '2019-Oct.csv.gz'),
    });
    const out = join(dir, 'out-incremental');
    const opts = { keyTypes: ['category_code' as const] };
    const first = await runEtl({
      inputs: join(monthly, '*.csv.gz'),
      outDir: out,
      ...opts,
    });
    const octPartials = join(out, 'units', first.inputs[0]?.sha256 ?? '', 'stats.json');
    const inodeBefore = (await stat(octPartials)).ino;

    await generateClickstream({
      ...base,
      seed: 2,
      startDate: '2019-10-05',
      out: join(monthly, '2019-Nov.csv.gz'),
    });
    const second = await runEtl({
      inputs: join(monthly, '*.csv.gz'),
      outDir: out,
      ...opts,
    });
    expect(second.inputs.map((i) => [i.file.endsWith('Nov.csv.gz'), i.cached])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect((await stat(octPartials)).ino).toBe(inodeBefore);
    expect(second.groupsOfFilesSharingDays).toBe(0);

    const fresh = await runEtl({
      inputs: join(monthly, '*.csv.gz'),
      outDir: join(dir, 'out-fresh'),
      ...opts,
    });
    expect(fresh.inputs.every((i) => !i.cached)).toBe(true);
    expect(await seriesRows(out)).toEqual(await seriesRows(join(dir, 'out-fresh')));
    expect(second.datasetVersion).toBe(fresh.datasetVersion);
    expect(second.datasetVersion).not.toBe(first.datasetVersion);
    expect({ ...second, inputs: [], durationMs: 0 }).toEqual({ ...fresh, inputs: [], durationMs: 0 });
  });
});

describe('runEtl on input out of day order and on files that share days', () => {
  let lines: string[];
  let sorted: Record<string, unknown>[];
  let sortedReport: EtlReport;

  beforeAll(async () => {
    const summary = await generateClickstream({
      days: 4,
      products: 40,
      eventsPerDay: 800,
      seed: 9,
      dirty: 0.02,
      duplicateRate: 0.02,
      out: join(dir, 'order', 'sorted.csv.gz'),
    });
    lines = gunzipSync(await readFile(summary.out))
      .toString('utf8')
      .split('\n')
      .slice(1, -1);
    sortedReport = await runEtl({ inputs: summary.out, outDir: join(dir, 'out-sorted') });
    sorted = await seriesRows(join(dir, 'out-sorted'));
  });

  /** A deterministic shuffle (the generator writes in time order; real dumps may not). */
  const shuffled = (items: readonly string[]): string[] =>
    items
      .map((line, i) => ({ line, k: (i * 7_919) % 10_007 }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.line);

  it('gives the same series and counts for shuffled lines as for the time-ordered file', async () => {
    const file = join(dir, 'order', 'shuffled.csv.gz');
    await writeFile(file, gzipSync(`${SOURCE_HEADER}\n${shuffled(lines).join('\n')}\n`));
    const out = join(dir, 'out-shuffled');
    const report = await runEtl({ inputs: file, outDir: out });
    expect(await seriesRows(out)).toEqual(sorted);
    const counts = (r: EtlReport) => [r.rowsRead, r.rowsAccepted, r.duplicatesRemoved, r.quarantinedByReason];
    expect(counts(report)).toEqual(counts(sortedReport));
    const ref = referenceEtl(lines);
    expect([report.rowsAccepted, report.duplicatesRemoved]).toEqual([ref.accepted, ref.duplicates]);
  });

  it('processes files that share days together: duplicates across them removed, users exact', async () => {
    // Every day's lines split over two files, with some lines of the first copied into the second.
    const first = lines.filter((_, i) => i % 2 === 0);
    const second = [...lines.filter((_, i) => i % 2 === 1), ...first.filter((_, i) => i % 50 === 0)];
    await mkdir(join(dir, 'shared'), { recursive: true });
    await writeFile(join(dir, 'shared', 'a.csv.gz'), gzipSync(`${SOURCE_HEADER}\n${first.join('\n')}\n`));
    await writeFile(join(dir, 'shared', 'b.csv.gz'), gzipSync(`${SOURCE_HEADER}\n${second.join('\n')}\n`));
    const out = join(dir, 'out-shared');
    const report = await runEtl({ inputs: join(dir, 'shared', '*.csv.gz'), outDir: out });
    const ref = referenceEtl([...first, ...second]);
    expect(report.groupsOfFilesSharingDays).toBe(1);
    expect(report.rowsRead).toBe(first.length + second.length);
    expect([report.rowsAccepted, report.duplicatesRemoved]).toEqual([ref.accepted, ref.duplicates]);
    expect(report.rowsAccepted + report.duplicatesRemoved + report.rowsQuarantined).toBe(report.rowsRead);
    expect(await seriesRows(out)).toEqual(sorted);
    const again = await runEtl({ inputs: join(dir, 'shared', '*.csv.gz'), outDir: out });
    expect(again.inputs.every((i) => i.cached)).toBe(true);
    expect(await seriesRows(out)).toEqual(sorted);
  });
});

describe('runEtl on valid lines the fast path leaves to SQL', () => {
  // Lines 1, 4, 5 and 6 are valid but not "plain" (5-decimal prices, a 16-digit product id, a non-ASCII
  // brand), so DuckDB parses them while the worker encodes the others. Keys and users they share with
  // plain lines must come out as one row per key and day with users counted once; "solo" is met by the
  // SQL on the first day and by the encoder on the second, and must stay one key.
  const lines = [
    '2019-10-01 00:00:01 UTC,view,5,1,a.b,acme,1.23456,100,s1',
    '2019-10-01 00:00:02 UTC,view,5,1,a.b,acme,2.00,100,s2',
    '2019-10-01 00:00:03 UTC,purchase,5,1,a.b,acme,2.00,101,s3',
    '2019-10-01 00:00:04 UTC,cart,1234567890123456,1,a.b,zürich,3.5,100,s4',
    '2019-10-01 00:00:05 UTC,view,7,1,a.b,zürich,,102,s5',
    '2019-10-01 00:00:06 UTC,view,8,1,a.b,solo,1.00001,103,s7',
    '2019-10-02 00:00:01 UTC,view,5,1,a.b,acme,2.00,100,s6',
    '2019-10-02 00:00:02 UTC,view,8,1,a.b,solo,1.00,103,s8',
  ];

  it('merges them with the encoded rows of the same keys and days', async () => {
    const file = join(dir, 'mixed.csv.gz');
    await writeFile(file, gzipSync(`${SOURCE_HEADER}\n${lines.join('\n')}\n`));
    const out = join(dir, 'out-mixed');
    const report = await runEtl({ inputs: file, outDir: out });
    expect(report).toMatchObject({ rowsRead: 8, rowsAccepted: 8, rowsQuarantined: 0, duplicatesRemoved: 0 });
    const series = async (keyType: string) =>
      query(`SELECT key, date::VARCHAR AS date, views::INTEGER AS views, carts::INTEGER AS carts,
        purchases::INTEGER AS purchases, revenue, round(price_mean, 6) AS price_mean, users::INTEGER AS users
        FROM read_parquet('${join(out, 'series', `key_type=${keyType}`, '*.parquet')}') ORDER BY key, date`);
    const row = (key: string, date: string, counts: number[], priceMean: number | null, users: number) => {
      const [views, carts, purchases, revenue] = counts;
      return { key, date, views, carts, purchases, revenue, price_mean: priceMean, users };
    };
    expect(await series('brand')).toEqual([
      row('acme', '2019-10-01', [2, 0, 1, 2], 1.744867, 2),
      row('acme', '2019-10-02', [1, 0, 0, 0], 2, 1),
      row('solo', '2019-10-01', [1, 0, 0, 0], 1, 1),
      row('solo', '2019-10-02', [1, 0, 0, 0], 1, 1),
      row('zürich', '2019-10-01', [1, 1, 0, 0], 3.5, 2),
    ]);
    expect(await series('category_code')).toEqual([
      row('a.b', '2019-10-01', [4, 1, 1, 2], 1.94692, 4),
      row('a.b', '2019-10-02', [2, 0, 0, 0], 1.5, 2),
    ]);
    const products = await series('product_id');
    expect(products.filter((r) => r.date === '2019-10-01')).toEqual([
      row('1234567890123456', '2019-10-01', [0, 1, 0, 0], 3.5, 1),
      row('5', '2019-10-01', [2, 0, 1, 2], 1.744867, 2),
      row('7', '2019-10-01', [1, 0, 0, 0], null, 1),
      row('8', '2019-10-01', [1, 0, 0, 0], 1, 1),
    ]);
  });
});

describe('runEtl on bad inputs', () => {
  const bad = async (name: string, content: Buffer | string): Promise<string> => {
    const file = join(dir, 'bad', name);
    await mkdir(join(dir, 'bad'), { recursive: true });
    await writeFile(file, content);
    return file;
  };
  const goodLine =
    '2019-10-01 00:00:04 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde-8bb3-4e00-8c23-a032dfed738c';

  it.each([
    ['empty file', 'empty.csv.gz', Buffer.alloc(0), 'EMPTY_FILE'],
    ['gzip of nothing', 'nothing.csv.gz', gzipSync(''), 'EMPTY_FILE'],
    ['header only', 'header.csv.gz', gzipSync(`${SOURCE_HEADER}\n`), 'HEADER_ONLY'],
    ['wrong schema', 'other.csv.gz', gzipSync('order_id,amount\n1,2.5\n'), 'WRONG_SCHEMA'],
    ['not gzip at all', 'plain.csv.gz', `${SOURCE_HEADER}\n${goodLine}\n`, 'CORRUPT_INPUT'],
    [
      'rows all malformed',
      'junk.csv.gz',
      gzipSync(`${SOURCE_HEADER}\n${'x,y\n'.repeat(20)}`),
      'NO_VALID_ROWS',
    ],
    [
      'mostly malformed',
      'mostly.csv.gz',
      gzipSync(`${SOURCE_HEADER}\n${goodLine}\n${'x,y\n'.repeat(5)}`),
      'MOSTLY_MALFORMED',
    ],
  ])('%s fails with a clear error naming the file and leaves no output', async (_, name, content, code) => {
    const file = await bad(name, content);
    const out = join(dir, `out-${name}`);
    const error = await runEtl({ inputs: file, outDir: out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlInputError);
    expect(error).toMatchObject({ code, file });
    expect((error as Error).message).toContain(file);
    await expect(stat(out)).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('fails on a truncated gzip and keeps the previous good output intact', async () => {
    const good = await generateClickstream({
      days: 2,
      products: 20,
      eventsPerDay: 3000,
      seed: 4,
      out: join(dir, 'bad', 'whole.csv.gz'),
    });
    const out = join(dir, 'out-keep');
    const before = await runEtl({ inputs: good.out, outDir: out });
    const bytes = await readFile(good.out);
    const file = await bad('truncated.csv.gz', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const error = await runEtl({ inputs: file, outDir: out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlInputError);
    expect(error).toMatchObject({ code: 'CORRUPT_INPUT', file });
    const kept = JSON.parse(await readFile(join(out, 'etl-report.json'), 'utf8')) as EtlReport;
    expect(kept.datasetVersion).toBe(before.datasetVersion);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
  });

  it('reads plain .csv too and accounts for blank lines', async () => {
    const cart = goodLine.replace(',view,', ',cart,');
    const file = await bad('blank-lines.csv', `${SOURCE_HEADER}\n${goodLine}\n\n${cart}\n${cart}`);
    const report = await runEtl({ inputs: file, outDir: join(dir, 'out-blank') });
    expect(report).toMatchObject({
      rowsRead: 4,
      rowsAccepted: 2,
      duplicatesRemoved: 1,
      rowsQuarantined: 1,
      quarantinedByReason: { empty_line: 1 },
    });
  });

  it('fails when a pattern matches nothing', async () => {
    await expect(
      runEtl({ inputs: join(dir, 'nowhere', '*.csv.gz'), outDir: join(dir, 'x') }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
