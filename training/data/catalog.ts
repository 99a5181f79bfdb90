import { type Random } from './random.js';

/**
 * A synthetic product catalog shaped like the source store's: dotted category codes (about a third of
 * category ids have none), brands (some missing), log-normal prices and a Zipf-like popularity with a
 * long tail of products that sell only now and then.
 */

/** Category codes seen in the source data (a representative subset). */
export const CATEGORY_CODES = [
  'electronics.smartphone',
  'electronics.audio.headphone',
  'electronics.video.tv',
  'electronics.clocks',
  'electronics.tablet',
  'electronics.camera.video',
  'computers.notebook',
  'computers.desktop',
  'computers.components.videocards',
  'computers.peripherals.printer',
  'appliances.kitchen.washer',
  'appliances.kitchen.refrigerators',
  'appliances.environment.vacuum',
  'appliances.kitchen.microwave',
  'appliances.personal.hair_cutter',
  'apparel.shoes',
  'apparel.shoes.keds',
  'apparel.costume',
  'furniture.living_room.sofa',
  'furniture.bedroom.bed',
  'kids.toys',
  'kids.carriage',
  'auto.accessories.player',
  'construction.tools.drill',
  'sport.bicycle',
  'accessories.bag',
  'country_yard.cultivator',
  'medicine.tools.tonometer',
] as const;

const BRANDS = [
  'samsung',
  'apple',
  'xiaomi',
  'huawei',
  'lg',
  'sony',
  'lenovo',
  'acer',
  'asus',
  'hp',
  'bosch',
  'indesit',
  'beko',
  'philips',
  'redmond',
  'tefal',
  'polaris',
  'vitek',
  'nike',
  'adidas',
  'puma',
  'lego',
  'hasbro',
  'pioneer',
  'makita',
  'stels',
  'casio',
  'garmin',
  'canon',
  'epson',
  'atlant',
  'haier',
  'karcher',
  'omron',
] as const;

/** One category id with its (possibly empty) code and its demand profile. */
export interface Category {
  id: string;
  /** Dotted code, or '' when the source leaves it empty. */
  code: string;
  /** Typical price level of the category. */
  priceLevel: number;
  /** Multiplier per weekday (0 = Monday). */
  weekly: readonly number[];
  /** Yearly log-growth rate of demand. */
  trendPerYear: number;
  /** How strongly the category reacts to special days (1 = as the calendar says). */
  specialSensitivity: number;
}

/** One product. */
export interface Product {
  id: number;
  category: Category;
  /** '' when the source leaves the brand empty. */
  brand: string;
  basePrice: number;
  /** Relative popularity (unnormalised). */
  weight: number;
  /** Relative propensity to be put in the cart once viewed. */
  conversion: number;
}

const BASE_WEEKLY = [1.0, 0.97, 0.95, 0.97, 1.06, 1.22, 1.28];

/** Builds the categories and `count` products from the stream. */
export function buildCatalog(random: Random, count: number): { categories: Category[]; products: Product[] } {
  const categories: Category[] = [];
  let categoryId = 2053013552226107603n;
  for (const code of CATEGORY_CODES) {
    // Each code maps to 1-3 category ids; a share of ids carries no code, as in the source.
    const ids = 1 + random.int(3);
    const priceLevel = Math.exp(3 + random.float() * 4);
    const weekly = BASE_WEEKLY.map((w) => w * (1 + 0.06 * random.normal()));
    const trendPerYear = -0.3 + random.float() * 0.9;
    const specialSensitivity = 0.6 + random.float() * 0.8;
    for (let i = 0; i < ids; i++) {
      categoryId += BigInt(1 + random.int(1_000_000_000));
      const code_ = random.chance(0.3) ? '' : code;
      categories.push({
        id: categoryId.toString(),
        code: code_,
        priceLevel,
        weekly,
        trendPerYear,
        specialSensitivity,
      });
    }
  }
  const products: Product[] = [];
  let productId = 1000978 + random.int(1000);
  for (let i = 0; i < count; i++) {
    productId += 1 + random.int(40);
    const category = random.pick(categories);
    const brand = random.chance(0.14) ? '' : random.pick(BRANDS);
    const basePrice = Math.max(0.88, category.priceLevel * Math.exp(0.6 * random.normal()));
    products.push({
      id: productId,
      category,
      brand,
      basePrice,
      // Zipf-like popularity over a shuffled rank gives a long intermittent tail.
      weight: 0,
      conversion: Math.exp(0.35 * random.normal()),
    });
  }
  const ranks = products.map((_, i) => i);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = ranks[i] ?? 0;
    ranks[i] = ranks[j] ?? 0;
    ranks[j] = tmp;
  }
  products.forEach((p, i) => {
    p.weight = 1 / Math.pow(10 + (ranks[i] ?? 0), 0.9);
  });
  return { categories, products };
}
