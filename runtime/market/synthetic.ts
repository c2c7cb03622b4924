/**
 * A deterministic, seeded generator of 1-minute candles: any minute of any symbol is a pure
 * function of (seed, symbol, minute index), so a restarted process regenerates the same series.
 *
 * Time is cut into 4-hour regime blocks shared by every symbol (calm, range, trends, volatile,
 * storm). Each block's path is a GARCH(1,1) random walk of correlated shocks (a market factor
 * plus the symbol's own), bridged between two anchor prices that are themselves pure functions
 * of the block number: regime trends over a tapering window, slow multi-day waves, and
 * block-scale noise. Bridging makes every block independent of the ones before it while
 * keeping the path continuous: a candle's open is exactly the previous candle's close.
 */
import type { Market } from '../exchange/port.ts';
import type { CandleRecord } from '../store/types.ts';
import { SYNTHETIC_PROFILES, type SyntheticProfile } from './markets.ts';

/** One minute in milliseconds: candle `index` opens at `index * MINUTE_MS`. */
export const MINUTE_MS = 60_000;
/** Minutes per regime block (4 hours). */
export const REGIME_MINUTES = 240;
/** The timeframe label of the generated candles. */
export const SYNTHETIC_TIMEFRAME = '1m';

const MINUTES_PER_YEAR = 525_600;
/** Blocks a regime's trend keeps pulling the anchors for (3 days), tapering off. */
const TREND_WINDOW = 18;
/** Trend per block in units of the symbol's normal 4-hour volatility. */
const TREND_STRENGTH = 1.2;
/** Slow waves: period in blocks and amplitude in 4-hour volatilities. */
const WAVES: readonly (readonly [number, number])[] = [
  [42, 2.0],
  [180, 4.0],
];
/** Block-scale anchor noise in 4-hour volatilities. */
const ANCHOR_NOISE = 0.7;
const GARCH_ALPHA = 0.06;
const GARCH_BETA = 0.92;

/** The regime names, calmest first. */
export type RegimeName = 'calm' | 'range' | 'trend-up' | 'trend-down' | 'volatile' | 'storm';

/** The market-wide regime of one 4-hour block. */
export interface Regime {
  readonly name: RegimeName;
  /** Multiplier of every symbol's normal volatility. */
  readonly volatility: number;
  /** Direction of the market's trend in this block: -1, 0 or 1. */
  readonly trend: -1 | 0 | 1;
  /** Block number: minutes `[block * REGIME_MINUTES, (block + 1) * REGIME_MINUTES)`. */
  readonly block: number;
}

// Streams keep the hash inputs of different random quantities apart.
const S_REGIME = 1;
const S_REGIME_SIDE = 2;
const S_SHOCK = 3;
const S_ANCHOR = 4;
const S_WAVE = 5;
const S_FLIP = 6;
const S_WICK_HIGH = 7;
const S_WICK_LOW = 8;
const S_VOLUME = 9;
const MARKET = 0x4d4b5446;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash(seed: number, key: number, stream: number, index: number, extra = 0): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  let h = fmix((seed ^ 0x9e3779b9) >>> 0);
  h = fmix(h ^ key);
  h = fmix(h ^ Math.imul(stream, 0x27d4eb2f));
  h = fmix(h ^ lo);
  h = fmix(h ^ hi ^ Math.imul(extra + 1, 0x165667b1));
  return h;
}

/** A uniform number in (0, 1). */
function uniform(seed: number, key: number, stream: number, index: number, extra = 0): number {
  return (hash(seed, key, stream, index, extra) + 0.5) / 4294967296;
}

/** A standard normal number (Box–Muller). */
function gauss(seed: number, key: number, stream: number, index: number, extra = 0): number {
  const u1 = uniform(seed, key, stream, index, 2 * extra);
  const u2 = uniform(seed, key, stream, index, 2 * extra + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function symbolKey(symbol: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < symbol.length; i++) {
    h ^= symbol.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix(h >>> 0) ^ 0x5bd1e995;
}

/** The market-wide regime of the block holding minute `index`. */
export function syntheticRegime(seed: number, index: number): Regime {
  return regimeOfBlock(seed, Math.floor(index / REGIME_MINUTES));
}

function regimeOfBlock(seed: number, block: number): Regime {
  const u = uniform(seed, MARKET, S_REGIME, block);
  const side: -1 | 1 = uniform(seed, MARKET, S_REGIME_SIDE, block) < 0.5 ? -1 : 1;
  if (u < 0.22) return { name: 'calm', volatility: 0.5, trend: 0, block };
  if (u < 0.5) return { name: 'range', volatility: 1.0, trend: 0, block };
  if (u < 0.67) return { name: 'trend-up', volatility: 1.0, trend: 1, block };
  if (u < 0.82) return { name: 'trend-down', volatility: 1.0, trend: -1, block };
  if (u < 0.95) return { name: 'volatile', volatility: 1.8, trend: side, block };
  // Storms mostly crash: the side draw is reused, skewed downward.
  return { name: 'storm', volatility: 3.0, trend: uniform(seed, MARKET, S_REGIME_SIDE, block, 1) < 0.7 ? -1 : 1, block };
}

interface Params {
  readonly key: number;
  readonly logBase: number;
  /** Normal per-minute volatility (log units). */
  readonly sigma: number;
  /** Normal 4-hour volatility (log units). */
  readonly blockSigma: number;
  readonly rho: number;
  readonly idio: number;
  readonly volumePerMinute: number;
}

const paramsCache = new Map<string, Params>();

function paramsOf(market: Market): Params {
  const cacheKey = `${market.symbol}|${market.priceTick}`;
  const hit = paramsCache.get(cacheKey);
  if (hit) return hit;
  const key = symbolKey(market.symbol);
  const profile: SyntheticProfile = SYNTHETIC_PROFILES[market.symbol] ?? defaultProfile(market, key);
  const sigma = profile.annualVol / Math.sqrt(MINUTES_PER_YEAR);
  const p: Params = {
    key,
    logBase: Math.log(profile.basePrice),
    sigma,
    blockSigma: sigma * Math.sqrt(REGIME_MINUTES),
    rho: profile.marketCorrelation,
    idio: Math.sqrt(1 - profile.marketCorrelation ** 2),
    volumePerMinute: profile.volumePerMinute,
  };
  paramsCache.set(cacheKey, p);
  return p;
}

/** A symbol without a profile trades around 20,000–40,000 ticks, so rounding stays fine-grained. */
function defaultProfile(market: Market, key: number): SyntheticProfile {
  const u = (fmix(key ^ 0x1234567) + 0.5) / 4294967296;
  const basePrice = 20_000 * Number(market.priceTick) * (1 + u);
  return { basePrice, annualVol: 0.8, marketCorrelation: 0.6, volumePerMinute: Math.max(1, 50_000 / basePrice) };
}

/** A correlated standard normal: the market's draw mixed with the symbol's own. */
function mixed(seed: number, p: Params, stream: number, index: number, extra = 0): number {
  return p.rho * gauss(seed, MARKET, stream, index, extra) + p.idio * gauss(seed, p.key, stream, index, extra);
}

/** The symbol's trend direction in a block: the market's, occasionally flipped. */
function symbolTrend(seed: number, p: Params, block: number): number {
  const t = regimeOfBlock(seed, block).trend;
  return uniform(seed, p.key, S_FLIP, block) < 0.15 ? -t : t;
}

/** Log price at the start of `block` (a pure function of the block number). */
function anchor(seed: number, p: Params, block: number): number {
  // Tapering window sum: its step from one block to the next is the block's trend minus the
  // window's mean, so trends move the price while the level stays bounded.
  let trend = 0;
  for (let m = 1; m <= TREND_WINDOW; m++) trend += ((TREND_WINDOW - m + 1) / TREND_WINDOW) * symbolTrend(seed, p, block - m);
  let waves = 0;
  for (let w = 0; w < WAVES.length; w++) {
    const [period, amp] = WAVES[w]!;
    const x = block / period;
    const k = Math.floor(x);
    const f = x - k;
    const a = mixed(seed, p, S_WAVE, k, w);
    const b = mixed(seed, p, S_WAVE, k + 1, w);
    waves += amp * (a + (b - a) * f);
  }
  const noise = ANCHOR_NOISE * regimeOfBlock(seed, block).volatility * mixed(seed, p, S_ANCHOR, block);
  return p.logBase + p.blockSigma * (TREND_STRENGTH * trend + waves + noise);
}

/** One block's minute path: log prices at each minute boundary and each minute's volatility. */
interface BlockPath {
  readonly logPrice: Float64Array; // REGIME_MINUTES + 1 boundaries
  readonly sigma: Float64Array; // REGIME_MINUTES minutes
}

const BLOCK_CACHE_LIMIT = 512;
const blockCache = new Map<string, BlockPath>();

function blockPath(seed: number, p: Params, block: number): BlockPath {
  const cacheKey = `${seed}|${p.key}|${p.logBase}|${block}`;
  const hit = blockCache.get(cacheKey);
  if (hit) return hit;
  const L = REGIME_MINUTES;
  const start = anchor(seed, p, block);
  const end = anchor(seed, p, block + 1);
  const regimeSigma = p.sigma * regimeOfBlock(seed, block).volatility;
  const omega = regimeSigma * regimeSigma * (1 - GARCH_ALPHA - GARCH_BETA);
  const walk = new Float64Array(L + 1);
  const sigma = new Float64Array(L);
  let variance = regimeSigma * regimeSigma;
  let prev = 0;
  const first = block * L;
  for (let j = 0; j < L; j++) {
    variance = omega + GARCH_ALPHA * prev * prev + GARCH_BETA * variance;
    const s = Math.sqrt(variance);
    const r = s * mixed(seed, p, S_SHOCK, first + j);
    sigma[j] = s;
    walk[j + 1] = walk[j]! + r;
    prev = r;
  }
  // Brownian bridge: bend the walk so that it ends exactly on the next block's anchor.
  const gap = walk[L]! - (end - start);
  const logPrice = new Float64Array(L + 1);
  for (let j = 0; j < L; j++) logPrice[j] = start + walk[j]! - (j / L) * gap;
  logPrice[L] = end;
  const path = { logPrice, sigma };
  if (blockCache.size >= BLOCK_CACHE_LIMIT) blockCache.delete(blockCache.keys().next().value!);
  blockCache.set(cacheKey, path);
  return path;
}

/** Formats integer multiples of a decimal step exactly ("0.001" × 1234 → "1.234"). */
interface Quantizer {
  readonly step: number;
  format(steps: number): string;
}

const quantizers = new Map<string, Quantizer>();

function quantizer(step: string): Quantizer {
  const hit = quantizers.get(step);
  if (hit) return hit;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(step);
  if (!m) throw new Error(`not a decimal step: ${step}`);
  const decimals = m[2]?.length ?? 0;
  const units = Number(`${m[1]}${m[2] ?? ''}`);
  if (!(units > 0)) throw new Error(`step must be positive: ${step}`);
  const q: Quantizer = {
    step: Number(step),
    format(steps) {
      const digits = String(steps * units);
      if (decimals === 0) return digits;
      const padded = digits.padStart(decimals + 1, '0');
      return `${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
    },
  };
  quantizers.set(step, q);
  return q;
}

/**
 * The 1-minute candle of `market` opening at minute `index` (`openTime = index * MINUTE_MS`),
 * for a given seed: prices on the market's tick, volume on its amount step.
 */
export function syntheticCandle(seed: number, market: Market, index: number): CandleRecord {
  if (!Number.isSafeInteger(index)) throw new Error(`minute index must be an integer: ${index}`);
  const s = seed >>> 0;
  const p = paramsOf(market);
  const block = Math.floor(index / REGIME_MINUTES);
  const j = index - block * REGIME_MINUTES;
  const path = blockPath(s, p, block);
  const tick = quantizer(market.priceTick);
  const lot = quantizer(market.amountStep);

  const lo = path.logPrice[j]!;
  const lc = path.logPrice[j + 1]!;
  const sig = path.sigma[j]!;
  const o = Math.max(1, Math.round(Math.exp(lo) / tick.step));
  const c = Math.max(1, Math.round(Math.exp(lc) / tick.step));
  const up = 0.6 * sig * Math.abs(gauss(s, p.key, S_WICK_HIGH, index));
  const down = 0.6 * sig * Math.abs(gauss(s, p.key, S_WICK_LOW, index));
  const h = Math.max(o, c, Math.round(Math.exp(Math.max(lo, lc) + up) / tick.step));
  const l = Math.max(1, Math.min(o, c, Math.round(Math.exp(Math.min(lo, lc) - down) / tick.step)));

  // Volume rises with the regime's volatility, the minute's move and the time of day.
  const move = Math.abs(lc - lo) / sig;
  const dayPhase = (2 * Math.PI * (((index % 1440) + 1440) % 1440)) / 1440;
  const volume =
    p.volumePerMinute *
    (sig / p.sigma) ** 0.8 *
    (0.5 + 0.5 * Math.min(move, 4)) *
    (1 + 0.3 * Math.sin(dayPhase)) *
    Math.exp(0.35 * gauss(s, p.key, S_VOLUME, index) - 0.06);
  const v = Math.max(1, Math.round(volume / lot.step));

  return {
    symbol: market.symbol,
    timeframe: SYNTHETIC_TIMEFRAME,
    openTime: index * MINUTE_MS,
    open: tick.format(o),
    high: tick.format(h),
    low: tick.format(l),
    close: tick.format(c),
    volume: lot.format(v),
  };
}

/** `count` consecutive candles of `market` starting at minute `fromIndex`. */
export function syntheticCandles(seed: number, market: Market, fromIndex: number, count: number): CandleRecord[] {
  const out: CandleRecord[] = new Array<CandleRecord>(count);
  for (let i = 0; i < count; i++) out[i] = syntheticCandle(seed, market, fromIndex + i);
  return out;
}
