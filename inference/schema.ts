import { z } from 'zod';
import { InvalidInputError } from './errors.js';

/** Default largest number of keys in one request. */
export const defaultMaxBatchKeys = 500;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD date');

const observationSchema = z.strictObject({
  date: isoDate,
  purchases: z.number().nonnegative(),
  views: z.number().nonnegative().optional(),
  carts: z.number().nonnegative().optional(),
  priceMean: z.number().nonnegative().nullable().optional(),
});

const horizonSchema = z.union([z.literal(7), z.literal(14), z.literal(28)], {
  error: 'must be 7, 14 or 28',
});

function scoreRequestSchema(maxBatchKeys: number) {
  return z.strictObject({
    keys: z
      .array(z.string().min(1, 'must not be empty').max(200, 'is longer than 200 characters'))
      .min(1, 'must list at least one key')
      .max(maxBatchKeys, `lists more than ${maxBatchKeys} keys (the batch limit)`),
    horizon: horizonSchema,
    start_date: isoDate.optional(),
    /** Recent days per key, for keys the model has not seen. */
    history: z.record(z.string(), z.array(observationSchema).max(400, 'has more than 400 days')).optional(),
  });
}

/** A validated scoring request (snake_case, as on the wire). */
export type ScoreRequest = z.infer<ReturnType<typeof scoreRequestSchema>>;

function describe(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  return `${field}: ${issue.message}`;
}

/** Builds a parser for `/score` bodies: the plain request or the Azure ML `{"input_data": …}` wrapper. */
export function makeScoreRequestParser(maxBatchKeys = defaultMaxBatchKeys): (body: unknown) => ScoreRequest {
  const schema = scoreRequestSchema(maxBatchKeys);
  return (body) => {
    const unwrapped =
      typeof body === 'object' && body !== null && !Array.isArray(body) && 'input_data' in body
        ? (body as { input_data: unknown }).input_data
        : body;
    if (typeof unwrapped !== 'object' || unwrapped === null || Array.isArray(unwrapped)) {
      throw new InvalidInputError('body: must be a JSON object with keys and horizon');
    }
    const result = schema.safeParse(unwrapped);
    if (!result.success) {
      throw new InvalidInputError(result.error.issues.slice(0, 3).map(describe).join('; '));
    }
    return result.data;
  };
}
