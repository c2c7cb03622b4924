import { describe, expect, it } from 'vitest';
import type { CandleWindowsReader } from '../../../runtime/market/window.ts';
import type { StrategyContext, StrategyDefinition } from '../../../runtime/strategy/sdk.ts';
import { validateTargets } from '../../../runtime/strategy/validate.ts';
import equalWeight from '../../../strategies/equal-weight.ts';
import inverseVolatility from '../../../strategies/inverse-volatility.ts';
import momentum from '../../../strategies/momentum.ts';
import { filledWindows, MIN, SYMBOLS } from './helpers/fixtures.ts';

const known = new Set<string>(SYMBOLS);

function context(w: CandleWindowsReader, now: number): StrategyContext {
  return {
    now,
    equity: 1000,
    positions: {},
    history: (symbols, { window, field }) => Object.fromEntries(symbols.map((s) => [s, w.read(s, field, window, now)])),
  };
}

/** Runs a sample as the worker does: params merged over defaults and parsed, output validated. */
function run(def: StrategyDefinition, w: CandleWindowsReader, now: number, params: Record<string, unknown> = {}) {
  const p = def.params.parse({ ...def.defaults, ...params });
  const checked = validateTargets(def.compute(context(w, now), p), known);
  if (!checked.ok) throw new Error(checked.error);
  return checked.targets;
}

describe('sample strategies', () => {
  const BARS = 120;
  const NOW = (BARS - 1) * MIN;
  // BTC and ETH rise, SOL falls, the rest drift up slowly.
  const trend = [0.002, 0.001, -0.003, 0.0005, 0.0005, 0.0005, 0.0005];
  const trending = filledWindows(BARS, (s, i) => 100 * (s + 1) * Math.exp(trend[s]! * i));

  it('momentum buys the assets with a positive 20-bar return, equal weight, SL 3 % below and TP 5 % above', () => {
    const targets = run(momentum, trending, NOW);
    expect(Object.keys(targets).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    const lastBtc = 100 * Math.exp(0.002 * (BARS - 1));
    expect(targets.BTCUSDT!.weight).toBe(0.5);
    expect(targets.BTCUSDT!.stopLoss).toBeCloseTo(lastBtc * 0.97, 9);
    expect(targets.BTCUSDT!.takeProfit).toBeCloseTo(lastBtc * 1.05, 9);
    expect(targets.ETHUSDT!.weight).toBe(0.5);
  });

  it('momentum goes flat when nothing rises or history is too short', () => {
    const falling = filledWindows(BARS, (s, i) => 100 * (s + 1) * (1 - 0.001 * i));
    expect(run(momentum, falling, NOW)).toEqual({});
    expect(run(momentum, trending, 10 * MIN)).toEqual({});
  });

  it('momentum only looks at candles up to `now`', () => {
    // Rising until bar 60, falling after: at bar 60 everything still has momentum.
    const peak = filledWindows(BARS, (s, i) => 100 * (s + 1) * (i <= 60 ? 1 + 0.001 * i : 1.06 - 0.002 * (i - 60)));
    expect(Object.keys(run(momentum, peak, 60 * MIN)).sort()).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expect(run(momentum, peak, NOW)).toEqual({});
  });

  it('equal-weight spreads `gross` evenly over the priced assets of its universe, long only', () => {
    const targets = run(equalWeight, trending, NOW, { gross: 0.6 });
    expect(Object.keys(targets).sort()).toEqual(['BNBUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']);
    for (const t of Object.values(targets)) expect(t.weight).toBeCloseTo(0.12, 12);
    expect(run(equalWeight, trending, NOW).BTCUSDT!.weight).toBeCloseTo(0.2, 12);
    expect(() => equalWeight.params.parse({ gross: 1.5 })).toThrow();
  });

  it('equal-weight leaves out an asset without a price yet', () => {
    const w = filledWindows(5, (s, i) => 10 + s + i, ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT']);
    const targets = run(equalWeight, withXrp(w), 4 * MIN);
    expect(Object.keys(targets)).toHaveLength(4);
    expect(targets.BTCUSDT!.weight).toBeCloseTo(0.25, 12);
  });

  it('inverse-volatility gives the calmer asset the larger weight and invests exactly `gross`', () => {
    // Alternating returns: ETH swings twice as much as BTC, SOL four times.
    const amp = [0.01, 0.02, 0.04, 0.01, 0.01, 0.01, 0.01];
    const choppy = filledWindows(BARS, (s, i) => 100 * (1 + (i % 2 === 0 ? amp[s]! : -amp[s]!)));
    const targets = run(inverseVolatility, choppy, NOW, { gross: 0.9 });
    expect(Object.keys(targets).sort()).toEqual(['AVAXUSDT', 'BTCUSDT', 'ETHUSDT', 'LINKUSDT', 'SOLUSDT']);
    expect(targets.BTCUSDT!.weight / targets.ETHUSDT!.weight).toBeCloseTo(2, 1);
    expect(targets.BTCUSDT!.weight / targets.SOLUSDT!.weight).toBeCloseTo(4, 1);
    const sum = Object.values(targets).reduce((a, t) => a + t.weight, 0);
    expect(sum).toBeCloseTo(0.9, 12);
    expect(Object.values(targets).every((t) => t.weight > 0)).toBe(true);
  });

  it('inverse-volatility skips flat series instead of dividing by zero', () => {
    const flat = filledWindows(BARS, () => 100);
    expect(run(inverseVolatility, flat, NOW)).toEqual({});
  });
});

/** A reader where XRPUSDT exists but has no candles. */
function withXrp(w: CandleWindowsReader): CandleWindowsReader {
  return {
    ...w,
    read: (symbol, field, window, until) => (symbol === 'XRPUSDT' ? new Float64Array(0) : w.read(symbol, field, window, until)),
  };
}
