/**
 * Fifty traders on one account, each with its own ccxt client, sharing the account's and the
 * IP's limiter: the double's own request log shows no window over the venue's limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CcxtExchange } from '../../../runtime/exchange/ccxt/adapter.ts';
import type { VenueBudgets } from '../../../runtime/exchange/ccxt/limiter.ts';
import { KEY, openVenue, VENUES, type VenueFixture } from './support.ts';

const WINDOW_MS = 1000;
const TRADERS = 50;

/**
 * Our budget per window, and the venue's limit. A request reaches the venue some time after its
 * grant (signing, the event loop, the network); as long as that delay stays under a window, no
 * venue window can hold more than two budget windows' worth, so the venue limit here is twice
 * the budget. Client and double share one loaded event loop in this test, where the delay is
 * hundreds of ms; in production (Binance's 60 s window) a budget at ~90 % of the limit is ample.
 * Unlimited, the same load would reach the venue in one burst, well over the limit.
 */
const LIMITS: Record<(typeof VENUES)[number], { readonly budget: number; readonly venue: number; readonly budgets: VenueBudgets }> = {
  binanceusdm: {
    budget: 100,
    venue: 200,
    budgets: {
      ip: [{ name: 'weight', measure: 'weight', capacity: 100, windowMs: WINDOW_MS }],
      account: [{ name: 'orders/10s', measure: 'orders', capacity: 300, windowMs: 10_000 }],
    },
  },
  bybit: {
    budget: 50,
    venue: 100,
    budgets: {
      ip: [{ name: 'requests', measure: 'requests', capacity: 50, windowMs: WINDOW_MS }],
      account: [{ name: 'cost/1s', measure: 'weight', capacity: 10_000, windowMs: 1000 }],
    },
  },
};

describe.each(VENUES)('fifty traders sharing one %s account', (venue) => {
  let f: VenueFixture;
  beforeAll(async () => {
    f = await openVenue(venue, { wallet: '1000000', timeoutMs: 5000, limits: { budgets: { [venue]: LIMITS[venue].budgets } } });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('stay under the venue weight limit in every window while each reads its balance and places an order', async () => {
    const traders: CcxtExchange[] = Array.from({ length: TRADERS }, () => f.adapter());
    // Start-up (fifty clients loading ccxt's HTTP stack and the markets) is CPU-bound in this one
    // process and would delay sends by most of a window: warm up first, then measure.
    await Promise.all(traders.map((ex) => ex.loadMarkets()));
    const { budget, venue: venueLimit } = LIMITS[venue];
    f.double.setLimit({ weight: venueLimit, windowMs: WINDOW_MS });
    const from = f.double.log.length;
    await Promise.all(
      traders.map(async (ex, i) => {
        await ex.fetchBalance();
        await ex.createOrder({ clientOrderId: `lim${i}`, symbol: 'SOLUSDT', side: 'buy', type: 'market', amount: '0.1' });
      }),
    );
    const log = f.double.log.slice(from);
    const demanded = log.reduce((n, e) => n + e.weight, 0);
    // The load was well beyond one window's worth, so the limiter had to spread it out...
    expect(demanded).toBeGreaterThanOrEqual(3 * budget);
    // ...and the venue never saw a window over its limit nor answered 429.
    expect(f.double.maxWindowWeight(WINDOW_MS, from)).toBeLessThanOrEqual(venueLimit);
    expect(log.filter((e) => e.fault === 'venueLimit' || e.status === 429)).toEqual([]);
    expect(f.double.books.account(KEY)!.orders.size).toBe(TRADERS);
    const [ip] = f.limits.stats();
    expect(ip).toMatchObject({ venue, accounts: 1, requests: f.double.log.length, rateLimitHits: 0, queued: 0 });
  });
});
