import { SPECIAL_DAY_NAMES, specialDayAt, type SpecialDayKind } from '../data/generator.js';
import { parseIsoDay, type EpochDay } from './dates.js';

/**
 * Special days come from the clickstream generator's calendar (training/data), which is the store's
 * calendar of holidays, promotions and seasons; extra days (local events, ad-hoc promotions) come from
 * configuration as ISO dates and are stored in model.json so training and inference agree.
 */
export interface SpecialDayCalendar {
  /** Extra special days from configuration, `YYYY-MM-DD`. */
  readonly extraDays: readonly string[];
}

/** What the features see of a day: which rule (0 = none), its kind and its planned price factor. */
export interface SpecialDayInfo {
  /** 1-based index into SPECIAL_DAY_NAMES; SPECIAL_DAY_NAMES.length + 1 for configured extra days. */
  rule: number;
  /** 0 = ordinary, 1 = holiday, 2 = promotion, 3 = season, 4 = configured extra day. */
  kind: number;
  /** Planned shelf-price multiplier (promotions discount). */
  priceFactor: number;
}

const KIND_CODES: Record<SpecialDayKind, number> = { holiday: 1, promotion: 2, season: 3 };
const ORDINARY: SpecialDayInfo = { rule: 0, kind: 0, priceFactor: 1 };
const EXTRA: SpecialDayInfo = { rule: SPECIAL_DAY_NAMES.length + 1, kind: 4, priceFactor: 1 };

/** Lookup of special days: the store calendar plus configured extra days. */
export class SpecialDays {
  private readonly extra: ReadonlySet<EpochDay>;
  private readonly cache = new Map<EpochDay, SpecialDayInfo>();

  constructor(calendar: SpecialDayCalendar = { extraDays: [] }) {
    this.extra = new Set(calendar.extraDays.map(parseIsoDay));
  }

  /** The special-day record of a day (ORDINARY when it is none). */
  info(day: EpochDay): SpecialDayInfo {
    let info = this.cache.get(day);
    if (!info) {
      const special = specialDayAt(day);
      info = special
        ? {
            rule: SPECIAL_DAY_NAMES.indexOf(special.name) + 1,
            kind: KIND_CODES[special.kind],
            priceFactor: special.priceFactor,
          }
        : this.extra.has(day)
          ? EXTRA
          : ORDINARY;
      this.cache.set(day, info);
    }
    return info;
  }

  /** True when the day is a special day. */
  has(day: EpochDay): boolean {
    return this.info(day).rule !== 0;
  }

  /** Days from `day` to the next special day (0 if it is one), capped at `cap`. */
  daysUntilNext(day: EpochDay, cap: number): number {
    for (let d = 0; d < cap; d++) if (this.has(day + d)) return d;
    return cap;
  }
}
