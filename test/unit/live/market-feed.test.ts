/**
 * Market feed selection: the synthetic market, or a venue's public candles through the OHLCV
 * collector (the loopback double here), behind one interface; and the stale-data skip.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../runtime/clock.ts';
import { createRateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { SYNTHETIC_MARKETS, syntheticCandle, type CandleNumbers, type ClosedMinute } from '../../../runtime/market/index.ts';
import { createMarketFeed, createStaleDataGuard, cycleSkippedEvent, traderDataFresh } from '../../../runtime/market-feed.ts';
import type { CandleRecord } from '../../../runtime/store/types.ts';
import { startExchangeDouble, type CandleSource, type ExchangeDouble } from '../../support/exchange-double/index.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
const LAST_CLOSED = Math.floor(T0 / MIN) * MIN - MIN;
const SEED = 7;
const market = (s: string) => SYNTHETIC_MARKETS.find((m) => m.symbol === s)!;

function memoryCandles() {
  const rows = new Map<string, CandleRecord>();
  return {
    rows,
    async insertMany(list: readonly CandleRecord[]) {
      for (const c of list) rows.set(`${c.symbol}|${c.timeframe}|${c.openTime}`, c);
    },
    async range(symbol: string, timeframe: string, o: { until?: number; limit: number }) {
      return [...rows.values()]
        .filter((c) => c.symbol === symbol && c.timeframe === timeframe && (o.until === undefined || c.openTime <= o.until))
        .sort((a, b) => a.openTime - b.openTime)
        .slice(-o.limit);
    },
  };
}

function memoryWindows() {
  const bySymbol: Record<string, CandleNumbers[]> = {};
  return { bySymbol, append: (s: string, c: CandleNumbers) => void (bySymbol[s] ??= []).push(c) };
}

describe('the synthetic market feed', () => {
  it('serves the synthetic markets of the chosen symbols, always fresh', async () => {
    const clock = createManualClock(T0);
    const candles = memoryCandles();
    const windows = memoryWindows();
    const minutes: ClosedMinute[] = [];
    const feed = createMarketFeed({ feed: 'synthetic', symbols: ['ETHUSDT', 'BTCUSDT'], clock, candles, windows, backfillBars: 5, seed: SEED, onCandle: (m) => void minutes.push(m) });
    expect(feed.kind).toBe('synthetic');
    expect((await feed.markets()).map((m) => m.symbol)).toEqual(['ETHUSDT', 'BTCUSDT']);
    expect(await feed.markets()).toEqual([market('ETHUSDT'), market('BTCUSDT')]);
    await feed.backfill();
    expect(feed.lastOpenTime()).toBe(LAST_CLOSED);
    expect(Object.keys(windows.bySymbol).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect([...candles.rows.values()].every((c) => c.timeframe === '1m')).toBe(true);
    clock.advance(2 * MIN);
    expect(await feed.advance()).toBe(2);
    expect(feed.prices()['BTCUSDT']).toBe(syntheticCandle(SEED, market('BTCUSDT'), LAST_CLOSED / MIN + 2).close);
    expect(feed.isFresh('BTCUSDT')).toBe(true);
    expect(feed.staleSymbols()).toEqual([]);
    await feed.close();
  });

  it('refuses a symbol the synthetic market does not have', () => {
    const clock = createManualClock(T0);
    expect(() => createMarketFeed({ feed: 'synthetic', symbols: ['BTCUSDT', 'PEPEUSDT'], clock, candles: memoryCandles(), windows: memoryWindows(), backfillBars: 5 })).toThrow(
      'the synthetic market has no PEPEUSDT',
    );
    expect(() => createMarketFeed({ feed: 'synthetic', symbols: [], clock, candles: memoryCandles(), windows: memoryWindows(), backfillBars: 5 })).toThrow(
      'the market feed needs at least one symbol',
    );
  });
});

describe.each(['binanceusdm', 'bybit'] as const)('the %s market feed', (venue) => {
  let double: ExchangeDouble | undefined;
  afterEach(async () => {
    await double?.close();
    double = undefined;
  });

  it('collects the venue’s candles without a key, under their own timeframe, and serves the venue’s markets', async () => {
    const clock = createManualClock(T0);
    let solUntil = Infinity;
    const src: CandleSource = (symbol, openTime) => {
      if (symbol === 'SOLUSDT' && openTime > solUntil) return null;
      const c = syntheticCandle(SEED, market(symbol), openTime / MIN);
      return { open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume };
    };
    double = await startExchangeDouble({ venue, now: () => clock.now(), candles: src, prices: { BTCUSDT: '65000' } });
    const candles = memoryCandles();
    // A synthetic history in the same database is not taken for the venue's.
    await candles.insertMany([syntheticCandle(1, market('BTCUSDT'), LAST_CLOSED / MIN)]);
    const windows = memoryWindows();
    const minutes: ClosedMinute[] = [];
    const stale: string[] = [];
    const limits = createRateLimits({ clock });
    const feed = createMarketFeed({
      feed: venue,
      symbols: ['BTCUSDT', 'SOLUSDT'],
      clock,
      candles,
      windows,
      backfillBars: 30,
      apiBaseUrl: double.url,
      limits,
      timeoutMs: 1000,
      onCandle: (m) => void minutes.push(m),
      onStale: (s) => stale.push(s),
    });
    expect(feed.kind).toBe(venue);
    const markets = await feed.markets();
    expect(markets.map((m) => m.symbol)).toEqual(['BTCUSDT', 'SOLUSDT']);
    expect(markets[0]).toMatchObject({ base: 'BTC', quote: 'USDT', amountStep: '0.001', priceTick: '0.1' });

    await feed.backfill();
    expect(feed.lastOpenTime()).toBe(LAST_CLOSED);
    expect(windows.bySymbol['BTCUSDT']).toHaveLength(30);
    expect(windows.bySymbol['BTCUSDT']!.at(-1)!.close).toBe(Number(syntheticCandle(SEED, market('BTCUSDT'), LAST_CLOSED / MIN).close));
    expect(candles.rows.get(`BTCUSDT|${venue}:1m|${LAST_CLOSED}`)).toBeDefined();
    expect(candles.rows.get(`BTCUSDT|1m|${LAST_CLOSED}`)!.close).toBe(syntheticCandle(1, market('BTCUSDT'), LAST_CLOSED / MIN).close);
    expect(double.log.length).toBeGreaterThan(0);
    expect(double.log.every((e) => e.apiKey === null)).toBe(true);
    expect(limits.stats()[0]!.requests).toBe(double.log.length);

    clock.advance(2 * MIN);
    expect(await feed.advance()).toBe(2);
    expect(minutes.map((m) => m.openTime)).toEqual([LAST_CLOSED + MIN, LAST_CLOSED + 2 * MIN]);
    expect(feed.isFresh('SOLUSDT')).toBe(true);

    solUntil = LAST_CLOSED + 2 * MIN;
    clock.advance(2 * MIN);
    await feed.advance();
    expect(feed.isFresh('SOLUSDT')).toBe(false);
    expect(feed.staleSymbols()).toEqual(['SOLUSDT']);
    expect(stale).toEqual(['SOLUSDT']);
    expect(traderDataFresh(['BTCUSDT', 'SOLUSDT'], feed)).toEqual({ fresh: false, stale: ['SOLUSDT'], reason: 'stale market data: SOLUSDT' });
    expect(traderDataFresh(['BTCUSDT'], feed)).toEqual({ fresh: true });
    await feed.close();
  });

  it('names the symbols the venue does not list', async () => {
    const clock = createManualClock(T0);
    double = await startExchangeDouble({ venue, now: () => clock.now(), markets: SYNTHETIC_MARKETS.slice(0, 2) });
    const feed = createMarketFeed({ feed: venue, symbols: ['BTCUSDT', 'LTCUSDT', 'DOGEUSDT'], clock, candles: memoryCandles(), windows: memoryWindows(), backfillBars: 5, apiBaseUrl: double.url, timeoutMs: 1000 });
    await expect(feed.markets()).rejects.toThrow(`${venue} lists no USDT perpetual LTCUSDT, DOGEUSDT (MARKET_SYMBOLS)`);
  });
});

describe('skipping a trader’s cycle on stale data', () => {
  const feed = (stale: readonly string[]) => ({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'], isFresh: (s: string) => !stale.includes(s) });

  it('checks the trader’s universe, or every feed symbol when the universe is empty', () => {
    expect(traderDataFresh(['BTCUSDT', 'ETHUSDT'], feed(['SOLUSDT']))).toEqual({ fresh: true });
    expect(traderDataFresh(['SOLUSDT', 'BTCUSDT', 'XRPUSDT'], feed(['XRPUSDT', 'SOLUSDT']))).toEqual({
      fresh: false,
      stale: ['SOLUSDT', 'XRPUSDT'],
      reason: 'stale market data: SOLUSDT, XRPUSDT',
    });
    expect(traderDataFresh([], feed(['XRPUSDT']))).toMatchObject({ fresh: false, reason: 'stale market data: XRPUSDT' });
  });

  it('describes the skipped cycle as a cycle.skipped warning', () => {
    expect(cycleSkippedEvent({ id: 't-1', managerId: 'm-1', name: 'Alpha' }, 120_000, 'stale market data: SOLUSDT', 130_000)).toEqual({
      at: 130_000,
      type: 'cycle.skipped',
      severity: 'warning',
      traderId: 't-1',
      managerId: 'm-1',
      actor: 'market',
      message: 'Alpha: cycle skipped: stale market data: SOLUSDT',
      data: { candleTime: 120_000, reason: 'stale market data: SOLUSDT' },
    });
  });

  it('says so once per trader while the reason stays the same, and again after the data returned', () => {
    let stale: string[] = ['SOLUSDT'];
    const guard = createStaleDataGuard({ symbols: ['BTCUSDT', 'SOLUSDT', 'XRPUSDT'], isFresh: (s) => !stale.includes(s) });
    const a = { id: 't-a', managerId: 'm-1' };
    const b = { id: 't-b', managerId: 'm-1' };
    const universe = ['BTCUSDT', 'SOLUSDT', 'XRPUSDT'];
    const first = guard.check(a, universe, 1, 2);
    expect(first.run).toBe(false);
    expect(first.event?.message).toBe('t-a: cycle skipped: stale market data: SOLUSDT');
    expect(guard.check(a, universe, 2, 3)).toEqual({ run: false, event: null });
    expect(guard.check(b, universe, 2, 3).event).not.toBeNull();
    expect(guard.check(a, ['BTCUSDT'], 2, 3)).toEqual({ run: true, event: null });
    stale = ['SOLUSDT', 'XRPUSDT'];
    expect(guard.check(b, universe, 3, 4).event?.data).toEqual({ candleTime: 3, reason: 'stale market data: SOLUSDT, XRPUSDT' });
    stale = [];
    expect(guard.check(b, universe, 4, 5)).toEqual({ run: true, event: null });
    stale = ['SOLUSDT'];
    expect(guard.check(b, universe, 5, 6).event).not.toBeNull();
  });
});
