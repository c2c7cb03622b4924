/**
 * The OHLCV collector through the real ccxt adapter against the double, whose klines follow
 * the synthetic generator on a manual clock: backfill, closed minutes only, and staleness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../runtime/clock.ts';
import { Dec } from '../../../runtime/exchange/precision.ts';
import { createOhlcvCollector } from '../../../runtime/market/collector.ts';
import type { CandleNumbers, ClosedMinute } from '../../../runtime/market/feed.ts';
import { SYNTHETIC_MARKETS } from '../../../runtime/market/markets.ts';
import { syntheticCandle } from '../../../runtime/market/synthetic.ts';
import type { CandleRecord } from '../../../runtime/store/types.ts';
import type { CandleSource } from '../../support/exchange-double/index.ts';
import { openVenue, VENUES, type VenueFixture } from './support.ts';

const MIN = 60_000;
const SEED = 7;
const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const market = (s: string) => SYNTHETIC_MARKETS.find((m) => m.symbol === s)!;

function memoryCandles() {
  const rows = new Map<string, CandleRecord>();
  return {
    rows,
    async insertMany(list: readonly CandleRecord[]) {
      for (const c of list) rows.set(`${c.symbol}|${c.openTime}`, c);
    },
    async range() {
      return [] as CandleRecord[];
    },
  };
}

describe.each(VENUES)('collecting %s candles through ccxt', (venue) => {
  let f: VenueFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('backfills closed candles, emits each new minute once and flags a symbol whose data stops', async () => {
    const clock = createManualClock(T0);
    let ethUntil = Infinity;
    const candles: CandleSource = (symbol, openTime) => {
      if (symbol === 'ETHUSDT' && openTime > ethUntil) return null;
      const c = syntheticCandle(SEED, market(symbol), openTime / MIN);
      return { open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume };
    };
    f = await openVenue(venue, { double: { now: () => clock.now(), candles } });
    const repo = memoryCandles();
    const appended: Record<string, CandleNumbers[]> = {};
    const minutes: ClosedMinute[] = [];
    const events: string[] = [];
    const collector = createOhlcvCollector({
      exchange: f.ex,
      symbols: SYMBOLS,
      candles: repo,
      windows: { append: (s, c) => void (appended[s] ??= []).push(c) },
      clock,
      backfillBars: 300,
      pageLimit: 200,
      onCandle: (m) => void minutes.push(m),
      onStale: (s) => events.push(`stale ${s}`),
      onFresh: (s) => events.push(`fresh ${s}`),
    });

    await collector.backfill();
    const lastClosed = Math.floor(T0 / MIN) * MIN - MIN;
    expect(appended['BTCUSDT']).toHaveLength(300);
    expect(appended['BTCUSDT']![0]!.openTime).toBe(lastClosed - 299 * MIN);
    expect(appended['BTCUSDT']!.at(-1)!.openTime).toBe(lastClosed);
    const expectedClose = syntheticCandle(SEED, market('BTCUSDT'), lastClosed / MIN).close;
    expect(appended['BTCUSDT']!.at(-1)!.close).toBe(Number(expectedClose));
    expect(new Dec(repo.rows.get(`BTCUSDT|${lastClosed}`)!.close).eq(expectedClose)).toBe(true);
    expect(repo.rows.has(`BTCUSDT|${lastClosed + MIN}`)).toBe(false);
    expect(f.double.log.filter((e) => e.op === 'klines').length).toBe(4);

    clock.advance(3 * MIN);
    expect(await collector.advance()).toBe(3);
    expect(minutes.map((m) => [m.openTime, Object.keys(m.candles).sort()])).toEqual([1, 2, 3].map((i) => [lastClosed + i * MIN, SYMBOLS]));
    expect(collector.prices()['ETHUSDT']).toBe(new Dec(syntheticCandle(SEED, market('ETHUSDT'), lastClosed / MIN + 3).close).toFixed());

    ethUntil = lastClosed + 3 * MIN;
    clock.advance(2 * MIN);
    await collector.advance();
    expect(events).toEqual(['stale ETHUSDT']);
    expect(collector.isFresh('ETHUSDT')).toBe(false);
    expect(collector.isFresh('BTCUSDT')).toBe(true);
    expect(minutes.at(-1)!.openTime).toBe(lastClosed + 5 * MIN);
    expect(Object.keys(minutes.at(-1)!.candles)).toEqual(['BTCUSDT']);

    ethUntil = Infinity;
    clock.advance(MIN);
    await collector.advance();
    expect(events).toEqual(['stale ETHUSDT', 'fresh ETHUSDT']);
    expect(appended['ETHUSDT']!.at(-1)!.openTime).toBe(lastClosed + 6 * MIN);
    expect(repo.rows.has(`ETHUSDT|${lastClosed + 4 * MIN}`)).toBe(true);
  });
});
