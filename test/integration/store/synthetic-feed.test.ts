import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MINUTE_MS,
  SYNTHETIC_MARKETS,
  createCandleWindows,
  createSyntheticFeed,
  syntheticCandle,
} from '../../../runtime/market/index.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const M0 = T0 / MINUTE_MS;
const symbols = SYNTHETIC_MARKETS.map((m) => m.symbol);

describe.each(dbTargets())('the synthetic feed on the $name store', (target) => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase(target);
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('backfills 1,500 bars of every market, advances, and a restarted feed continues from the store', async () => {
    let now = T0;
    const clock = { now: () => now };
    const windows = createCandleWindows({ symbols, capacity: 2_000 });
    const first = createSyntheticFeed({ seed: 3, markets: SYNTHETIC_MARKETS, clock, candles: db.store.candles, windows, backfillBars: 1_500 });
    await first.backfill();
    now = T0 + 3 * MINUTE_MS;
    expect(await first.advance()).toBe(3);

    for (const m of SYNTHETIC_MARKETS) {
      expect(await db.store.candles.latestOpenTime(m.symbol, '1m')).toBe(T0 + 2 * MINUTE_MS);
      expect((await db.store.candles.range(m.symbol, '1m', { limit: 5_000 })).length).toBe(1_503);
    }
    const btc = SYNTHETIC_MARKETS[0]!;
    expect(await db.store.candles.range(btc.symbol, '1m', { until: T0 - MINUTE_MS, limit: 1 })).toEqual([
      syntheticCandle(3, btc, M0 - 1),
    ]);

    now = T0 + 6 * MINUTE_MS;
    const restartedWindows = createCandleWindows({ symbols, capacity: 2_000 });
    const seen: number[] = [];
    const again = createSyntheticFeed({
      seed: 3,
      markets: SYNTHETIC_MARKETS,
      clock,
      candles: db.store.candles,
      windows: restartedWindows,
      backfillBars: 1_500,
      onCandle: (m) => {
        seen.push(m.openTime);
      },
    });
    await again.backfill();
    now = T0 + 7 * MINUTE_MS;
    expect(await again.advance()).toBe(1);
    expect(seen).toEqual([T0 + 6 * MINUTE_MS]);
    expect(restartedWindows.latestOpenTime(btc.symbol)).toBe(T0 + 6 * MINUTE_MS);
    expect(Array.from(restartedWindows.read(btc.symbol, 'close', 1_501))).toEqual(
      Array.from({ length: 1_501 }, (_, i) => Number(syntheticCandle(3, btc, M0 + 6 - 1_500 + i).close)),
    );
    expect(again.prices()[btc.symbol]).toBe(syntheticCandle(3, btc, M0 + 6).close);
  });
});
