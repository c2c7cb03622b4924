import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Market } from '../../../runtime/exchange/port.ts';
import {
  MINUTE_MS,
  REGIME_MINUTES,
  SYNTHETIC_MARKETS,
  syntheticCandle,
  syntheticCandles,
  syntheticRegime,
  type RegimeName,
} from '../../../runtime/market/index.ts';

const NOV_2026 = Math.floor(Date.UTC(2026, 10, 1) / MINUTE_MS);
const btc = SYNTHETIC_MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const eth = SYNTHETIC_MARKETS.find((m) => m.symbol === 'ETHUSDT')!;
const doge = SYNTHETIC_MARKETS.find((m) => m.symbol === 'DOGEUSDT')!;

function decimals(s: string): number {
  return s.split('.')[1]?.length ?? 0;
}

function isMultipleOf(value: string, step: string): boolean {
  const d = Math.max(decimals(value), decimals(step));
  const scale = (x: string): bigint => {
    const [i, f = ''] = x.split('.');
    return BigInt(`${i}${f.padEnd(d, '0')}`);
  };
  return scale(value) % scale(step) === 0n;
}

function logReturns(market: Market, seed: number, from: number, count: number): number[] {
  return syntheticCandles(seed, market, from, count).map((c) => Math.log(Number(c.close) / Number(c.open)));
}

function std(xs: readonly number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
}

function correlation(xs: readonly number[], ys: readonly number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('synthetic markets', () => {
  it('lists ten USDT perpetuals with a 5 USDT minimum and maker/taker fees', () => {
    expect(SYNTHETIC_MARKETS.map((m) => m.symbol)).toEqual([
      'BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT', 'AVAXUSDT', 'LINKUSDT', 'LTCUSDT',
    ]);
    for (const m of SYNTHETIC_MARKETS) {
      expect(m).toMatchObject({ quote: 'USDT', minCost: '5', makerFee: '0.0002', takerFee: '0.0005', minAmount: m.amountStep });
      expect(m.maxLeverage).toBeGreaterThan(1);
    }
  });
});

describe('syntheticCandle', () => {
  it('regenerates the identical candle for the same seed, symbol and minute, in any order', () => {
    const forward = syntheticCandles(42, btc, NOV_2026, 300);
    const backward = Array.from({ length: 300 }, (_, i) => syntheticCandle(42, btc, NOV_2026 + 299 - i)).reverse();
    expect(backward).toEqual(forward);
    expect(syntheticCandle(42, btc, NOV_2026 + 77)).toEqual(forward[77]);
  });

  it('gives a different series for a different seed and for a different symbol', () => {
    const a = syntheticCandles(1, btc, NOV_2026, 50).map((c) => c.close);
    const b = syntheticCandles(2, btc, NOV_2026, 50).map((c) => c.close);
    expect(a).not.toEqual(b);
    const ethReturns = logReturns(eth, 1, NOV_2026, 50);
    expect(ethReturns).not.toEqual(logReturns(btc, 1, NOV_2026, 50));
  });

  it('labels candles with the symbol, the 1m timeframe and the minute open time', () => {
    expect(syntheticCandle(3, eth, NOV_2026)).toMatchObject({ symbol: 'ETHUSDT', timeframe: '1m', openTime: NOV_2026 * MINUTE_MS });
  });

  it('keeps OHLC consistent, on the tick and the amount step, with positive volume', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom(...SYNTHETIC_MARKETS),
        fc.integer({ min: 0, max: 40_000_000 }),
        (seed, market, index) => {
          const c = syntheticCandle(seed, market, index);
          const [o, h, l, cl, v] = [c.open, c.high, c.low, c.close, c.volume].map(Number) as [number, number, number, number, number];
          expect(h).toBeGreaterThanOrEqual(Math.max(o, cl));
          expect(l).toBeLessThanOrEqual(Math.min(o, cl));
          expect(l).toBeGreaterThan(0);
          expect(v).toBeGreaterThan(0);
          for (const p of [c.open, c.high, c.low, c.close]) {
            expect(decimals(p)).toBe(decimals(market.priceTick));
            expect(isMultipleOf(p, market.priceTick)).toBe(true);
          }
          expect(isMultipleOf(c.volume, market.amountStep)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("opens every minute at the previous minute's close, across regime blocks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...SYNTHETIC_MARKETS), fc.integer({ min: 1, max: 200_000 }), (seed, market, block) => {
        const boundary = block * REGIME_MINUTES;
        for (const i of [boundary - 1, boundary, boundary + 1]) {
          expect(syntheticCandle(seed, market, i + 1).open).toBe(syntheticCandle(seed, market, i).close);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('stays near its base price over a month instead of drifting away', () => {
    const closes = syntheticCandles(9, btc, NOV_2026, 30 * 1440).map((c) => Number(c.close));
    expect(Math.min(...closes)).toBeGreaterThan(65_000 * 0.5);
    expect(Math.max(...closes)).toBeLessThan(65_000 * 2);
  });

  it('makes up a valid series for a market it has no profile for', () => {
    const odd: Market = { ...btc, symbol: 'FOOUSDT', base: 'FOO', priceTick: '0.005', amountStep: '10' };
    for (const c of syntheticCandles(5, odd, NOV_2026, 500)) {
      expect(isMultipleOf(c.close, '0.005')).toBe(true);
      expect(isMultipleOf(c.volume, '10')).toBe(true);
      expect(Number(c.low)).toBeGreaterThan(0);
    }
  });
});

describe('synthetic regimes', () => {
  const seed = 11;
  const blocks = 600; // 100 days
  const byRegime = new Map<RegimeName, { returns: number[]; blockReturns: number[] }>();
  beforeAll(() => {
    for (let b = 0; b < blocks; b++) {
      const first = NOV_2026 - (NOV_2026 % REGIME_MINUTES) + b * REGIME_MINUTES;
      const regime = syntheticRegime(seed, first);
      const returns = logReturns(btc, seed, first, REGIME_MINUTES);
      const entry = byRegime.get(regime.name) ?? { returns: [], blockReturns: [] };
      entry.returns.push(...returns);
      entry.blockReturns.push(returns.reduce((a, r) => a + r, 0));
      byRegime.set(regime.name, entry);
    }
  });

  it('switches between every regime, one per 4-hour block shared by all symbols', () => {
    expect([...byRegime.keys()].sort()).toEqual(['calm', 'range', 'storm', 'trend-down', 'trend-up', 'volatile']);
    const r = syntheticRegime(seed, NOV_2026);
    expect(syntheticRegime(seed, NOV_2026 - (NOV_2026 % REGIME_MINUTES))).toEqual(r);
    expect(r.block).toBe(Math.floor(NOV_2026 / REGIME_MINUTES));
  });

  it('is far more volatile in storms than in calm blocks', () => {
    const calm = std(byRegime.get('calm')!.returns);
    const normal = std(byRegime.get('range')!.returns);
    const storm = std(byRegime.get('storm')!.returns);
    expect(normal).toBeGreaterThan(1.5 * calm);
    expect(storm).toBeGreaterThan(2 * normal);
  });

  it('trends up in trend-up blocks and down in trend-down blocks on average', () => {
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(byRegime.get('trend-up')!.blockReturns)).toBeGreaterThan(0);
    expect(mean(byRegime.get('trend-down')!.blockReturns)).toBeLessThan(0);
  });

  it('moves symbols together through a shared market factor', () => {
    const b = logReturns(btc, seed, NOV_2026, 10_000);
    expect(correlation(b, logReturns(eth, seed, NOV_2026, 10_000))).toBeGreaterThan(0.5);
    expect(correlation(b, logReturns(doge, seed, NOV_2026, 10_000))).toBeGreaterThan(0.3);
  });
});
