/**
 * What the ccxt integration tests share: a double per venue with one funded account, the real
 * ccxt adapter pointed at it behind a fresh set of rate limits, and the executor's dependencies.
 */
import { Ids } from '../../../runtime/domain.ts';
import { systemClock, type Clock } from '../../../runtime/clock.ts';
import { createCcxtExchange, type CcxtExchange } from '../../../runtime/exchange/ccxt/adapter.ts';
import { createRateLimits, type RateLimits, type RateLimitsOptions } from '../../../runtime/exchange/ccxt/limiter.ts';
import { createOrderGate } from '../../../runtime/exchange/gate.ts';
import type { Market } from '../../../runtime/exchange/port.ts';
import { SYNTHETIC_PROFILES } from '../../../runtime/market/markets.ts';
import type { ExecuteDeps, RebalanceTrader } from '../../../runtime/rebalance/execute.ts';
import { resolveLimits } from '../../../runtime/risk/pretrade.ts';
import type { EventRecord } from '../../../runtime/store/types.ts';
import { createMemoryOrders, startExchangeDouble, type ExchangeDouble, type ExchangeDoubleOptions, type MemoryOrders } from '../../support/exchange-double/index.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

/** The venues the double speaks. */
export const VENUES = ['binanceusdm', 'bybit'] as const;
export type DoubleVenue = (typeof VENUES)[number];

export const KEY = 'key-main';
export const SECRET = 'secret-main';

/** Last prices of the synthetic markets, as the double starts. */
export const PRICES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SYNTHETIC_PROFILES).map(([symbol, p]) => [symbol, String(p.basePrice)]),
);

/** A double with one account, and the adapter on it. */
export interface VenueFixture {
  readonly double: ExchangeDouble;
  readonly limits: RateLimits;
  readonly ex: CcxtExchange;
  /** Another adapter on the same account and limiter (a second trader). */
  adapter(opts?: { apiKey?: string; secret?: string; clock?: Clock; marketsTtlMs?: number }): CcxtExchange;
  close(): Promise<void>;
}

/** Starts a double for `venue` and connects an adapter (small timeout: the double is local). */
export async function openVenue(
  venue: DoubleVenue,
  opts: { wallet?: string; timeoutMs?: number; double?: Partial<ExchangeDoubleOptions>; limits?: Partial<RateLimitsOptions> } = {},
): Promise<VenueFixture> {
  const double = await startExchangeDouble({
    venue,
    accounts: [{ apiKey: KEY, secret: SECRET, wallet: opts.wallet ?? '10000' }],
    prices: PRICES,
    ...opts.double,
  });
  const limits = createRateLimits({ clock: systemClock, ...opts.limits });
  const adapter: VenueFixture['adapter'] = (o = {}) =>
    createCcxtExchange({
      venue,
      credentials: { apiKey: o.apiKey ?? KEY, secret: o.secret ?? SECRET },
      limiter: limits.account(venue, o.apiKey ?? KEY),
      clock: o.clock ?? systemClock,
      apiBaseUrl: double.url,
      timeoutMs: opts.timeoutMs ?? 400,
      ...(o.marketsTtlMs !== undefined ? { marketsTtlMs: o.marketsTtlMs } : {}),
    });
  return { double, limits, ex: adapter(), adapter, close: () => double.close() };
}

/** A trader as the executor sees it. */
export const trader = (id = 't-1', leverage = 2): RebalanceTrader => ({
  id: Ids.trader(id),
  managerId: 'm-1',
  leverage,
  limits: resolveLimits({ maxLeverage: 20 }),
});

/** Executor dependencies over an in-memory orders repository; no real sleeps. */
export function executeDeps(markets: Readonly<Record<string, Market>>, over: Partial<ExecuteDeps> = {}): ExecuteDeps & { orders: MemoryOrders; events: EventRecord[] } {
  const events: EventRecord[] = [];
  const orders = createMemoryOrders();
  return {
    clock: systemClock,
    orders,
    gate: createOrderGate(),
    markets,
    threshold: 0.01,
    emit: (e) => events.push(e),
    backoffMs: () => 0,
    sleep: async () => undefined,
    dayStartEquity: (_id, equity) => equity,
    leverageSet: new Set(),
    events,
    ...over,
  } as ExecuteDeps & { orders: MemoryOrders; events: EventRecord[] };
}
