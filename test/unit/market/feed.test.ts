import { describe, expect, it } from 'vitest';
import type { Market } from '../../../runtime/exchange/port.ts';
import {
  MINUTE_MS,
  SYNTHETIC_MARKETS,
  createSyntheticFeed,
  syntheticCandle,
  type CandleNumbers,
  type ClosedMinute,
  type SyntheticFeedOptions,
} from '../../../runtime/market/index.ts';
import type { CandleRecord, CandlesRepo } from '../../../runtime/store/types.ts';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const M0 = T0 / MINUTE_MS;
const markets: readonly Market[] = SYNTHETIC_MARKETS.slice(0, 3);
const SEED = 7;

/** An in-memory CandlesRepo that records its writes. */
function fakeCandles(): CandlesRepo & { rows: Map<string, CandleRecord>; writes: number[] } {
  const rows = new Map<string, CandleRecord>();
  const writes: number[] = [];
  const key = (s: string, tf: string, t: number): string => `${s}|${tf}|${t}`;
  return {
    rows,
    writes,
    async insertMany(batch) {
      writes.push(batch.length);
      for (const c of batch) if (!rows.has(key(c.symbol, c.timeframe, c.openTime))) rows.set(key(c.symbol, c.timeframe, c.openTime), c);
    },
    async range(symbol, timeframe, { until, limit }) {
      return [...rows.values()]
        .filter((c) => c.symbol === symbol && c.timeframe === timeframe && (until === undefined || c.openTime <= until))
        .sort((a, b) => a.openTime - b.openTime)
        .slice(-limit);
    },
    async latestOpenTime(symbol, timeframe) {
      const mine = [...rows.values()].filter((c) => c.symbol === symbol && c.timeframe === timeframe);
      return mine.length ? Math.max(...mine.map((c) => c.openTime)) : null;
    },
  };
}

/** Candle windows that remember every append. */
function fakeWindows(): { append(symbol: string, c: CandleNumbers): void; bySymbol: Map<string, CandleNumbers[]> } {
  const bySymbol = new Map<string, CandleNumbers[]>();
  return {
    bySymbol,
    append(symbol, c) {
      const list = bySymbol.get(symbol) ?? [];
      list.push(c);
      bySymbol.set(symbol, list);
    },
  };
}

function manualClock(t: number): { now(): number; set(x: number): void } {
  let now = t;
  return { now: () => now, set: (x) => (now = x) };
}

function setup(overrides: Partial<SyntheticFeedOptions> = {}) {
  const candles = fakeCandles();
  const windows = fakeWindows();
  const clock = manualClock(T0 + 30_000);
  const emitted: ClosedMinute[] = [];
  const feed = createSyntheticFeed({
    seed: SEED,
    markets,
    clock,
    candles,
    windows,
    backfillBars: 10,
    onCandle: (m) => {
      emitted.push(m);
    },
    ...overrides,
  });
  return { feed, candles, windows, clock, emitted };
}

const numbers = (c: CandleRecord): CandleNumbers => ({
  openTime: c.openTime,
  open: Number(c.open),
  high: Number(c.high),
  low: Number(c.low),
  close: Number(c.close),
  volume: Number(c.volume),
});

describe('createSyntheticFeed', () => {
  it('backfills the last closed minutes before now into the store and the windows', async () => {
    const { feed, candles, windows, emitted } = setup();
    expect(feed.lastOpenTime()).toBeNull();
    await feed.backfill();

    // At 12:00:30 the last closed minute is 11:59 (it closed at 12:00).
    expect(feed.lastOpenTime()).toBe(T0 - MINUTE_MS);
    expect(candles.rows.size).toBe(30);
    for (const m of markets) {
      const expected = Array.from({ length: 10 }, (_, i) => numbers(syntheticCandle(SEED, m, M0 - 10 + i)));
      expect(windows.bySymbol.get(m.symbol)).toEqual(expected);
    }
    expect(feed.prices()).toEqual(Object.fromEntries(markets.map((m) => [m.symbol, syntheticCandle(SEED, m, M0 - 1).close])));
    expect(emitted).toEqual([]);
  });

  it('loads what the store already has instead of regenerating it', async () => {
    const { feed, candles, windows } = setup();
    const stored = { ...syntheticCandle(SEED, markets[0]!, M0 - 3), close: '1.5', open: '1', high: '2', low: '1' };
    await candles.insertMany([stored]);
    candles.writes.length = 0;

    await feed.backfill();
    expect(candles.writes).toEqual([29]);
    expect(windows.bySymbol.get(markets[0]!.symbol)![7]).toEqual(numbers(stored));
  });

  it('emits each newly closed minute once, in order, and stores it', async () => {
    const { feed, candles, windows, clock, emitted } = setup();
    await feed.backfill();
    expect(await feed.advance()).toBe(0);

    clock.set(T0 + MINUTE_MS); // 12:00 closes exactly now
    expect(await feed.advance()).toBe(1);
    clock.set(T0 + 3 * MINUTE_MS + 59_999); // 12:01 and 12:02 have closed, 12:03 has not
    expect(await feed.advance()).toBe(2);
    expect(await feed.advance()).toBe(0);

    expect(emitted.map((m) => m.openTime)).toEqual([T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]);
    expect(emitted[1]!.candles).toEqual(Object.fromEntries(markets.map((m) => [m.symbol, syntheticCandle(SEED, m, M0 + 1)])));
    expect(feed.lastOpenTime()).toBe(T0 + 2 * MINUTE_MS);
    expect(windows.bySymbol.get(markets[1]!.symbol)!.map((c) => c.openTime).slice(-3)).toEqual([T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]);
    expect(candles.rows.size).toBe(3 * 13);
    expect(feed.prices()[markets[2]!.symbol]).toBe(syntheticCandle(SEED, markets[2]!, M0 + 2).close);
  });

  it('catches up on many due minutes at once, writing them in batches', async () => {
    const { feed, candles, clock, emitted } = setup({ batchMinutes: 100 });
    await feed.backfill();
    candles.writes.length = 0;
    clock.set(T0 + 250 * MINUTE_MS + 1);
    expect(await feed.advance()).toBe(250);
    expect(candles.writes).toEqual([300, 300, 150]);
    expect(emitted.map((m) => m.openTime)).toEqual(Array.from({ length: 250 }, (_, i) => T0 + i * MINUTE_MS));
  });

  it('backfills on the first advance when backfill was not called', async () => {
    const { feed, emitted } = setup();
    expect(await feed.advance()).toBe(0);
    expect(feed.lastOpenTime()).toBe(T0 - MINUTE_MS);
    expect(emitted).toEqual([]);
  });

  it('does not emit a minute twice when advance calls overlap', async () => {
    const { feed, clock, emitted } = setup();
    await feed.backfill();
    await feed.backfill();
    clock.set(T0 + 5 * MINUTE_MS);
    const counts = await Promise.all([feed.advance(), feed.advance(), feed.advance()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(emitted.map((m) => m.openTime)).toEqual(Array.from({ length: 5 }, (_, i) => T0 + i * MINUTE_MS));
  });

  it('keeps a minute emitted when the listener throws and goes on from the next one', async () => {
    let fail = true;
    const seen: number[] = [];
    const { feed, clock } = setup({
      onCandle: (m) => {
        seen.push(m.openTime);
        if (fail) {
          fail = false;
          throw new Error('listener broke');
        }
      },
    });
    await feed.backfill();
    clock.set(T0 + 3 * MINUTE_MS);
    await expect(feed.advance()).rejects.toThrow('listener broke');
    expect(feed.lastOpenTime()).toBe(T0);
    expect(await feed.advance()).toBe(2);
    expect(seen).toEqual([T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]);
  });

  it('continues the same series after a restart on the same store', async () => {
    const candles = fakeCandles();
    const first = createSyntheticFeed({ seed: SEED, markets, clock: manualClock(T0), candles, windows: fakeWindows(), backfillBars: 20 });
    await first.backfill();
    const clock = manualClock(T0 + 5 * MINUTE_MS);
    await createSyntheticFeed({ seed: SEED, markets, clock, candles, windows: fakeWindows(), backfillBars: 20 }).advance();

    // Restart later: the new process sees the stored minutes plus the gap, then keeps going.
    const windows = fakeWindows();
    const later = manualClock(T0 + 8 * MINUTE_MS);
    const again = createSyntheticFeed({ seed: SEED, markets, clock: later, candles, windows, backfillBars: 20 });
    await again.backfill();
    later.set(T0 + 10 * MINUTE_MS);
    await again.advance();

    const uninterrupted = fakeWindows();
    const reference = createSyntheticFeed({
      seed: SEED,
      markets,
      clock: manualClock(T0 + 10 * MINUTE_MS),
      candles: fakeCandles(),
      windows: uninterrupted,
      backfillBars: 22,
    });
    await reference.backfill();
    for (const m of markets) expect(windows.bySymbol.get(m.symbol)).toEqual(uninterrupted.bySymbol.get(m.symbol));
    expect(again.prices()).toEqual(reference.prices());
  });
});
