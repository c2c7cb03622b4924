import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../runtime/clock.ts';
import type { CandleNumbers } from '../../../runtime/market/feed.ts';
import { createOhlcvCollector, type FetchOhlcv, type OhlcvRowLike } from '../../../runtime/market/collector.ts';
import type { CandleRecord, CandlesRepo } from '../../../runtime/store/types.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);

function memoryCandles(initial: CandleRecord[] = []): Pick<CandlesRepo, 'insertMany' | 'range'> & { rows: Map<string, CandleRecord> } {
  const rows = new Map<string, CandleRecord>(initial.map((c) => [`${c.symbol}|${c.openTime}`, c]));
  return {
    rows,
    async insertMany(list) {
      for (const c of list) if (!rows.has(`${c.symbol}|${c.openTime}`)) rows.set(`${c.symbol}|${c.openTime}`, c);
    },
    async range(symbol, _tf, { until, limit }) {
      return [...rows.values()]
        .filter((c) => c.symbol === symbol && (until === undefined || c.openTime <= until))
        .sort((a, b) => a.openTime - b.openTime)
        .slice(-limit);
    },
  };
}

function sink() {
  const appended: Record<string, CandleNumbers[]> = {};
  return {
    appended,
    append(symbol: string, c: CandleNumbers) {
      (appended[symbol] ??= []).push(c);
    },
  };
}

const closeAt = (t: number) => 100 + t / MIN - Math.floor(T0 / MIN);

/** A venue answering like Binance: candles in [since, until] including the one still forming. */
function venue(clock: { now(): number }, opts: { dead?: Set<string>; failing?: Set<string> } = {}) {
  const calls: { symbol: string; since: number; limit: number; until: number }[] = [];
  const fetch: FetchOhlcv = async (symbol, _tf, since, limit, until) => {
    calls.push({ symbol, since, limit, until });
    if (opts.failing?.has(symbol)) throw new Error(`venue down for ${symbol}`);
    const out: OhlcvRowLike[] = [];
    const last = opts.dead?.has(symbol) ? T0 - 2 * MIN : clock.now();
    for (let t = Math.ceil(since / MIN) * MIN; t <= Math.min(until, last) && out.length < limit; t += MIN) {
      const c = closeAt(t);
      out.push([t, c, c + 1, c - 1, c + 0.5, 10]);
    }
    // the candle still forming, as real venues include it
    const forming = Math.floor(clock.now() / MIN) * MIN;
    if (until >= forming && !opts.dead?.has(symbol)) out.push([forming, 1, 1, 1, 1, 1]);
    return out;
  };
  return { fetch, calls };
}

describe('the OHLCV collector', () => {
  it('backfills only closed candles, paging through history, into the store and the windows', async () => {
    const clock = createManualClock(T0);
    const v = venue(clock);
    const repo = memoryCandles();
    const windows = sink();
    const c = createOhlcvCollector({ exchange: v.fetch, symbols: ['BTCUSDT', 'ETHUSDT'], candles: repo, windows, clock, backfillBars: 2500, pageLimit: 1000 });
    await c.backfill();
    const lastClosed = Math.floor(T0 / MIN) * MIN - MIN;
    expect(v.calls.filter((x) => x.symbol === 'BTCUSDT').map((x) => [x.since, x.until])).toEqual([
      [lastClosed - 2499 * MIN, lastClosed - 1500 * MIN],
      [lastClosed - 1499 * MIN, lastClosed - 500 * MIN],
      [lastClosed - 499 * MIN, lastClosed],
    ]);
    expect(windows.appended['BTCUSDT']).toHaveLength(2500);
    expect(windows.appended['BTCUSDT']!.at(-1)!.openTime).toBe(lastClosed);
    expect(repo.rows.size).toBe(5000);
    expect(c.lastOpenTime()).toBe(lastClosed);
    expect(c.prices()).toEqual({ BTCUSDT: String(closeAt(lastClosed) + 0.5), ETHUSDT: String(closeAt(lastClosed) + 0.5) });
    expect(c.isFresh('BTCUSDT')).toBe(true);
  });

  it('loads what the store already has and fetches only from the first missing candle', async () => {
    const clock = createManualClock(T0);
    const v = venue(clock);
    const lastClosed = Math.floor(T0 / MIN) * MIN - MIN;
    const stored: CandleRecord[] = [];
    for (let i = 9; i >= 3; i--) {
      const t = lastClosed - i * MIN;
      stored.push({ symbol: 'BTCUSDT', timeframe: '1m', openTime: t, open: '1', high: '1', low: '1', close: '1', volume: '1' });
    }
    const windows = sink();
    const c = createOhlcvCollector({ exchange: v.fetch, symbols: ['BTCUSDT'], candles: memoryCandles(stored), windows, clock, backfillBars: 10 });
    await c.backfill();
    expect(v.calls).toEqual([{ symbol: 'BTCUSDT', since: lastClosed - 2 * MIN, limit: 1000, until: lastClosed }]);
    expect(windows.appended['BTCUSDT']!.map((x) => x.openTime)).toEqual(Array.from({ length: 10 }, (_, i) => lastClosed - (9 - i) * MIN));
  });

  it('emits every newly closed minute once, in order, with each symbol, and fills a long gap by paging', async () => {
    const clock = createManualClock(T0);
    const v = venue(clock);
    const minutes: number[] = [];
    const c = createOhlcvCollector({
      exchange: v.fetch,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      candles: memoryCandles(),
      windows: sink(),
      clock,
      backfillBars: 5,
      pageLimit: 100,
      onCandle: (m) => {
        minutes.push(m.openTime);
        expect(Object.keys(m.candles).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
      },
    });
    await c.backfill();
    expect(await c.advance()).toBe(0);
    const start = c.lastOpenTime()!;
    clock.advance(MIN);
    expect(await c.advance()).toBe(1);
    expect(minutes).toEqual([start + MIN]);
    v.calls.length = 0;
    clock.advance(250 * MIN);
    expect(await c.advance()).toBe(250);
    expect(v.calls.filter((x) => x.symbol === 'ETHUSDT')).toHaveLength(3);
    expect(minutes).toHaveLength(251);
    expect(minutes.every((t, i) => i === 0 || t === minutes[i - 1]! + MIN)).toBe(true);
    expect(c.lastOpenTime()).toBe(start + 251 * MIN);
  });

  it('raises onStale once for a symbol without new candles for two intervals, keeps the others flowing, and onFresh when data returns', async () => {
    const clock = createManualClock(T0);
    const dead = new Set<string>();
    const v = venue(clock, { dead });
    const events: string[] = [];
    const emitted: Record<number, string[]> = {};
    const c = createOhlcvCollector({
      exchange: v.fetch,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      candles: memoryCandles(),
      windows: sink(),
      clock,
      backfillBars: 3,
      onStale: (s) => events.push(`stale ${s}`),
      onFresh: (s) => events.push(`fresh ${s}`),
      onCandle: (m) => void (emitted[m.openTime] = Object.keys(m.candles).sort()),
    });
    await c.backfill();
    dead.add('ETHUSDT');
    clock.advance(MIN);
    await c.advance();
    expect(events).toEqual([]);
    expect(c.isFresh('ETHUSDT')).toBe(true);
    clock.advance(MIN);
    await c.advance();
    expect(events).toEqual(['stale ETHUSDT']);
    expect(c.isFresh('ETHUSDT')).toBe(false);
    expect(c.staleSymbols()).toEqual(['ETHUSDT']);
    clock.advance(MIN);
    await c.advance();
    expect(events).toEqual(['stale ETHUSDT']);
    const last = c.lastOpenTime()!;
    expect(emitted[last]).toEqual(['BTCUSDT']);
    dead.delete('ETHUSDT');
    clock.advance(MIN);
    await c.advance();
    expect(events).toEqual(['stale ETHUSDT', 'fresh ETHUSDT']);
    expect(c.isFresh('ETHUSDT')).toBe(true);
    expect(emitted[c.lastOpenTime()!]).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it('reports a failing symbol, goes on with the others and turns it stale', async () => {
    const clock = createManualClock(T0);
    const failing = new Set<string>();
    const v = venue(clock, { failing });
    const errors: string[] = [];
    const stale: string[] = [];
    const c = createOhlcvCollector({
      exchange: v.fetch,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      candles: memoryCandles(),
      windows: sink(),
      clock,
      backfillBars: 3,
      onError: (s, e) => errors.push(`${s}: ${(e as Error).message}`),
      onStale: (s) => stale.push(s),
    });
    await c.backfill();
    failing.add('BTCUSDT');
    clock.advance(2 * MIN);
    const n = await c.advance();
    expect(errors).toEqual(['BTCUSDT: venue down for BTCUSDT']);
    expect(stale).toEqual(['BTCUSDT']);
    expect(n).toBe(2);
  });

  it('resolves platform symbols through a bare ccxt instance', async () => {
    const clock = createManualClock(T0);
    const asked: string[] = [];
    const client = {
      loadMarkets: async () => ({ 'BTC/USDT:USDT': { id: 'BTCUSDT', symbol: 'BTC/USDT:USDT', base: 'BTC', quote: 'USDT', swap: true, linear: true } }),
      fetchOHLCV: async (symbol: string, _tf?: string, since?: number) => {
        asked.push(symbol);
        return [[since as number, 1, 1, 1, 1, 1]];
      },
    };
    const c = createOhlcvCollector({ exchange: client, symbols: ['BTCUSDT'], candles: memoryCandles(), windows: sink(), clock, backfillBars: 1 });
    await c.backfill();
    expect(asked).toEqual(['BTC/USDT:USDT']);
    expect(c.lastOpenTime()).toBe(Math.floor(T0 / MIN) * MIN - MIN);
  });
});
