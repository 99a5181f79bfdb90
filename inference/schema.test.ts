import { describe, expect, it } from 'vitest';
import { InvalidInputError } from './errors.js';
import { makeScoreRequestParser } from './schema.js';

const parse = makeScoreRequestParser(3);

function messageOf(body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error('expected the body to be rejected');
}

describe('score request parsing', () => {
  it('accepts a plain request and the Azure ML input_data wrapper alike', () => {
    const request = { keys: ['a.b'], horizon: 7, start_date: '2019-11-01' };
    expect(parse(request)).toEqual(request);
    expect(parse({ input_data: request })).toEqual(request);
  });

  it('accepts recent history for unseen keys', () => {
    const request = {
      keys: ['new.key'],
      horizon: 14,
      history: { 'new.key': [{ date: '2019-11-01', purchases: 3 }] },
    };
    expect(parse(request).history?.['new.key']).toHaveLength(1);
  });

  it.each([
    [{ keys: 'a', horizon: 7 }, /^keys: /],
    [{ keys: [], horizon: 7 }, /^keys: must list at least one key/],
    [{ keys: ['a', 'b', 'c', 'd'], horizon: 7 }, /^keys: lists more than 3 keys/],
    [{ keys: ['a'], horizon: 10 }, /^horizon: must be 7, 14 or 28/],
    [{ keys: ['a'], horizon: '7' }, /^horizon: /],
    [{ keys: ['a'], horizon: 7, start_date: '1/11/2019' }, /^start_date: must be a YYYY-MM-DD date/],
    [
      { keys: ['a'], horizon: 7, history: { a: [{ date: '2019-11-01', purchases: -1 }] } },
      /^history\.a\.0\.purchases/,
    ],
    [{ keys: [''], horizon: 7 }, /^keys\.0: must not be empty/],
    [{ keys: ['a'], horizon: 7, startDate: '2019-11-01' }, /startDate/],
    [{ horizon: 7 }, /^keys: /],
    [[1, 2], /^body: must be a JSON object/],
    [null, /^body: /],
    [{ input_data: 'x' }, /^body: /],
  ])('rejects %j naming the field', (body, pattern) => {
    expect(messageOf(body)).toMatch(pattern);
  });
});
