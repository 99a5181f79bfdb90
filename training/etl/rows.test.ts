import { describe, expect, it } from 'vitest';
import { BATCH_ROWS, type RowBatch, RowEncoder } from './rows.js';

const TIME = '2019-10-01 00:00:04 UTC';
const plain = `${TIME},purchase,44600062,2103807459595387724,appliances.kitchen,shiseido,35.79,541312140,72d76fde`;

/** Encodes lines of one day; returns the batches handed over and which lines were encoded. */
function encodeAll(lines: readonly string[], day = '2019-10-01') {
  const batches: RowBatch[] = [];
  const encoder = new RowEncoder((b) => batches.push(b));
  const encoded = lines.map((line) => {
    const b = Buffer.from(`${line}\n`, 'utf8');
    return encoder.encode(b, 0, b.length - 1, day);
  });
  encoder.flush();
  return { batches, encoded };
}

describe('RowEncoder', () => {
  it('encodes a plain line into typed columns with the price in ten-thousandths', () => {
    const { batches, encoded } = encodeAll([
      plain,
      plain.replace(',35.79,', ',,').replace(',shiseido,', ',,'),
    ]);
    expect(encoded).toEqual([true, true]);
    const [batch] = batches;
    expect(batch).toMatchObject({ day: '2019-10-01', count: 2, newCategories: ['appliances.kitchen'] });
    expect(batch?.newBrands).toEqual(['shiseido']);
    expect([...(batch?.etype.subarray(0, 2) ?? [])]).toEqual([3, 3]);
    expect([...(batch?.product.subarray(0, 2) ?? [])]).toEqual([44600062, 44600062]);
    expect([...(batch?.price.subarray(0, 2) ?? [])]).toEqual([357900, 0]);
    expect([...(batch?.user.subarray(0, 2) ?? [])]).toEqual([541312140, 541312140]);
    expect([...(batch?.category.subarray(0, 2) ?? [])]).toEqual([1, 1]);
    // An empty brand has no dictionary id.
    expect([...(batch?.brand.subarray(0, 2) ?? [])]).toEqual([1, 0]);
  });

  it.each([
    ['price with 5 decimals', plain.replace(',35.79,', ',35.79001,')],
    ['price with a trailing dot', plain.replace(',35.79,', ',35.,')],
    ['price without integer digits', plain.replace(',35.79,', ',.5,')],
    ['negative price', plain.replace(',35.79,', ',-35.79,')],
    ['price of 11 integer digits', plain.replace(',35.79,', ',12345678901,')],
    ['product_id of 16 digits', plain.replace(',44600062,', ',1234567890123456,')],
    ['signed product_id', plain.replace(',44600062,', ',+44600062,')],
    ['empty user_id', plain.replace(',541312140,', ',,')],
    ['category_id above BIGINT', plain.replace(',2103807459595387724,', ',9223372036854775808,')],
    ['unknown event type', plain.replace(',purchase,', ',refund,')],
    ['non-ASCII brand', plain.replace(',shiseido,', ',zürich,')],
    ['tab in category_code', plain.replace(',appliances.kitchen,', ',appliances\tkitchen,')],
    ['ten fields', `${plain},extra`],
    ['eight fields', plain.slice(0, plain.lastIndexOf(','))],
  ])('leaves a line with a %s to the SQL', (_, line) => {
    const { batches, encoded } = encodeAll([line]);
    expect(encoded).toEqual([false]);
    expect(batches).toEqual([]);
  });

  it('accepts the largest BIGINT category_id, a CRLF line end and an empty category_id', () => {
    const { encoded } = encodeAll([
      plain.replace(',2103807459595387724,', ',9223372036854775807,'),
      `${plain}\r`,
      plain.replace(',2103807459595387724,', ',,'),
    ]);
    expect(encoded).toEqual([true, true, true]);
  });

  it('keeps one id per text and reports each new text once, in id order', () => {
    const other = plain.replace(',shiseido,', ',acme,');
    const batches: RowBatch[] = [];
    const encoder = new RowEncoder((b) => batches.push(b));
    for (const [line, day] of [
      [plain, '2019-10-01'],
      [other, '2019-10-01'],
      [plain, '2019-10-02'],
    ] as const) {
      const b = Buffer.from(`${line}\n`);
      encoder.encode(b, 0, b.length - 1, day);
    }
    encoder.flush();
    expect(batches.map((b) => [b.day, b.count, b.newBrands, [...b.brand.subarray(0, b.count)]])).toEqual([
      ['2019-10-01', 2, ['shiseido', 'acme'], [1, 2]],
      ['2019-10-02', 1, [], [1]],
    ]);
  });

  it('hands a batch over when it is full and reuses recycled buffers', () => {
    const batches: RowBatch[] = [];
    const encoder = new RowEncoder((b) => batches.push(b));
    const b = Buffer.from(`${plain}\n`);
    for (let i = 0; i < BATCH_ROWS + 1; i++) encoder.encode(b, 0, b.length - 1, '2019-10-01');
    expect(batches.map((x) => x.count)).toEqual([BATCH_ROWS]);
    const first = batches[0] as RowBatch;
    encoder.flush();
    expect(batches.map((x) => x.count)).toEqual([BATCH_ROWS, 1]);
    encoder.recycle(
      [first.etype, first.product, first.category, first.brand, first.price, first.user].map(
        (c) => c.buffer as ArrayBuffer,
      ),
    );
    encoder.encode(b, 0, b.length - 1, '2019-10-03');
    encoder.flush();
    expect(batches[2]?.etype.buffer).toBe(first.etype.buffer);
  });
});
