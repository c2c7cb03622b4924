/**
 * Test helpers: compile strategy fixtures and samples, fill candle windows, build compute items.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCandleWindows } from '../../../../runtime/market/window.ts';
import type { CandleWindows } from '../../../../runtime/market/window.ts';
import { compileStrategy } from '../../../../runtime/strategy/compile.ts';
import type { ComputeItem } from '../../../../runtime/strategy/pool.ts';

/** The folder of broken and hostile fixtures. */
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/strategies/', import.meta.url));
/** The sample strategies folder. */
export const SAMPLES = fileURLToPath(new URL('../../../../strategies/', import.meta.url));
/** The symbols the tests' markets know. */
export const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'LINKUSDT', 'AVAXUSDT'] as const;
export const MIN = 60_000;

/** Compiles a file from `dir`, failing the test when it does not compile. */
export async function compiled(dir: string, filename: string): Promise<string> {
  const r = await compileStrategy(readFileSync(dir + filename, 'utf8'), filename, dir);
  if (!r.ok) throw new Error(`${filename}: ${r.error}`);
  return r.code;
}

/**
 * Windows with `bars` one-minute candles per symbol (open times 0, 1 min, …): each symbol's close
 * follows `price(symbolIndex, i)`.
 */
export function filledWindows(
  bars: number,
  price: (s: number, i: number) => number = (s, i) => 100 * (s + 1) * (1 + 0.001 * i),
  symbols: readonly string[] = SYMBOLS,
): CandleWindows {
  const w = createCandleWindows({ symbols, capacity: Math.max(bars, 8) });
  for (let i = 0; i < bars; i++) {
    symbols.forEach((symbol, s) => {
      const close = price(s, i);
      w.append(symbol, { openTime: i * MIN, open: close, high: close * 1.001, low: close * 0.999, close, volume: 1 });
    });
  }
  return w;
}

/** A compute item with defaults. */
export function item(traderId: string, over: Partial<ComputeItem> = {}): ComputeItem {
  return { traderId, params: {}, now: 0, equity: 1000, positions: {}, ...over };
}
