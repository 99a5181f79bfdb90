import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClickstream, specialDayOn, specialDays, type GenerateSummary } from './generator.js';
import { EVENT_TYPES, SOURCE_HEADER } from './schema.js';

const GOOD_LINE =
  /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC,(view|cart|remove_from_cart|purchase),(\d+),(\d+),([a-z_.]*),([a-z]*),(\d+\.\d{2}),(\d+),([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$/;

/** A line in the source format whose time is a real calendar time. */
const isGoodLine = (line: string): boolean => {
  const m = line.match(GOOD_LINE);
  return m !== null && !Number.isNaN(Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`));
};

let dir: string;
const linesOf = async (file: string): Promise<string[]> =>
  gunzipSync(await readFile(file))
    .toString('utf8')
    .split('\n')
    .slice(0, -1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gen-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateClickstream', () => {
  it('is deterministic per seed: same seed gives the same bytes, another seed different bytes', async () => {
    const opts = { days: 3, products: 40, eventsPerDay: 800, dirty: 0.02 };
    await generateClickstream({ ...opts, seed: 11, out: join(dir, 'a.csv.gz') });
    await generateClickstream({ ...opts, seed: 11, out: join(dir, 'b.csv.gz') });
    await generateClickstream({ ...opts, seed: 12, out: join(dir, 'c.csv.gz') });
    const sha = async (f: string): Promise<string> =>
      createHash('sha256')
        .update(await readFile(join(dir, f)))
        .digest('hex');
    expect(await sha('a.csv.gz')).toBe(await sha('b.csv.gz'));
    expect(await sha('a.csv.gz')).not.toBe(await sha('c.csv.gz'));
  });

  describe('on four weeks around Black Friday', () => {
    let summary: GenerateSummary;
    let rows: RegExpMatchArray[];
    beforeAll(async () => {
      summary = await generateClickstream({
        days: 28,
        products: 120,
        eventsPerDay: 2500,
        seed: 5,
        startDate: '2019-11-04',
        out: join(dir, 'month.csv.gz'),
      });
      const lines = await linesOf(summary.out);
      expect(lines[0]).toBe(SOURCE_HEADER);
      rows = lines
        .slice(1)
        .map(
          (l) => (isGoodLine(l) ? l.match(GOOD_LINE) : null) ?? expect.fail(`not the source format: ${l}`),
        );
    });

    it('writes exactly the source schema and formats, with empty brand and category shares', () => {
      expect(rows.length).toBe(summary.rows);
      expect(rows.length).toBe(summary.goodRows + summary.duplicateRows);
      const noCode = rows.filter((r) => r[8] === '').length / rows.length;
      const noBrand = rows.filter((r) => r[9] === '').length / rows.length;
      expect(noCode).toBeGreaterThan(0.05);
      expect(noCode).toBeLessThan(0.6);
      expect(noBrand).toBeGreaterThan(0.02);
      expect(noBrand).toBeLessThan(0.4);
      expect(rows[0]?.[1]).toBe('2019-11-04');
      expect(rows.at(-1)?.[1]).toBe('2019-12-01');
    });

    it('has funnel ratios like the source: views >> carts >> purchases', () => {
      const n = Object.fromEntries(EVENT_TYPES.map((t) => [t, rows.filter((r) => r[5] === t).length]));
      const views = n.view ?? 0;
      expect(views / rows.length).toBeGreaterThan(0.88);
      expect((n.cart ?? 0) / views).toBeGreaterThan(0.02);
      expect((n.cart ?? 0) / views).toBeLessThan(0.08);
      expect((n.purchase ?? 0) / views).toBeGreaterThan(0.008);
      expect(n.purchase ?? 0).toBeLessThan(n.cart ?? 0);
      expect(n.remove_from_cart ?? 0).toBeLessThan(n.cart ?? 0);
    });

    it('has weekly seasonality (weekends busier) on ordinary days', () => {
      const perDay = new Map<string, number>();
      for (const r of rows) if (r[5] === 'view') perDay.set(r[1] ?? '', (perDay.get(r[1] ?? '') ?? 0) + 1);
      const ordinary = [...perDay].filter(([date]) => specialDayOn(date) === undefined);
      const weekend = ordinary.filter(([date]) => [0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay()));
      const weekdays = ordinary.filter(
        ([date]) => ![0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay()),
      );
      const mean = (xs: [string, number][]): number => xs.reduce((a, [, v]) => a + v, 0) / xs.length;
      expect(weekend.length).toBeGreaterThan(2);
      expect(mean(weekend) / mean(weekdays)).toBeGreaterThan(1.12);
    });

    it('lifts demand and cuts prices on the calendar special days', () => {
      const calendar = specialDays('2019-11-04', '2019-12-01').map((d) => d.name);
      expect(calendar).toEqual(
        expect.arrayContaining(['monthly_sale', 'singles_day', 'black_friday', 'black_friday_weekend']),
      );
      const views = (date: string): number => rows.filter((r) => r[1] === date && r[5] === 'view').length;
      // Black Friday against the ordinary Fridays two and three weeks before.
      expect(views('2019-11-29') / ((views('2019-11-15') + views('2019-11-22')) / 2)).toBeGreaterThan(1.6);
      const priceOf = (date: string): Map<string, number> =>
        new Map(rows.filter((r) => r[1] === date).map((r) => [r[6] ?? '', Number(r[10])]));
      const friday = priceOf('2019-11-29');
      const day = priceOf('2019-11-28');
      const ratios = [...friday].flatMap(([p, price]) => (day.has(p) ? [price / (day.get(p) ?? 1)] : []));
      ratios.sort((a, b) => a - b);
      expect(ratios[Math.floor(ratios.length / 2)]).toBeCloseTo(0.8, 1);
    });

    it('has a long tail: many products with days without purchases', () => {
      const bought = new Map<string, Set<string>>();
      for (const r of rows) {
        if (r[5] !== 'purchase') continue;
        const days = bought.get(r[6] ?? '') ?? new Set<string>();
        days.add(r[1] ?? '');
        bought.set(r[6] ?? '', days);
      }
      const intermittent = [...bought.values()].filter((d) => d.size < 14).length;
      expect(intermittent / bought.size).toBeGreaterThan(0.3);
    });
  });

  it('injects malformed rows at the requested rate and counts each kind', async () => {
    const summary = await generateClickstream({
      days: 4,
      products: 50,
      eventsPerDay: 2500,
      seed: 9,
      dirty: 0.05,
      out: join(dir, 'dirty.csv.gz'),
    });
    const lines = (await linesOf(summary.out)).slice(1);
    const bad = lines.filter((l) => !isGoodLine(l)).length;
    expect(bad).toBe(summary.malformedRows);
    expect(summary.malformedRows / (summary.malformedRows + summary.goodRows)).toBeGreaterThan(0.04);
    expect(summary.malformedRows / (summary.malformedRows + summary.goodRows)).toBeLessThan(0.06);
    for (const n of Object.values(summary.malformedByKind)) expect(n).toBeGreaterThan(0);
    expect(Object.values(summary.malformedByKind).reduce((a, b) => a + b, 0)).toBe(summary.malformedRows);
  });

  it('rejects nonsense options', async () => {
    await expect(
      generateClickstream({ days: 0, products: 5, seed: 1, out: join(dir, 'x.csv.gz') }),
    ).rejects.toThrow(/days/);
    await expect(
      generateClickstream({ days: 1, products: 5, seed: 1, dirty: 1.5, out: join(dir, 'x.csv.gz') }),
    ).rejects.toThrow(/dirty/);
  });
});
