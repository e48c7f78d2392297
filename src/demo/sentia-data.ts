/**
 * The "Sentia Spirits" demo data set: a UK craft distillery selling gin, vodka, whisky, rum,
 * liqueurs, canned cocktails, gift sets and mixers through Amazon, Shopify, its own shop and the
 * trade. Everything is generated in memory first (a seeded PRNG, dates derived only from
 * `options.today`), then written with one INSERT ... SELECT FROM unnest(...) per table (per chunk
 * of sales), so the same input always produces the same rows (ids and timestamps aside).
 *
 * Conventions of the generated data:
 * - sales: one row per product, channel and day on which it sold (quantity = that day's units,
 *   unit_price = that day's average selling price in the market's currency, commission =
 *   round(total_amount * commission_rate, 2)). channel_order_id runs per channel.
 * - products.reorder_point is company-wide: compare it with the product's stock summed over all
 *   locations. Five products are deliberately below it.
 * - working_capital_metrics are in GBP (EUR and USD sales converted at fixed demo rates). The
 *   current month, when not yet over, is month-to-date: days_in_period is the number of days
 *   elapsed, so DSO / DIO / DPO stay comparable with the complete months.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError, NotFoundError } from '../errors.js';

export type DemoSummary = {
  products: number;
  sales: number;
  inventory: number;
  workingCapitalMetrics: number;
  scenarios: number;
};

/* -------------------------------------------------------------------------------------------- */
/* Determinism helpers                                                                           */
/* -------------------------------------------------------------------------------------------- */

/** 32-bit string hash (FNV-1a), used to seed independent random streams. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

type Rng = () => number;

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream per concern, so changing one part of the data leaves the rest alone. */
const stream = (label: string): Rng => mulberry32(hash32(`sentia-spirits:${label}`));

/** A stable pseudo-random number in [0, 1) for a key, independent of call order. */
const hashUnit = (key: string): number => mulberry32(hash32(key))();

function normal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng();
    while (p > limit) {
      k += 1;
      p *= rng();
    }
    return k;
  }
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rng)));
}

const between = (rng: Rng, low: number, high: number) => low + (high - low) * rng();
const intBetween = (rng: Rng, low: number, high: number) => Math.floor(between(rng, low, high + 1));
const round2 = (value: number) => Math.round(value * 100) / 100;

/** Integer cents (or any integer hundredths) as a numeric literal: 123456 -> '1234.56'. */
function centsText(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const moneyText = (amount: number) => centsText(Math.round(amount * 100));

/* -------------------------------------------------------------------------------------------- */
/* Calendar (UTC day numbers; 'YYYY-MM-DD' strings only at the edges)                            */
/* -------------------------------------------------------------------------------------------- */

const DAY_MS = 86_400_000;
const dayNumber = (year: number, month0: number, day: number) =>
  Date.UTC(year, month0, day) / DAY_MS;
const dateText = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const daysInMonth = (year: number, month0: number) =>
  new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();

type DayInfo = {
  day: number;
  text: string;
  year: number;
  month0: number;
  dom: number;
  dow: number; // 0 = Sunday
};

function dayInfo(day: number): DayInfo {
  const date = new Date(day * DAY_MS);
  return {
    day,
    text: date.toISOString().slice(0, 10),
    year: date.getUTCFullYear(),
    month0: date.getUTCMonth(),
    dom: date.getUTCDate(),
    dow: date.getUTCDay(),
  };
}

/** The n-th given weekday (0 = Sunday) of a month, as a day number. */
function nthWeekday(year: number, month0: number, weekday: number, n: number): number {
  const first = dayNumber(year, month0, 1);
  const offset = (weekday - new Date(first * DAY_MS).getUTCDay() + 7) % 7;
  return first + offset + 7 * (n - 1);
}

type YearEvents = { blackFriday: number; primeDay: number; fathersDay: number };
const eventCache = new Map<number, YearEvents>();
function eventsOf(year: number): YearEvents {
  let events = eventCache.get(year);
  if (!events) {
    events = {
      blackFriday: nthWeekday(year, 10, 4, 4) + 1, // day after the 4th Thursday of November
      primeDay: nthWeekday(year, 6, 2, 2), // 2nd Tuesday of July (two days)
      fathersDay: nthWeekday(year, 5, 0, 3), // 3rd Sunday of June (UK and US)
    };
    eventCache.set(year, events);
  }
  return events;
}

/* -------------------------------------------------------------------------------------------- */
/* Catalogue                                                                                     */
/* -------------------------------------------------------------------------------------------- */

type Season = 'spirits' | 'gin' | 'whisky' | 'rtd' | 'gift' | 'mixer';

/** Demand index by calendar month (Jan..Dec); Q4 peak, Dry January, summer for gin and cans. */
const SEASONS: Record<Season, readonly number[]> = {
  spirits: [0.7, 0.8, 0.9, 0.94, 0.98, 1.02, 1.0, 0.98, 0.98, 1.1, 1.5, 2.25],
  gin: [0.68, 0.8, 0.95, 1.02, 1.12, 1.22, 1.22, 1.14, 1.0, 1.05, 1.45, 2.2],
  whisky: [0.75, 0.8, 0.85, 0.85, 0.86, 1.05, 0.86, 0.86, 0.95, 1.15, 1.65, 2.6],
  rtd: [0.55, 0.62, 0.8, 0.98, 1.25, 1.6, 1.75, 1.65, 1.1, 0.85, 0.9, 1.35],
  gift: [0.25, 0.55, 0.5, 0.35, 0.35, 0.6, 0.3, 0.3, 0.45, 0.9, 2.6, 4.6],
  mixer: [0.72, 0.8, 0.92, 1.0, 1.12, 1.25, 1.3, 1.22, 1.0, 0.98, 1.25, 1.75],
};

type CategoryCode = 'GIN' | 'VOD' | 'WHI' | 'RUM' | 'LIQ' | 'RTD' | 'GFT' | 'MIX';

type CategoryInfo = {
  name: string;
  season: Season;
  /** Units per trade case (wholesale quantities and reorder quantities are multiples). */
  caseSize: number;
  /** Trade demand as a share of the product's direct-to-consumer demand. */
  wholesaleShare: number;
  /** Sold outside the UK (Amazon USA, Shopify EU / USA)? */
  international: boolean;
  leadTime: [number, number];
};

// prettier-ignore
const CATEGORIES: Record<CategoryCode, CategoryInfo> = {
  GIN: { name: 'Gin', season: 'gin', caseSize: 6, wholesaleShare: 0.32, international: true, leadTime: [14, 21] },
  VOD: { name: 'Vodka', season: 'spirits', caseSize: 6, wholesaleShare: 0.3, international: true, leadTime: [14, 21] },
  WHI: { name: 'Whisky', season: 'whisky', caseSize: 6, wholesaleShare: 0.22, international: true, leadTime: [30, 45] },
  RUM: { name: 'Rum', season: 'spirits', caseSize: 6, wholesaleShare: 0.3, international: true, leadTime: [42, 60] },
  LIQ: { name: 'Liqueur', season: 'spirits', caseSize: 6, wholesaleShare: 0.26, international: true, leadTime: [14, 28] },
  RTD: { name: 'Ready-to-drink', season: 'rtd', caseSize: 2, wholesaleShare: 0.4, international: false, leadTime: [28, 35] },
  GFT: { name: 'Gift sets', season: 'gift', caseSize: 4, wholesaleShare: 0.18, international: false, leadTime: [60, 75] },
  MIX: { name: 'Mixers', season: 'mixer', caseSize: 2, wholesaleShare: 0.45, international: false, leadTime: [21, 28] },
};

type CatalogueEntry = {
  code: CategoryCode;
  name: string;
  description: string;
  /** GBP list price and landed unit cost (liquid, glass, packaging, UK duty). */
  price: number;
  cost: number;
  /** Average direct-to-consumer units per day at a season index of 1. */
  demand: number;
  /** Days before `today` on which the product was launched / discontinued. */
  launchedDaysAgo?: number;
  discontinuedDaysAgo?: number;
  /** Sold only in these calendar months (0-based), e.g. advent calendars. */
  months?: readonly number[];
  /** Extra demand in the run-up to Valentine's Day / Father's Day. */
  valentine?: boolean;
  fathersDay?: boolean;
};

// prettier-ignore
const CATALOGUE: readonly CatalogueEntry[] = [
  { code: 'GIN', name: 'Sentia London Dry Gin 70cl', description: 'Our flagship juniper-led London Dry, 42% ABV, distilled with eleven botanicals.', price: 32, cost: 11.2, demand: 26 },
  { code: 'GIN', name: 'Sentia Navy Strength Gin 70cl', description: 'A 57% ABV navy strength gin with a bold citrus and pepper finish.', price: 39, cost: 14.1, demand: 6, fathersDay: true },
  { code: 'GIN', name: 'Sentia Pink Rhubarb Gin 70cl', description: 'Yorkshire forced rhubarb and pink peppercorn, 37.5% ABV.', price: 30, cost: 10.4, demand: 16, valentine: true },
  { code: 'GIN', name: 'Sentia Seville Orange Gin 70cl', description: 'Bittersweet Seville orange peel with coriander and cardamom, 40% ABV.', price: 30, cost: 10.5, demand: 9 },
  { code: 'GIN', name: 'Sentia Old Tom Gin 70cl', description: 'A lightly sweetened Old Tom style gin for classic cocktails, 43% ABV.', price: 33, cost: 11.9, demand: 3.5 },
  { code: 'GIN', name: 'Sentia London Dry Gin 20cl', description: 'Our flagship London Dry in a 20cl flask.', price: 13.5, cost: 5.1, demand: 7 },
  { code: 'GIN', name: 'Sentia Sloe Gin 50cl', description: 'Hedgerow sloes steeped in London Dry for six months, 26% ABV.', price: 24, cost: 8.6, demand: 5 },
  { code: 'GIN', name: 'Sentia Barrel Rested Gin 70cl', description: 'London Dry rested in ex-bourbon casks for three months, 43% ABV.', price: 42, cost: 16.3, demand: 2.5, fathersDay: true },
  { code: 'VOD', name: 'Sentia Wheat Vodka 70cl', description: 'Triple-distilled English wheat vodka, 40% ABV.', price: 26, cost: 8.9, demand: 12 },
  { code: 'VOD', name: 'Sentia Potato Vodka 70cl', description: 'Creamy single-estate potato vodka, 40% ABV.', price: 29, cost: 10.2, demand: 4 },
  { code: 'VOD', name: 'Sentia Chilli Vodka 50cl', description: 'Wheat vodka infused with Scotch bonnet and smoked chipotle, 37.5% ABV.', price: 22, cost: 8.1, demand: 2 },
  { code: 'VOD', name: 'Sentia Vanilla Vodka 70cl', description: 'Wheat vodka with Madagascan vanilla pods, 37.5% ABV.', price: 25, cost: 8.8, demand: 4.5 },
  { code: 'VOD', name: 'Sentia Wheat Vodka 1L', description: 'Triple-distilled English wheat vodka, 40% ABV, litre bottle.', price: 34, cost: 12, demand: 3 },
  { code: 'VOD', name: 'Sentia Espresso Vodka 50cl', description: 'Cold-brew coffee vodka, replaced by the Espresso Martini can.', price: 23, cost: 8.4, demand: 2.5, discontinuedDaysAgo: 200 },
  { code: 'WHI', name: 'Sentia Blended Malt Whisky 70cl', description: 'A blend of Highland and Speyside malts, 43% ABV.', price: 38, cost: 14.5, demand: 7, fathersDay: true },
  { code: 'WHI', name: 'Sentia Single Malt 10 Year Old 70cl', description: 'Ten years in American oak, 46% ABV, non chill-filtered.', price: 52, cost: 21, demand: 5, fathersDay: true },
  { code: 'WHI', name: 'Sentia Single Malt 12 Year Old Sherry Cask 70cl', description: 'Finished in Oloroso sherry butts, 46% ABV.', price: 64, cost: 26.5, demand: 3, fathersDay: true },
  { code: 'WHI', name: 'Sentia Peated Single Malt 70cl', description: 'Heavily peated Islay-style malt, 46% ABV.', price: 58, cost: 23.4, demand: 2.8, fathersDay: true },
  { code: 'WHI', name: 'Sentia Single Grain Whisky 70cl', description: 'Light, sweet single grain matured in first-fill bourbon casks, 40% ABV.', price: 34, cost: 12.8, demand: 2.2 },
  { code: 'WHI', name: 'Sentia Cask Strength Single Malt 70cl', description: 'Small-batch cask strength release, around 58% ABV.', price: 78, cost: 33, demand: 1.1, fathersDay: true },
  { code: 'WHI', name: 'Sentia Single Malt 18 Year Old 70cl', description: 'Our oldest core expression, 46% ABV, in a presentation box.', price: 145, cost: 64, demand: 0.5, fathersDay: true },
  { code: 'RUM', name: 'Sentia Spiced Rum 70cl', description: 'Caribbean rum spiced with clove, orange and vanilla, 37.5% ABV.', price: 28, cost: 9.7, demand: 14 },
  { code: 'RUM', name: 'Sentia Dark Rum 70cl', description: 'Rich molasses rum aged in charred oak, 40% ABV.', price: 30, cost: 10.9, demand: 5 },
  { code: 'RUM', name: 'Sentia White Rum 70cl', description: 'Light column-still rum for daiquiris and mojitos, 37.5% ABV.', price: 24, cost: 8.2, demand: 4.5 },
  { code: 'RUM', name: 'Sentia Aged Rum 8 Year Old 70cl', description: 'Eight-year-old Barbadian rum, 43% ABV.', price: 45, cost: 18.2, demand: 2, fathersDay: true },
  { code: 'RUM', name: 'Sentia Coconut Rum 70cl', description: 'White rum with toasted coconut, 21% ABV.', price: 22, cost: 7.6, demand: 3 },
  { code: 'RUM', name: 'Sentia Overproof Rum 70cl', description: '63% ABV overproof rum, discontinued.', price: 32, cost: 11.8, demand: 1.2, discontinuedDaysAgo: 120 },
  { code: 'LIQ', name: 'Sentia Coffee Liqueur 50cl', description: 'Cold-brew Colombian coffee liqueur, 25% ABV.', price: 22, cost: 7.9, demand: 6 },
  { code: 'LIQ', name: 'Sentia Elderflower Liqueur 50cl', description: 'Hand-picked English elderflower, 20% ABV.', price: 20, cost: 7.1, demand: 3.5, valentine: true },
  { code: 'LIQ', name: 'Sentia Salted Caramel Liqueur 50cl', description: 'Cream liqueur with salted caramel, 17% ABV.', price: 21, cost: 7.5, demand: 4.5, valentine: true },
  { code: 'LIQ', name: 'Sentia Blackberry Liqueur 50cl', description: 'Wild blackberry liqueur, discontinued.', price: 20, cost: 7.2, demand: 1.5, discontinuedDaysAgo: 75 },
  { code: 'LIQ', name: 'Sentia Amaretto 70cl', description: 'Almond and apricot kernel liqueur, 28% ABV.', price: 24, cost: 8.8, demand: 2.5 },
  { code: 'LIQ', name: 'Sentia Orange Triple Sec 50cl', description: 'Bitter and sweet orange triple sec, 39% ABV.', price: 19, cost: 6.8, demand: 2 },
  { code: 'RTD', name: 'Sentia Gin & Tonic Can 250ml 12-pack', description: 'London Dry and Indian tonic, 5.5% ABV, twelve cans.', price: 30, cost: 13.2, demand: 9 },
  { code: 'RTD', name: 'Sentia Pink Gin Spritz Can 250ml 12-pack', description: 'Pink Rhubarb Gin with soda and lime, 5% ABV, twelve cans.', price: 30, cost: 13.4, demand: 7 },
  { code: 'RTD', name: 'Sentia Rum & Cola Can 250ml 12-pack', description: 'Spiced rum and cola, 5% ABV, twelve cans.', price: 30, cost: 13, demand: 5 },
  { code: 'RTD', name: 'Sentia Vodka Lime Soda Can 250ml 12-pack', description: 'Wheat vodka, lime and soda, 4.5% ABV, twelve cans.', price: 28, cost: 12.4, demand: 4.5 },
  { code: 'RTD', name: 'Sentia Espresso Martini Can 200ml 12-pack', description: 'Vodka, coffee liqueur and cold brew, 6% ABV, twelve cans.', price: 36, cost: 16.2, demand: 5, launchedDaysAgo: 210 },
  { code: 'RTD', name: 'Sentia Whisky Highball Can 250ml 12-pack', description: 'Blended malt and sparkling water, 6% ABV, twelve cans.', price: 34, cost: 15.1, demand: 3, launchedDaysAgo: 130 },
  { code: 'RTD', name: 'Sentia Mojito Can 250ml 12-pack', description: 'White rum, lime and mint, 5% ABV, twelve cans.', price: 30, cost: 13.3, demand: 4 },
  { code: 'GFT', name: 'Sentia Gin Discovery Set 4x5cl', description: 'Four 5cl miniatures of our gins.', price: 25, cost: 9.8, demand: 3.5, valentine: true },
  { code: 'GFT', name: 'Sentia Whisky Tasting Set 3x5cl', description: 'Three 5cl single malt miniatures with tasting notes.', price: 30, cost: 12.4, demand: 2, fathersDay: true },
  { code: 'GFT', name: 'Sentia Gin & Glass Gift Box', description: 'London Dry Gin 70cl with a copa glass in a gift box.', price: 40, cost: 16.5, demand: 2.5 },
  { code: 'GFT', name: 'Sentia Spirits Advent Calendar 24x3cl', description: 'Twenty-four 3cl miniatures; on sale September to December.', price: 65, cost: 28, demand: 2.2, months: [8, 9, 10, 11] },
  { code: 'GFT', name: 'Sentia Cocktail Hamper', description: 'Gin, rum, liqueur, mixers and bar tools in a wicker hamper.', price: 85, cost: 38, demand: 0.8 },
  { code: 'MIX', name: 'Sentia Premium Indian Tonic 200ml 24-pack', description: 'Quinine tonic water made with cane sugar, twenty-four bottles.', price: 18, cost: 7.2, demand: 5 },
  { code: 'MIX', name: 'Sentia Light Tonic 200ml 24-pack', description: 'Low-calorie tonic water, twenty-four bottles.', price: 18, cost: 7.1, demand: 3.5 },
  { code: 'MIX', name: 'Sentia Ginger Ale 200ml 24-pack', description: 'Dry ginger ale, twenty-four bottles.', price: 17, cost: 6.8, demand: 2 },
  { code: 'MIX', name: 'Sentia Ginger Beer 200ml 24-pack', description: 'Fiery brewed ginger beer, twenty-four bottles.', price: 19, cost: 7.6, demand: 3 },
  { code: 'MIX', name: 'Sentia Soda Water 200ml 24-pack', description: 'Highly carbonated soda water, twenty-four bottles.', price: 15, cost: 5.9, demand: 1.5 },
];

/** Scales every product's demand; tuned so a year has roughly 30,000 sales rows. */
const DEMAND_SCALE = 0.7;

type Product = CatalogueEntry & {
  index: number;
  sku: string;
  category: CategoryInfo;
  priceCents: Record<Market, number>;
  costCents: number;
  leadTimeDays: number;
  launchDay: number | undefined;
  discontinuedDay: number | undefined;
  isActive: boolean;
  /** Per-product popularity drift over the year (some rise, some fade). */
  drift: number;
};

/* -------------------------------------------------------------------------------------------- */
/* Channels                                                                                      */
/* -------------------------------------------------------------------------------------------- */

type Market = 'UK' | 'EU' | 'USA';
type ChannelName =
  'amazon_uk' | 'amazon_usa' | 'shopify_uk' | 'shopify_eu' | 'shopify_usa' | 'direct' | 'wholesale';

type Channel = {
  name: ChannelName;
  market: Market;
  currency: 'GBP' | 'EUR' | 'USD';
  orderPrefix: string;
  /** Commission in basis points of total_amount. */
  commissionBp: number;
  /** Share of a product's direct-to-consumer demand. */
  share: number;
  international: boolean;
  /** Demand level at the start and end of the year (growth). */
  trend: [number, number];
  /** Weekday demand index, Sunday first. */
  weekday: readonly number[];
  online: boolean;
  /** Days after the sale before the money arrives (drives accounts receivable). */
  paymentDays: number;
};

// prettier-ignore
const CHANNELS: readonly Channel[] = [
  { name: 'amazon_uk', market: 'UK', currency: 'GBP', orderPrefix: 'AMZ-UK', commissionBp: 1500, share: 0.34, international: false, trend: [0.92, 1.1], weekday: [1.08, 0.92, 0.94, 0.96, 1.0, 1.04, 1.06], online: true, paymentDays: 14 },
  { name: 'amazon_usa', market: 'USA', currency: 'USD', orderPrefix: 'AMZ-US', commissionBp: 1500, share: 0.15, international: true, trend: [0.7, 1.35], weekday: [1.1, 0.92, 0.93, 0.95, 0.98, 1.02, 1.1], online: true, paymentDays: 14 },
  { name: 'shopify_uk', market: 'UK', currency: 'GBP', orderPrefix: 'SHP-UK', commissionBp: 300, share: 0.24, international: false, trend: [0.92, 1.1], weekday: [1.12, 0.86, 0.88, 0.92, 1.0, 1.1, 1.12], online: true, paymentDays: 3 },
  { name: 'shopify_eu', market: 'EU', currency: 'EUR', orderPrefix: 'SHP-EU', commissionBp: 300, share: 0.11, international: true, trend: [0.95, 1.05], weekday: [1.1, 0.88, 0.9, 0.93, 1.0, 1.08, 1.11], online: true, paymentDays: 3 },
  { name: 'shopify_usa', market: 'USA', currency: 'USD', orderPrefix: 'SHP-US', commissionBp: 300, share: 0.09, international: true, trend: [0.8, 1.2], weekday: [1.1, 0.9, 0.9, 0.94, 1.0, 1.05, 1.11], online: true, paymentDays: 3 },
  { name: 'direct', market: 'UK', currency: 'GBP', orderPrefix: 'DIR-UK', commissionBp: 0, share: 0.07, international: false, trend: [0.95, 1.05], weekday: [1.3, 0.45, 0.6, 0.75, 0.95, 1.35, 1.6], online: false, paymentDays: 1 },
  { name: 'wholesale', market: 'UK', currency: 'GBP', orderPrefix: 'WHL-UK', commissionBp: 0, share: 0, international: false, trend: [0.94, 1.1], weekday: [0, 1.1, 1.15, 1.0, 1.15, 0.6, 0], online: false, paymentDays: 47 },
];

/** Fixed demo exchange rates: units of currency per GBP. */
const FX: Record<Market, number> = { UK: 1, EU: 1.17, USA: 1.27 };
/** Trade price as a share of the UK list price. */
const TRADE_DISCOUNT = 0.58;

/** Local list price in cents: GBP as catalogued, EUR / USD as x.99 price points. */
function localPriceCents(gbp: number, market: Market): number {
  if (market === 'UK') return Math.round(gbp * 100);
  const markup = market === 'EU' ? 1.05 : 1.1; // shipping and import costs
  return Math.ceil(gbp * FX[market] * markup) * 100 - 1;
}

const channelNamed = (name: ChannelName): Channel => {
  const channel = CHANNELS.find((candidate) => candidate.name === name);
  if (!channel) throw new Error(`unknown channel ${name}`);
  return channel;
};

const listed = (product: Product, channel: Channel) =>
  (!channel.international || product.category.international) &&
  // the hamper and the advent calendar are too heavy / fragile for Amazon
  !(channel.name.startsWith('amazon') && product.code === 'GFT' && product.price >= 65);

/* -------------------------------------------------------------------------------------------- */
/* The demand model (expected units, no noise): used for the sales and for the forecasts         */
/* -------------------------------------------------------------------------------------------- */

function seasonIndex(season: Season, info: DayInfo): number {
  const factors = SEASONS[season];
  const dim = daysInMonth(info.year, info.month0);
  const position = (info.dom - 0.5) / dim - 0.5; // -0.5 .. 0.5 around mid-month
  const here = factors[info.month0]!;
  const neighbour = factors[(info.month0 + (position < 0 ? 11 : 1)) % 12]!;
  return here + (neighbour - here) * Math.abs(position);
}

function eventIndex(product: Product, channel: Channel, info: DayInfo): number {
  const { blackFriday, primeDay, fathersDay } = eventsOf(info.year);
  const day = info.day;
  let factor = 1;
  if (channel.online) {
    const fromBf = day - blackFriday;
    if (fromBf >= -7 && fromBf < 0) factor *= 1.15;
    else if (fromBf === 0) factor *= 2.3;
    else if (fromBf === 1 || fromBf === 2) factor *= 1.6;
    else if (fromBf === 3) factor *= 1.9; // Cyber Monday
    if (info.month0 === 11) {
      // after the last posting days, online orders dry up until Boxing Day
      if (info.dom >= 21 && info.dom <= 23) factor *= 0.8;
      else if (info.dom === 24) factor *= 0.4;
      else if (info.dom === 25) factor *= 0.15;
      else if (info.dom === 26) factor *= 0.6;
    }
  }
  if (channel.name.startsWith('amazon')) {
    const fromPrime = day - primeDay;
    if (fromPrime === 0 || fromPrime === 1) factor *= 2.6;
    else if (fromPrime >= -5 && fromPrime < 0) factor *= 0.9;
  }
  if (channel.name === 'direct') {
    if (info.month0 === 11 && info.dom <= 24) factor *= 1.4; // Christmas shop and markets
    if (
      (info.month0 === 11 && (info.dom === 25 || info.dom === 26)) ||
      (info.month0 === 0 && info.dom === 1)
    ) {
      return 0; // closed
    }
  }
  if (product.fathersDay && day >= fathersDay - 10 && day <= fathersDay) factor *= 1.6;
  if (product.valentine && info.month0 === 1 && info.dom >= 1 && info.dom <= 14) factor *= 1.3;
  return factor;
}

function lifecycleIndex(product: Product, day: number): number {
  if (product.launchDay !== undefined) {
    if (day < product.launchDay) return 0;
    const age = day - product.launchDay;
    if (age < 30) return 0.35 + (0.65 * age) / 30; // launch ramp-up
    if (age < 60) return 1.15; // launch marketing
  }
  if (product.discontinuedDay !== undefined) {
    if (day >= product.discontinuedDay) return 0;
    if (product.discontinuedDay - day <= 30) return 1.3; // clearance
  }
  return 1;
}

type Model = {
  start: number; // first day of data
  today: number;
  info: (day: number) => DayInfo;
};

function trendIndex(model: Model, channel: Channel, product: Product, day: number): number {
  // Past today the trend keeps growing, damped to half its slope.
  const t = day <= model.today ? (day - model.start) / 364 : 1 + (day - model.today) / 728;
  const [from, to] = channel.trend;
  return (from + (to - from) * t) * (1 + product.drift * (t - 0.5));
}

/** Expected units of a product sold through a channel on a day (wholesale: on that weekday). */
function expectedUnits(model: Model, product: Product, channel: Channel, day: number): number {
  if (!listed(product, channel)) return 0;
  const info = model.info(day);
  if (product.months && !product.months.includes(info.month0)) return 0;
  if (product.months && info.month0 === 11 && info.dom > 24) return 0;
  const lifecycle = lifecycleIndex(product, day);
  if (lifecycle === 0) return 0;
  const base = product.demand * DEMAND_SCALE * lifecycle * trendIndex(model, channel, product, day);
  const weekday = channel.weekday[info.dow]!;
  if (channel.name === 'wholesale') {
    if (weekday === 0) return 0;
    if ((info.month0 === 11 && info.dom >= 25) || (info.month0 === 0 && info.dom === 1)) return 0;
    // the trade buys ahead of the consumer season, so its season leads by three weeks
    const ahead = seasonIndex(product.category.season, model.info(day + 21));
    return base * product.category.wholesaleShare * ahead * weekday * (7 / 5);
  }
  const season = seasonIndex(product.category.season, info);
  return base * channel.share * season * weekday * eventIndex(product, channel, info);
}

/** Average selling price factor (before rounding) of a channel on a day. */
function priceFactor(product: Product, channel: Channel, info: DayInfo): number {
  const { blackFriday, primeDay } = eventsOf(info.year);
  const fromBf = info.day - blackFriday;
  const blackFridayDeal = channel.online && fromBf >= 0 && fromBf <= 3;
  if (channel.name.startsWith('amazon')) {
    if (blackFridayDeal || info.day === primeDay || info.day === primeDay + 1) return 0.85;
    // Amazon prices move a little every four weeks (repricing against other sellers).
    const period = Math.floor(info.day / 28);
    return 0.95 + 0.05 * hashUnit(`${product.sku}|${channel.name}|${period}`);
  }
  if (blackFridayDeal) return 0.85;
  if (product.discontinuedDay !== undefined && product.discontinuedDay - info.day <= 30) return 0.8;
  return 1;
}

/* -------------------------------------------------------------------------------------------- */
/* Generation                                                                                    */
/* -------------------------------------------------------------------------------------------- */

type SaleRow = {
  product: Product;
  day: number;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  channel: Channel;
  orderId: string;
  commissionCents: number;
};

type InventoryRow = {
  product: Product;
  location: 'warehouse_uk' | 'fba_uk' | 'fba_usa';
  onHand: number;
  reserved: number;
  lastCountedAt: string | null;
  lastReceivedAt: string | null;
};

type MetricRow = {
  periodDate: string;
  cash: number;
  accountsReceivable: number;
  inventory: number;
  otherCurrentAssets: number;
  accountsPayable: number;
  shortTermDebt: number;
  otherCurrentLiabilities: number;
  revenue: number;
  costOfGoodsSold: number;
  daysInPeriod: number;
  notes: string;
};

type ScenarioRow = {
  name: string;
  description: string;
  scenarioType: 'WHAT_IF' | 'OPTIMIZATION' | 'SENSITIVITY';
  parameters: unknown;
  results: unknown;
  impactSummary: unknown;
};

type ProductPlan = {
  reorderPoint: number;
  reorderQuantity: number;
  safetyStock: number;
};

type Dataset = {
  products: Product[];
  plans: ProductPlan[];
  sales: SaleRow[];
  inventory: InventoryRow[];
  metrics: MetricRow[];
  scenarios: ScenarioRow[];
};

const DAYS = 365;
const Z_95 = 1.645; // one-sided 95% service level

function buildProducts(model: Model): Product[] {
  const counters = new Map<CategoryCode, number>();
  return CATALOGUE.map((entry, index) => {
    const n = (counters.get(entry.code) ?? 0) + 1;
    counters.set(entry.code, n);
    const sku = `SEN-${entry.code}-${String(n).padStart(3, '0')}`;
    const category = CATEGORIES[entry.code];
    const [minLead, maxLead] = category.leadTime;
    const leadTimeDays = minLead + Math.round((maxLead - minLead) * hashUnit(`${sku}|lead`));
    return {
      ...entry,
      index,
      sku,
      category,
      priceCents: {
        UK: localPriceCents(entry.price, 'UK'),
        EU: localPriceCents(entry.price, 'EU'),
        USA: localPriceCents(entry.price, 'USA'),
      },
      costCents: Math.round(entry.cost * 100),
      leadTimeDays,
      launchDay:
        entry.launchedDaysAgo === undefined ? undefined : model.today - entry.launchedDaysAgo,
      discontinuedDay:
        entry.discontinuedDaysAgo === undefined
          ? undefined
          : model.today - entry.discontinuedDaysAgo,
      isActive: entry.discontinuedDaysAgo === undefined,
      drift: (hashUnit(`${sku}|drift`) - 0.5) * 0.5,
    };
  });
}

type Ledger = {
  /** Per channel, per day index: net revenue in GBP; per day index: cost of goods sold. */
  netGbp: Map<ChannelName, Float64Array>;
  cogs: Float64Array;
  /** Per product, per day index: units over all channels. */
  units: Float64Array[];
  /** Per product: net revenue in GBP over the year. */
  productNetGbp: Float64Array;
};

function generateSales(model: Model, products: Product[]): { sales: SaleRow[]; ledger: Ledger } {
  const rng = stream('sales');
  const sales: SaleRow[] = [];
  const orderCounters = new Map<ChannelName, number>(
    CHANNELS.map((channel) => [
      channel.name,
      100 + Math.floor(hashUnit(`${channel.name}|orders`) * 900),
    ]),
  );
  const ledger: Ledger = {
    netGbp: new Map(CHANNELS.map((channel) => [channel.name, new Float64Array(DAYS)])),
    cogs: new Float64Array(DAYS),
    units: products.map(() => new Float64Array(DAYS)),
    productNetGbp: new Float64Array(products.length),
  };

  for (let index = 0; index < DAYS; index += 1) {
    const day = model.start + index;
    const info = model.info(day);
    const dayMood = Math.exp(0.1 * normal(rng) - 0.005); // weather, press, ad spend
    for (const product of products) {
      for (const channel of CHANNELS) {
        const expected = expectedUnits(model, product, channel, day);
        if (expected === 0) continue;
        let quantity: number;
        if (channel.name === 'wholesale') {
          const caseSize = product.category.caseSize;
          let cases = poisson(rng, (expected * dayMood) / caseSize);
          if (cases > 0 && rng() < 0.03) cases *= intBetween(rng, 4, 10); // a distributor order
          quantity = cases * caseSize;
        } else {
          const noise = Math.exp(0.35 * normal(rng) - 0.06125);
          quantity = poisson(rng, expected * dayMood * noise);
        }
        if (quantity === 0) continue;

        let unitPriceCents: number;
        if (channel.name === 'wholesale') {
          const volume = quantity >= 60 ? 0.95 : 1;
          unitPriceCents = Math.round(product.priceCents.UK * TRADE_DISCOUNT * volume);
        } else {
          unitPriceCents = Math.round(
            product.priceCents[channel.market] * priceFactor(product, channel, info),
          );
        }
        const totalCents = quantity * unitPriceCents;
        // round half up of total * rate, in integers: exact, like numeric round(x, 2)
        const commissionCents = Math.floor((totalCents * channel.commissionBp + 5000) / 10000);
        const order = (orderCounters.get(channel.name) ?? 0) + 1;
        orderCounters.set(channel.name, order);
        sales.push({
          product,
          day,
          quantity,
          unitPriceCents,
          totalCents,
          channel,
          orderId: `${channel.orderPrefix}-${String(order).padStart(6, '0')}`,
          commissionCents,
        });

        const netGbp = (totalCents - commissionCents) / 100 / FX[channel.market];
        ledger.netGbp.get(channel.name)![index]! += netGbp;
        ledger.cogs[index]! += (quantity * product.costCents) / 100;
        ledger.units[product.index]![index]! += quantity;
        ledger.productNetGbp[product.index]! += netGbp;
      }
    }
  }
  return { sales, ledger };
}

function meanAndDeviation(values: ArrayLike<number>, from: number, to: number): [number, number] {
  let sum = 0;
  let squares = 0;
  const n = to - from;
  for (let i = from; i < to; i += 1) {
    sum += values[i]!;
    squares += values[i]! * values[i]!;
  }
  const mean = sum / n;
  return [mean, Math.sqrt(Math.max(0, squares / n - mean * mean))];
}

const roundUpTo = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** The planner's current settings: a year's average demand and ten days of safety stock. */
function planProducts(products: Product[], ledger: Ledger): ProductPlan[] {
  return products.map((product) => {
    if (!product.isActive) return { reorderPoint: 0, reorderQuantity: 0, safetyStock: 0 };
    const firstSelling =
      product.launchDay === undefined ? 0 : Math.max(0, DAYS - (product.launchedDaysAgo ?? 0) - 1);
    const [mean] = meanAndDeviation(ledger.units[product.index]!, firstSelling, DAYS);
    const safetyStock = Math.ceil(mean * 10);
    return {
      safetyStock,
      reorderPoint: Math.ceil(mean * product.leadTimeDays + safetyStock),
      reorderQuantity: Math.max(
        4 * product.category.caseSize,
        roundUpTo(mean * 45, product.category.caseSize * 4),
      ),
    };
  });
}

/** SKUs deliberately below their reorder point (one of them out of stock at Amazon UK). */
const BELOW_REORDER_POINT = [
  'SEN-GIN-003',
  'SEN-RUM-001',
  'SEN-WHI-002',
  'SEN-RTD-001',
  'SEN-MIX-001',
];
const STOCKED_OUT_AT_FBA_UK = 'SEN-RUM-001';

function timestampText(day: number, rng: Rng, fromHour: number, toHour: number): string {
  const minutes = intBetween(rng, fromHour * 60, toHour * 60 - 1);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${dateText(day)}T${hh}:${mm}:00Z`;
}

function generateInventory(
  model: Model,
  products: Product[],
  plans: ProductPlan[],
): InventoryRow[] {
  const rng = stream('inventory');
  const rows: InventoryRow[] = [];
  const channelUnits = (product: Product, names: ChannelName[], days: number) => {
    let units = 0;
    for (const name of names) {
      const channel = channelNamed(name);
      for (let day = model.today - days + 1; day <= model.today; day += 1) {
        units += expectedUnits(model, product, channel, day);
      }
    }
    return units / days;
  };

  for (const product of products) {
    if (!product.isActive) continue;
    const plan = plans[product.index]!;
    const daily = {
      fbaUk: channelUnits(product, ['amazon_uk'], 30),
      fbaUsa: channelUnits(product, ['amazon_usa', 'shopify_usa'], 30),
      warehouse: channelUnits(product, ['shopify_uk', 'shopify_eu', 'direct', 'wholesale'], 30),
    };
    const below = BELOW_REORDER_POINT.includes(product.sku);
    // Company-wide stock target: healthy products sit between the reorder point and a full
    // replenishment above it; the chosen few are at 35-80% of their reorder point.
    const reservedShare = between(rng, 0.02, 0.06);
    const total = below
      ? Math.floor(plan.reorderPoint * between(rng, 0.35, 0.8))
      : Math.ceil(
          (plan.reorderPoint * between(rng, 1.15, 1.3) +
            plan.reorderQuantity * between(rng, 0.1, 0.9)) /
            (1 - reservedShare),
        );
    const demand = daily.fbaUk + daily.fbaUsa + daily.warehouse || 1;
    // FBA holds a little less cover than the central warehouse.
    let fbaUk = Math.round(total * (daily.fbaUk / demand) * 0.85);
    let fbaUsa = Math.round(total * (daily.fbaUsa / demand) * 0.9);
    if (product.sku === STOCKED_OUT_AT_FBA_UK) fbaUk = 0;
    const soldInUsa = listed(product, channelNamed('amazon_usa'));
    if (!soldInUsa) fbaUsa = 0;
    const warehouse = Math.max(0, total - fbaUk - fbaUsa);

    const locations: [InventoryRow['location'], number][] = [
      ['warehouse_uk', warehouse],
      ['fba_uk', fbaUk],
      ['fba_usa', fbaUsa],
    ];
    for (const [location, onHand] of locations) {
      const reserved = Math.min(
        onHand,
        Math.floor(onHand * reservedShare * (location === 'warehouse_uk' ? 1.4 : 0.6)),
      );
      const everStocked = location !== 'fba_usa' || soldInUsa;
      const countedDaysAgo =
        location === 'warehouse_uk' ? intBetween(rng, 1, 28) : intBetween(rng, 1, 3);
      // the products below their reorder point have not had a delivery for weeks
      const receivedDaysAgo = below
        ? intBetween(rng, 25, 40)
        : location === 'warehouse_uk'
          ? intBetween(rng, 2, 21)
          : intBetween(rng, 5, 30);
      rows.push({
        product,
        location,
        onHand,
        reserved,
        lastCountedAt: everStocked ? timestampText(model.today - countedDaysAgo, rng, 6, 17) : null,
        lastReceivedAt: everStocked
          ? timestampText(model.today - receivedDaysAgo, rng, 7, 16)
          : null,
      });
    }
  }
  return rows;
}

type Month = { first: number; end: number; dim: number; year: number; month0: number };

function monthsUpTo(today: number, count: number): Month[] {
  const info = dayInfo(today);
  const months: Month[] = [];
  for (let back = count - 1; back >= 0; back -= 1) {
    const year = info.year + Math.floor((info.month0 - back) / 12);
    const month0 = (((info.month0 - back) % 12) + 12) % 12;
    const first = dayNumber(year, month0, 1);
    const dim = daysInMonth(year, month0);
    months.push({ first, end: Math.min(first + dim - 1, today), dim, year, month0 });
  }
  return months;
}

function sumRange(values: Float64Array, model: Model, from: number, to: number): number {
  let sum = 0;
  for (let day = from; day <= to; day += 1) {
    const index = day - model.start;
    // before the first day of data, mirror the first four weeks
    sum += values[index >= 0 ? index : ((index % 28) + 28) % 28] ?? 0;
  }
  return sum;
}

/** Extra drawing on the revolving credit facility by calendar month (GBP). */
const SEASONAL_DRAWDOWN = [50_000, 0, 0, 0, 0, 0, 0, 50_000, 150_000, 200_000, 200_000, 100_000];

/** Seasonal stock build: low after Christmas, high in September and October for the peak. */
const STOCK_BUILD = [0.82, 0.86, 0.92, 0.96, 1.0, 1.02, 1.05, 1.14, 1.3, 1.36, 1.12, 0.84];

function generateMetrics(model: Model, inventory: InventoryRow[], ledger: Ledger): MetricRow[] {
  const rng = stream('working-capital');
  const months = monthsUpTo(model.today, 12);
  const finishedGoodsNow = inventory.reduce(
    (sum, row) => sum + (row.onHand * row.product.costCents) / 100,
    0,
  );
  const last = months[months.length - 1]!;
  const rows: MetricRow[] = [];
  const annualRevenue = CHANNELS.reduce(
    (sum, channel) => sum + ledger.netGbp.get(channel.name)!.reduce((a, b) => a + b, 0),
    0,
  );
  const fixedOverheads = (annualRevenue * 0.3) / 12; // salaries, rent, utilities
  let cash = 0;
  let previous: MetricRow | undefined;

  for (const [i, month] of months.entries()) {
    const days = month.end - month.first + 1;
    let revenue = 0;
    let receivable = 0;
    for (const channel of CHANNELS) {
      const series = ledger.netGbp.get(channel.name)!;
      revenue += sumRange(series, model, Math.max(month.first, model.start), month.end);
      receivable += sumRange(series, model, month.end - channel.paymentDays + 1, month.end);
    }
    const cogs = sumRange(ledger.cogs, model, Math.max(month.first, model.start), month.end);
    const dailyCogs = cogs / days;
    const growth = 0.9 + (0.1 * i) / 11;
    const finishedGoods =
      month === last
        ? finishedGoodsNow
        : (finishedGoodsNow * STOCK_BUILD[month.month0]! * growth) / STOCK_BUILD[last.month0]!;
    // raw materials, packaging and maturing spirit (casks) on top of finished goods
    const inventoryValue = finishedGoods * 1.45 + 185_000;
    const buildBump = STOCK_BUILD[month.month0]! > 1.1 ? 12 : 0;
    const payable = dailyCogs * (44 + buildBump + between(rng, -3, 3)) + fixedOverheads * 0.35;
    const otherLiabilities = (revenue / days) * 30 * 0.17; // VAT and excise duty due
    const otherAssets = 38_000 + between(rng, 0, 12_000); // prepayments
    const accountsReceivable = receivable * between(rng, 1.0, 1.06);

    // Revolving credit facility: drawn down to fund the stock build for the peak, repaid after
    // it, and drawn further whenever cash would fall below a floor.
    let debt = 200_000 + SEASONAL_DRAWDOWN[month.month0]!;
    if (previous === undefined) {
      cash = 268_000 + between(rng, 0, 10_000);
    } else {
      const profit = revenue - cogs - fixedOverheads * (days / month.dim) - revenue * 0.12; // marketing
      cash +=
        profit -
        (accountsReceivable - previous.accountsReceivable) -
        (inventoryValue - previous.inventory) +
        (payable - previous.accountsPayable) +
        (otherLiabilities - previous.otherCurrentLiabilities) -
        (otherAssets - previous.otherCurrentAssets) -
        8_000 + // capital expenditure
        (debt - previous.shortTermDebt);
      if (cash < 150_000) {
        const draw = Math.ceil((200_000 - cash) / 25_000) * 25_000;
        debt += draw;
        cash += draw;
      }
    }
    const row: MetricRow = {
      periodDate: dateText(month.first),
      cash: round2(cash),
      accountsReceivable: round2(accountsReceivable),
      inventory: round2(inventoryValue),
      otherCurrentAssets: round2(otherAssets),
      accountsPayable: round2(payable),
      shortTermDebt: round2(debt),
      otherCurrentLiabilities: round2(otherLiabilities),
      revenue: round2(revenue),
      costOfGoodsSold: round2(cogs),
      daysInPeriod: days,
      notes:
        days < month.dim
          ? `Month to date: ${days} of ${month.dim} days, to ${dateText(month.end)}. Revenue net of marketplace commission, in GBP.`
          : 'Month end close. Revenue net of marketplace commission, in GBP (EUR and USD at 1.17 and 1.27).',
    };
    rows.push(row);
    previous = row;
  }
  return rows;
}

/** Expected net revenue (GBP) and units of a product over a range of days, per the model. */
function expectedProduct(
  model: Model,
  product: Product,
  from: number,
  to: number,
): { units: number; net: number } {
  let units = 0;
  let net = 0;
  for (let day = from; day <= to; day += 1) {
    for (const channel of CHANNELS) {
      const expected = expectedUnits(model, product, channel, day);
      if (expected === 0) continue;
      units += expected;
      const price =
        channel.name === 'wholesale'
          ? product.priceCents.UK * TRADE_DISCOUNT
          : product.priceCents[channel.market] * (channel.name.startsWith('amazon') ? 0.975 : 1);
      net += (expected * price * (1 - channel.commissionBp / 10000)) / 100 / FX[channel.market];
    }
  }
  return { units, net };
}

/** 12345 -> '12,345', independent of the ICU locale data. */
const groupThousands = (value: number) => String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function generateScenarios(
  model: Model,
  products: Product[],
  plans: ProductPlan[],
  ledger: Ledger,
  inventory: InventoryRow[],
  metrics: MetricRow[],
): ScenarioRow[] {
  const revenue = metrics.reduce((sum, row) => sum + row.revenue, 0);
  const cogs = metrics.reduce((sum, row) => sum + row.costOfGoodsSold, 0);
  const latest = metrics[metrics.length - 1]!;
  const periodStart = dateText(model.start);
  const periodEnd = dateText(model.today);

  // 1. Price increase with a constant price elasticity.
  const elasticity = -0.8;
  const priceChange = 0.1;
  const volumeChange = elasticity * priceChange;
  const projectedRevenue = revenue * (1 + priceChange) * (1 + volumeChange);
  const projectedCogs = cogs * (1 + volumeChange);
  const grossProfit = revenue - cogs;
  const projectedGrossProfit = projectedRevenue - projectedCogs;
  const dso = (latest.accountsReceivable * latest.daysInPeriod) / latest.revenue;

  // 2. Reorder points from the forecast over each lead time, at a 95% service level.
  const recommendations = products
    .filter((product) => product.isActive)
    .map((product) => {
      const plan = plans[product.index]!;
      // demand over the coming lead time from the forecast; variability from the last 90 days
      const leadTimeDemand = expectedProduct(
        model,
        product,
        model.today + 1,
        model.today + product.leadTimeDays,
      ).units;
      const mean = leadTimeDemand / product.leadTimeDays;
      const [, deviation] = meanAndDeviation(ledger.units[product.index]!, DAYS - 90, DAYS);
      const safetyStock = Math.ceil(Z_95 * deviation * Math.sqrt(product.leadTimeDays));
      const reorderPoint = Math.ceil(leadTimeDemand + safetyStock);
      return {
        sku: product.sku,
        name: product.name,
        forecastDailyDemand: round2(mean),
        leadTimeDays: product.leadTimeDays,
        currentReorderPoint: plan.reorderPoint,
        recommendedReorderPoint: reorderPoint,
        currentSafetyStock: plan.safetyStock,
        recommendedSafetyStock: safetyStock,
        safetyStockValueChange: round2(
          ((safetyStock - plan.safetyStock) * product.costCents) / 100,
        ),
      };
    });
  const changed = recommendations
    .filter(
      (r) =>
        Math.abs(r.recommendedReorderPoint - r.currentReorderPoint) >
        Math.max(2, 0.1 * r.currentReorderPoint),
    )
    .sort(
      (a, b) =>
        Math.abs(b.safetyStockValueChange) - Math.abs(a.safetyStockValueChange) ||
        (a.sku < b.sku ? -1 : 1),
    );
  const safetyStockValueChange = round2(
    changed.reduce((sum, r) => sum + r.safetyStockValueChange, 0),
  );

  // 3. Sensitivity of receivables and cash to wholesale payment terms.
  const wholesaleDaily =
    sumRange(ledger.netGbp.get('wholesale')!, model, model.today - 89, model.today) / 90;
  const baselineTerms = channelNamed('wholesale').paymentDays;
  const sensitivity = [30, 45, 60, 75, 90].map((terms) => {
    const receivableChange = wholesaleDaily * (terms - baselineTerms);
    return {
      wholesalePaymentTermsDays: terms,
      accountsReceivable: round2(latest.accountsReceivable + receivableChange),
      daysSalesOutstanding: round2(
        ((latest.accountsReceivable + receivableChange) * latest.daysInPeriod) / latest.revenue,
      ),
      cashImpact: round2(-receivableChange),
    };
  });

  return [
    {
      name: 'Increase prices by 10%',
      description:
        'List prices up 10% on every channel from next month, with the volume lost to a price elasticity of -0.8.',
      scenarioType: 'WHAT_IF',
      parameters: {
        priceChangePercent: 10,
        priceElasticity: elasticity,
        channels: CHANNELS.map((c) => c.name),
        basedOn: { from: periodStart, to: periodEnd },
      },
      results: {
        currency: 'GBP',
        baselineRevenue: round2(revenue),
        projectedRevenue: round2(projectedRevenue),
        baselineGrossProfit: round2(grossProfit),
        projectedGrossProfit: round2(projectedGrossProfit),
        volumeChangePercent: round2(volumeChange * 100),
        baselineGrossMarginPercent: round2((grossProfit / revenue) * 100),
        projectedGrossMarginPercent: round2((projectedGrossProfit / projectedRevenue) * 100),
      },
      impactSummary: {
        revenueChange: round2(projectedRevenue - revenue),
        revenueChangePercent: round2(((projectedRevenue - revenue) / revenue) * 100),
        grossProfitChange: round2(projectedGrossProfit - grossProfit),
        accountsReceivableChange: round2(((projectedRevenue - revenue) / 365) * dso),
        summary: 'Higher margin outweighs the lost volume; receivables rise slightly with revenue.',
      },
    },
    {
      name: 'Optimise reorder points',
      description:
        'Recalculate reorder points from forecast demand over each lead time, with safety stock for a 95% service level from the last 90 days of demand variability.',
      scenarioType: 'OPTIMIZATION',
      parameters: {
        serviceLevel: 0.95,
        zScore: Z_95,
        demandSource: 'forecast over lead time',
        variabilityWindowDays: 90,
        leadTimeSource: 'product',
        scope: 'active products',
        locations: ['warehouse_uk', 'fba_uk', 'fba_usa'],
      },
      results: {
        productsAnalysed: recommendations.length,
        productsChanged: changed.length,
        recommendations: changed,
      },
      impactSummary: {
        safetyStockValueChange,
        expectedServiceLevel: 0.95,
        productsBelowReorderPoint: products.filter((product) => {
          const available = inventory
            .filter((row) => row.product === product)
            .reduce((sum, row) => sum + row.onHand - row.reserved, 0);
          return product.isActive && available < plans[product.index]!.reorderPoint;
        }).length,
        summary:
          safetyStockValueChange >= 0
            ? 'Fewer stock-outs at the cost of more safety stock on the fast movers.'
            : 'Safety stock can be cut on slow movers without lowering the service level.',
      },
    },
    {
      name: 'Wholesale payment terms sensitivity',
      description: 'Receivables, DSO and cash at wholesale payment terms from 30 to 90 days.',
      scenarioType: 'SENSITIVITY',
      parameters: {
        variable: 'wholesalePaymentTermsDays',
        baseline: baselineTerms,
        values: [30, 45, 60, 75, 90],
        basedOn: { periodDate: latest.periodDate },
      },
      results: {
        currency: 'GBP',
        wholesaleDailyRevenue: round2(wholesaleDaily),
        points: sensitivity,
      },
      impactSummary: {
        cashPerExtraDay: round2(-wholesaleDaily),
        summary: `Each extra day of wholesale credit ties up about £${groupThousands(Math.round(wholesaleDaily))} of cash.`,
      },
    },
  ];
}

function buildDataset(todayText: string): Dataset {
  const today = Date.parse(`${todayText}T00:00:00Z`) / DAY_MS;
  const infoCache = new Map<number, DayInfo>();
  const model: Model = {
    start: today - (DAYS - 1),
    today,
    info: (day) => {
      let info = infoCache.get(day);
      if (!info) {
        info = dayInfo(day);
        infoCache.set(day, info);
      }
      return info;
    },
  };
  const products = buildProducts(model);
  const { sales, ledger } = generateSales(model, products);
  const plans = planProducts(products, ledger);
  const inventory = generateInventory(model, products, plans);
  const metrics = generateMetrics(model, inventory, ledger);
  const scenarios = generateScenarios(model, products, plans, ledger, inventory, metrics);
  return { products, plans, sales, inventory, metrics, scenarios };
}

/**
 * Units sold per day of each demo product over the year to `todayText` (what the tenant's sales
 * add up to), without a database: for `npm run bench:forecast`.
 */
export function demoDailyUnits(todayText: string): { sku: string; units: number[] }[] {
  const dataset = buildDataset(todayText);
  const start = Date.parse(`${todayText}T00:00:00Z`) / DAY_MS - (DAYS - 1);
  const units = dataset.products.map(() => new Array<number>(DAYS).fill(0));
  for (const sale of dataset.sales) units[sale.product.index]![sale.day - start]! += sale.quantity;
  return dataset.products.map((product) => ({ sku: product.sku, units: units[product.index]! }));
}

/* -------------------------------------------------------------------------------------------- */
/* Writing                                                                                       */
/* -------------------------------------------------------------------------------------------- */

const Options = z.object({
  companyId: z.guid(),
  today: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .refine((value) => {
      const time = Date.parse(`${value}T00:00:00Z`);
      return Number.isFinite(time) && new Date(time).toISOString().startsWith(value);
    }, 'not a calendar date'),
});

const ProductIdRow = z.object({ id: z.string(), sku: z.string() });

const SALES_CHUNK = 5000;

/** Fills one tenant schema with the Sentia Spirits demo data. Runs inside the caller's transaction, whose search_path is already set to the tenant schema (so table names are unqualified). */
export async function seedSentiaData(
  db: CommonQueryMethods,
  options: { companyId: string; today: string /* 'YYYY-MM-DD', the last day of data */ },
): Promise<DemoSummary> {
  const parsed = Options.safeParse(options);
  if (!parsed.success) {
    throw new BadUserInputError(`invalid demo seed options: ${z.prettifyError(parsed.error)}`);
  }
  const { companyId, today } = parsed.data;
  const data = buildDataset(today);

  const company = await db.query(sql.unsafe`
    /* seedSentiaUpdateCompany */
    UPDATE companies
    SET legal_name = ${'Sentia Spirits Ltd'},
        registration_number = ${'11849263'},
        tax_id = ${'GB284773162'},
        industry = ${'Beverage manufacturing (distilled spirits)'},
        primary_currency = ${'GBP'},
        fiscal_year_start = ${'04-01'},
        timezone = ${'Europe/London'}
    WHERE id = ${companyId}`);
  if (company.rowCount !== 1) {
    throw new NotFoundError(`company ${companyId} not found in this tenant schema`);
  }

  const inserted = await db.many(sql.type(ProductIdRow)`
    /* seedSentiaInsertProducts */
    INSERT INTO products (company_id, sku, name, description, category, unit_cost, unit_price,
      reorder_point, reorder_quantity, lead_time_days, safety_stock, is_active)
    SELECT ${companyId}::uuid, p.sku, p.name, p.description, p.category, p.unit_cost, p.unit_price,
      p.reorder_point, p.reorder_quantity, p.lead_time_days, p.safety_stock, p.is_active
    FROM ${sql.unnest(
      data.products.map((product) => {
        const plan = data.plans[product.index]!;
        return [
          product.sku,
          product.name,
          product.description,
          product.category.name,
          centsText(product.costCents),
          centsText(product.priceCents.UK),
          plan.reorderPoint,
          plan.reorderQuantity,
          product.leadTimeDays,
          plan.safetyStock,
          product.isActive,
        ];
      }),
      [
        'text',
        'text',
        'text',
        'text',
        'numeric',
        'numeric',
        'int4',
        'int4',
        'int4',
        'int4',
        'bool',
      ],
    )} AS p(sku, name, description, category, unit_cost, unit_price, reorder_point,
      reorder_quantity, lead_time_days, safety_stock, is_active)
    RETURNING id, sku`);
  const idBySku = new Map(inserted.map((row) => [row.sku, row.id]));
  const productId = (product: Product) => {
    const id = idBySku.get(product.sku);
    if (id === undefined) throw new Error(`product ${product.sku} was not inserted`);
    return id;
  };

  let sales = 0;
  for (let from = 0; from < data.sales.length; from += SALES_CHUNK) {
    const chunk = data.sales.slice(from, from + SALES_CHUNK);
    const result = await db.query(sql.unsafe`
      /* seedSentiaInsertSales */
      INSERT INTO sales (company_id, product_id, sale_date, quantity, unit_price, total_amount,
        channel, channel_order_id, commission_rate, commission_amount, market, currency)
      SELECT ${companyId}::uuid, s.product_id, s.sale_date, s.quantity, s.unit_price, s.total_amount,
        s.channel, s.channel_order_id, s.commission_rate, s.commission_amount, s.market, s.currency
      FROM ${sql.unnest(
        chunk.map((sale) => [
          productId(sale.product),
          dateText(sale.day),
          sale.quantity,
          centsText(sale.unitPriceCents),
          centsText(sale.totalCents),
          sale.channel.name,
          sale.orderId,
          (sale.channel.commissionBp / 10000).toFixed(4),
          centsText(sale.commissionCents),
          sale.channel.market,
          sale.channel.currency,
        ]),
        [
          'uuid',
          'date',
          'int4',
          'numeric',
          'numeric',
          'text',
          'text',
          'numeric',
          'numeric',
          'text',
          'text',
        ],
      )} AS s(product_id, sale_date, quantity, unit_price, total_amount, channel, channel_order_id,
        commission_rate, commission_amount, market, currency)`);
    sales += result.rowCount;
  }

  const inventory = await db.query(sql.unsafe`
    /* seedSentiaInsertInventory */
    INSERT INTO inventory (company_id, product_id, location, quantity_on_hand, quantity_reserved,
      last_counted_at, last_received_at)
    SELECT ${companyId}::uuid, i.product_id, i.location, i.quantity_on_hand, i.quantity_reserved,
      i.last_counted_at, i.last_received_at
    FROM ${sql.unnest(
      data.inventory.map((row) => [
        productId(row.product),
        row.location,
        row.onHand,
        row.reserved,
        row.lastCountedAt,
        row.lastReceivedAt,
      ]),
      ['uuid', 'text', 'int4', 'int4', 'timestamptz', 'timestamptz'],
    )} AS i(product_id, location, quantity_on_hand, quantity_reserved, last_counted_at, last_received_at)`);

  const metrics = await db.query(sql.unsafe`
    /* seedSentiaInsertWorkingCapitalMetrics */
    INSERT INTO working_capital_metrics (company_id, period_date, period_type, cash,
      accounts_receivable, inventory, other_current_assets, accounts_payable, short_term_debt,
      other_current_liabilities, revenue, cost_of_goods_sold, days_in_period, notes)
    SELECT ${companyId}::uuid, m.period_date, ${'MONTHLY'}, m.cash, m.accounts_receivable,
      m.inventory, m.other_current_assets, m.accounts_payable, m.short_term_debt,
      m.other_current_liabilities, m.revenue, m.cost_of_goods_sold, m.days_in_period, m.notes
    FROM ${sql.unnest(
      data.metrics.map((row) => [
        row.periodDate,
        moneyText(row.cash),
        moneyText(row.accountsReceivable),
        moneyText(row.inventory),
        moneyText(row.otherCurrentAssets),
        moneyText(row.accountsPayable),
        moneyText(row.shortTermDebt),
        moneyText(row.otherCurrentLiabilities),
        moneyText(row.revenue),
        moneyText(row.costOfGoodsSold),
        row.daysInPeriod,
        row.notes,
      ]),
      [
        'date',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'int4',
        'text',
      ],
    )} AS m(period_date, cash, accounts_receivable, inventory, other_current_assets,
      accounts_payable, short_term_debt, other_current_liabilities, revenue, cost_of_goods_sold,
      days_in_period, notes)`);

  const scenarios = await db.query(sql.unsafe`
    /* seedSentiaInsertScenarios */
    INSERT INTO scenarios (company_id, name, description, scenario_type, parameters, results,
      impact_summary)
    SELECT ${companyId}::uuid, s.name, s.description, s.scenario_type, s.parameters, s.results,
      s.impact_summary
    FROM ${sql.unnest(
      data.scenarios.map((row) => [
        row.name,
        row.description,
        row.scenarioType,
        JSON.stringify(row.parameters),
        JSON.stringify(row.results),
        JSON.stringify(row.impactSummary),
      ]),
      ['text', 'text', 'text', 'jsonb', 'jsonb', 'jsonb'],
    )} AS s(name, description, scenario_type, parameters, results, impact_summary)`);

  return {
    products: inserted.length,
    sales,
    inventory: inventory.rowCount,
    workingCapitalMetrics: metrics.rowCount,
    scenarios: scenarios.rowCount,
  };
}
