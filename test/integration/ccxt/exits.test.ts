/**
 * Runtime-managed exits on Binance USDⓈ-M, which takes no stop-loss on the entry order: a real
 * trader on a runtime node, its account the ccxt adapter pointed at the loopback double. The
 * strategy keeps a long BTC position with a stop a hair under the last close, so the node's own
 * watch (the candles' lows against the recorded level) closes it with a reduce-only order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/domain.ts';
import { createCcxtExchange } from '../../../runtime/exchange/ccxt/adapter.ts';
import { createRateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { SYNTHETIC_MARKETS } from '../../../runtime/market/markets.ts';
import { syntheticCandle } from '../../../runtime/market/synthetic.ts';
import type { CcxtExchange } from '../../../runtime/exchange/ccxt/index.ts';
import { startExchangeDouble, type ExchangeDouble } from '../../support/exchange-double/index.ts';
import { harness, T0, type Harness } from '../../support/runtime.ts';
import { KEY, SECRET } from './support.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

const MIN = 60_000;
const TRADER = Ids.trader('t-stops');

describe('runtime-managed stop-loss on binanceusdm', () => {
  let h: Harness;
  let double: ExchangeDouble;
  let account: CcxtExchange;

  beforeAll(async () => {
    h = await harness('pglite', {
      demoFleet: false,
      fixtures: ['tight-stops.ts'],
      env: { MARKET_BACKFILL_BARS: '120' },
      liveAccount: (t) => (t.venue === 'binanceusdm' ? account : undefined),
    });
    double = await startExchangeDouble({
      venue: 'binanceusdm',
      accounts: [{ apiKey: KEY, secret: SECRET, wallet: '10000' }],
      now: () => h.clock.now(),
      price: (symbol, now) => {
        const m = SYNTHETIC_MARKETS.find((x) => x.symbol === symbol);
        return m ? syntheticCandle(h.config.marketSeed, m, Math.floor(now / MIN) - 1).close : undefined;
      },
    });
    account = createCcxtExchange({
      venue: 'binanceusdm',
      credentials: { apiKey: KEY, secret: SECRET },
      limiter: createRateLimits({ clock: h.clock }).account('binanceusdm', KEY),
      clock: h.clock,
      apiBaseUrl: double.url,
      timeoutMs: 1000,
    });
    await h.seed(async (store) => {
      await store.users.upsert({ id: Ids.user('u-live'), email: 'live@example.com', displayName: 'Live', role: 'user', createdAt: T0 });
      await store.managers.upsert({ id: Ids.manager('m-live'), name: 'Live desk', capital: '10000', maxRestarts: 5, restartWindowMs: 600_000, createdAt: T0 });
      await store.traders.upsert({
        id: TRADER,
        managerId: Ids.manager('m-live'),
        userId: Ids.user('u-live'),
        name: 'Tight stops',
        strategyName: 'tight-stops',
        strategyVersion: 1,
        params: { gap: 0.0002 },
        venue: 'binanceusdm',
        accountId: 'binanceusdm:main',
        initialCapital: '10000',
        leverage: 2,
        riskLimits: {},
        createdAt: T0,
        updatedAt: T0,
      });
    });
    await h.start();
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
    await double?.close();
  });

  it('closes the position with a recorded reduce-only order when a candle crosses the stop, then lets the strategy re-enter', async () => {
    await h.minute(8);
    await h.node.flush();
    expect(h.node.traders().get(TRADER)?.status).toBe('running');
    const exits = await h.node.store.events.recent({ limit: 50, traderId: TRADER, types: ['order.exit'] });
    expect(exits.length).toBeGreaterThanOrEqual(1);
    expect(exits[0]!.message).toMatch(/^stop-loss [\d,.]+ hit \(low [\d,.]+\): closing long [\d.]+ BTCUSDT$/);

    const orders = await h.node.store.orders.listForTrader(TRADER);
    const closes = orders.filter((o) => o.reduceOnly && o.side === 'sell');
    expect(closes.length).toBe(exits.length);
    for (const o of closes) {
      expect(o.status).toBe('closed');
      expect(double.creates(o.clientOrderId)).toBe(1);
    }
    // Entries keep their levels in the record (where the next cycle reads them) …
    const entries = orders.filter((o) => !o.reduceOnly && o.side === 'buy');
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const o of entries) expect(o.stopLoss).not.toBeNull();
    // … but Binance never received a stop with them: the runtime watches the exits.
    const creates = double.log.filter((e) => e.op === 'createOrder');
    expect(creates.length).toBeGreaterThanOrEqual(entries.length + closes.length);
    for (const e of creates) expect(JSON.stringify(e.payload ?? {})).not.toMatch(/stopPrice|STOP/);
    // The decision record of an exit cycle says why the position was closed.
    const cycles = await h.node.store.cycles.recentForTrader(TRADER, 20);
    const withExit = cycles.filter((c) => ((c.plan as { exits?: unknown[] } | null)?.exits?.length ?? 0) > 0);
    expect(withExit.length).toBe(exits.length);
  });
});
