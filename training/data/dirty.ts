import { type MalformedKind, MALFORMED_KINDS } from './schema.js';
import { type Random } from './random.js';

/**
 * Turns a good CSV row (its fields, unjoined) into the kind of malformed line real dumps carry.
 * Each mutation produces exactly one defect so the ETL's reason for it is unambiguous.
 */
export function malformRow(fields: string[], random: Random): { kind: MalformedKind; line: string } {
  const kind = random.pick(MALFORMED_KINDS);
  const out = [...fields];
  switch (kind) {
    case 'wrong_column_count':
      if (random.chance(0.5)) out.pop();
      else out.push('extra');
      break;
    case 'bad_event_time':
      out[0] = random.pick(['2019-13-45 25:61:00 UTC', 'yesterday', '1569888004', '2019/10/01 00:00:04']);
      break;
    case 'bad_price':
      out[6] = random.pick(['N/A', 'abc', '12.3.4', 'free']);
      break;
    case 'negative_price':
      out[6] = `-${out[6] ?? '1.00'}`;
      break;
    case 'unknown_event_type':
      out[1] = random.pick(['click', 'wishlist', 'VIEW', 'checkout']);
      break;
    case 'broken_quoting':
      // A stray quote inside a field: the source never quotes, so any quote is a broken dump.
      out[5] = `${out[5] || 'no'}"brand`;
      break;
  }
  return { kind, line: out.join(',') };
}
