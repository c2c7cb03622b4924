/**
 * Market feed selection (`MARKET_FEED`): the seeded synthetic market, or a venue's public
 * 1-minute candles through a keyless ccxt adapter and the OHLCV collector. Both have one shape,
 * so the node, the paper exchange and the traders do not care which one runs: with a venue feed
 * and paper traders the platform dry-runs on live data. Also the stale-data check a trader's
 * cycle is skipped on.
 */
import type { Clock } from './clock.ts';
import type { MarketSymbol } from './domain.ts';
import { createCcxtExchange, type CcxtExchange, type CcxtVenue, type RateLimits, createRateLimits } from './exchange/ccxt/index.ts';
import type { Market } from './exchange/index.ts';
import {
  createOhlcvCollector,
  createSyntheticFeed,
  SYNTHETIC_MARKETS,
  SYNTHETIC_TIMEFRAME,
  type CandleSink,
  type ClosedMinute,
  type SyntheticFeed,
} from './market/index.ts';
import type { CandleRecord, CandlesRepo, EventRecord } from './store/types.ts';

/** The most 1-minute candles each venue returns per request (OKX: 300 recent, 100 from history). */
const OHLCV_PAGE: Readonly<Record<CcxtVenue, number>> = { binanceusdm: 1000, bybit: 1000, okx: 100, bitget: 1000 };

/** The feeds `MARKET_FEED` names. */
export type MarketFeedKind = 'synthetic' | CcxtVenue;

/** The subset of a pino logger the feed writes to. */
export interface FeedLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link createMarketFeed}. */
export interface MarketFeedOptions {
  readonly feed: MarketFeedKind;
  readonly symbols: readonly MarketSymbol[];
  readonly clock: Clock;
  readonly candles: Pick<CandlesRepo, 'insertMany' | 'range'>;
  readonly windows: CandleSink;
  readonly backfillBars: number;
  /** Seed of the synthetic market (default 42). */
  readonly seed?: number;
  readonly onCandle?: (closed: ClosedMinute) => void | Promise<void>;
  /** Venue feeds: a base URL replacing the venue's API hosts (`EXCHANGE_API_URL`; tests: the double). */
  readonly apiBaseUrl?: string;
  /** Venue feeds: the process's rate limits, shared with the live accounts (a fresh set when absent). */
  readonly limits?: RateLimits;
  readonly log?: FeedLog;
  /** Venue feeds: ccxt's per-request timeout (ms). */
  readonly timeoutMs?: number;
  /** Venue feeds: candles per request (default 1000). */
  readonly pageLimit?: number;
  readonly onStale?: (symbol: MarketSymbol) => void;
  readonly onFresh?: (symbol: MarketSymbol) => void;
}

/** A running market feed: the synthetic feed's interface, the markets it covers, and freshness. */
export interface MarketFeed extends SyntheticFeed {
  readonly kind: MarketFeedKind;
  readonly symbols: readonly MarketSymbol[];
  /** The markets of `symbols` (the synthetic ones, or the venue's as loaded): what the paper exchange trades. */
  markets(): Promise<readonly Market[]>;
  /** Whether the symbol's latest candle is recent (always true for the synthetic market). */
  isFresh(symbol: MarketSymbol): boolean;
  staleSymbols(): MarketSymbol[];
  close(): Promise<void>;
}

/**
 * Live candles are stored under `<venue>:<timeframe>` so that a database that ran the synthetic
 * market never feeds its generated history to a live run (nor the reverse).
 */
function namespaced(candles: MarketFeedOptions['candles'], venue: CcxtVenue): MarketFeedOptions['candles'] {
  const tf = (timeframe: string) => `${venue}:${timeframe}`;
  return {
    insertMany: (rows) => candles.insertMany(rows.map((r): CandleRecord => ({ ...r, timeframe: tf(r.timeframe) }))),
    range: async (symbol, timeframe, o) => (await candles.range(symbol, tf(timeframe), o)).map((r) => ({ ...r, timeframe })),
  };
}

/** Creates the feed `opts.feed` names; the node calls `backfill()` once, then `advance()` on its timer. */
export function createMarketFeed(opts: MarketFeedOptions): MarketFeed {
  const symbols = [...new Set(opts.symbols)];
  if (symbols.length === 0) throw new Error('the market feed needs at least one symbol');
  if (opts.feed === 'synthetic') {
    const known = new Map(SYNTHETIC_MARKETS.map((m) => [m.symbol, m]));
    const unknown = symbols.filter((s) => !known.has(s));
    if (unknown.length > 0) throw new Error(`the synthetic market has no ${unknown.join(', ')}`);
    const markets = symbols.map((s) => known.get(s) as Market);
    const feed = createSyntheticFeed({
      seed: opts.seed ?? 42,
      markets,
      clock: opts.clock,
      candles: opts.candles,
      windows: opts.windows,
      backfillBars: opts.backfillBars,
      ...(opts.onCandle ? { onCandle: opts.onCandle } : {}),
    });
    return {
      ...feed,
      kind: 'synthetic',
      symbols,
      markets: () => Promise.resolve(markets),
      isFresh: () => true,
      staleSymbols: () => [],
      close: () => Promise.resolve(),
    };
  }

  const venue = opts.feed;
  const limits = opts.limits ?? createRateLimits({ clock: opts.clock });
  // Candles are public: no key, its own account budget beside the traders' on the shared IP budget.
  const adapter: CcxtExchange = createCcxtExchange({
    venue,
    credentials: { apiKey: '', secret: '' },
    limiter: limits.account(venue, 'public:market-data'),
    clock: opts.clock,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.apiBaseUrl !== undefined ? { apiBaseUrl: opts.apiBaseUrl } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  const collector = createOhlcvCollector({
    exchange: adapter,
    symbols,
    timeframe: SYNTHETIC_TIMEFRAME,
    candles: namespaced(opts.candles, venue),
    windows: opts.windows,
    clock: opts.clock,
    backfillBars: opts.backfillBars,
    // The venue's largest candle page: a shorter answer than asked for would leave a gap.
    pageLimit: Math.min(opts.pageLimit ?? OHLCV_PAGE[venue], OHLCV_PAGE[venue]),
    ...(opts.onCandle ? { onCandle: opts.onCandle } : {}),
    onStale: (s) => {
      opts.log?.warn({ venue, symbol: s }, 'market data stale');
      opts.onStale?.(s);
    },
    onFresh: (s) => {
      opts.log?.info({ venue, symbol: s }, 'market data fresh again');
      opts.onFresh?.(s);
    },
    onError: (s, err) => opts.log?.warn({ venue, symbol: s, err }, 'candle fetch failed; retried on the next step'),
  });
  let loaded: readonly Market[] | null = null;
  return {
    backfill: () => collector.backfill(),
    advance: () => collector.advance(),
    lastOpenTime: () => collector.lastOpenTime(),
    prices: () => collector.prices(),
    kind: venue,
    symbols,
    async markets() {
      if (loaded) return loaded;
      const table = await adapter.loadMarkets();
      const missing = symbols.filter((s) => !table[s]);
      if (missing.length > 0) throw new Error(`${venue} lists no USDT perpetual ${missing.join(', ')} (MARKET_SYMBOLS)`);
      loaded = symbols.map((s) => table[s] as Market);
      return loaded;
    },
    isFresh: (s) => collector.isFresh(s),
    staleSymbols: () => collector.staleSymbols(),
    async close() {
      await (adapter.client as { close?: () => Promise<unknown> }).close?.()?.catch?.(() => undefined);
    },
  };
}

/** Whether a trader may run its cycle on the feed's data. */
export type DataFreshness =
  | { readonly fresh: true }
  | { readonly fresh: false; readonly stale: readonly MarketSymbol[]; readonly reason: string };

/**
 * Whether every symbol of the trader's universe (every feed symbol when the universe is empty)
 * has recent data; otherwise the stale ones and the reason, e.g. `stale market data: SOLUSDT`.
 */
export function traderDataFresh(universe: readonly MarketSymbol[], feed: Pick<MarketFeed, 'isFresh' | 'symbols'>): DataFreshness {
  const wanted = universe.length > 0 ? universe : feed.symbols;
  const stale = [...new Set(wanted)].filter((s) => !feed.isFresh(s));
  return stale.length === 0 ? { fresh: true } : { fresh: false, stale, reason: `stale market data: ${stale.join(', ')}` };
}

/** The `cycle.skipped` event of a trader whose cycle did not run. */
export function cycleSkippedEvent(
  trader: { readonly id: string; readonly managerId?: string | null; readonly name?: string },
  candleTime: number,
  reason: string,
  at: number,
): EventRecord {
  return {
    at,
    type: 'cycle.skipped',
    severity: 'warning',
    traderId: trader.id,
    managerId: trader.managerId ?? null,
    actor: 'market',
    message: `${trader.name ?? trader.id}: cycle skipped: ${reason}`,
    data: { candleTime, reason },
  };
}

/** Decides per trader and candle whether the cycle runs, and says so once per change. */
export interface StaleDataGuard {
  /**
   * `run` false when the trader's universe has stale data; `event` is the `cycle.skipped` event
   * the first time a trader skips for a given reason (null while the reason stays the same).
   */
  check(
    trader: { readonly id: string; readonly managerId?: string | null; readonly name?: string },
    universe: readonly MarketSymbol[],
    candleTime: number,
    at: number,
  ): { readonly run: boolean; readonly event: EventRecord | null };
}

/**
 * Creates the guard over a feed: skipped cycles of a trader are reported when the reason
 * changes, not every minute (a stale symbol would otherwise write one event per trader per minute).
 */
export function createStaleDataGuard(feed: Pick<MarketFeed, 'isFresh' | 'symbols'>): StaleDataGuard {
  const reported = new Map<string, string>();
  return {
    check(trader, universe, candleTime, at) {
      const f = traderDataFresh(universe, feed);
      if (f.fresh) {
        reported.delete(trader.id);
        return { run: true, event: null };
      }
      if (reported.get(trader.id) === f.reason) return { run: false, event: null };
      reported.set(trader.id, f.reason);
      return { run: false, event: cycleSkippedEvent(trader, candleTime, f.reason, at) };
    },
  };
}
