/**
 * The live market feed: polls a venue's OHLCV (through ccxt, behind the shared limiter) for
 * every symbol, stores only closed candles, fills gaps by paging, appends to the shared candle
 * windows and emits closed minutes. It has the synthetic feed's shape (backfill / advance /
 * lastOpenTime / prices), so the node can run on either. A staleness watchdog tells when a
 * symbol's data stopped (`onStale`, once) and when it returned (`onFresh`); `isFresh` lets a
 * trader skip a cycle on stale data.
 */
import type { DecimalString, MarketSymbol } from '../domain.ts';
import { dec } from '../exchange/precision.ts';
import type { CandleRecord, CandlesRepo } from '../store/types.ts';
import type { CandleNumbers, CandleSink, ClosedMinute, SyntheticFeed } from './feed.ts';

/** One ccxt OHLCV row: [openTime, open, high, low, close, volume]. */
export type OhlcvRowLike = readonly (number | undefined)[];

/** Fetches candles of a platform symbol with open times in [since, until], at most `limit`. */
export type FetchOhlcv = (symbol: MarketSymbol, timeframe: string, since: number, limit: number, until: number) => Promise<readonly OhlcvRowLike[]>;

/** The ccxt-backed adapter (`createCcxtExchange`): platform symbols, behind the limiter. */
export interface OhlcvAdapterLike {
  unifiedSymbol(symbol: MarketSymbol): Promise<string>;
  fetchOHLCV(symbol: MarketSymbol, timeframe: string, since: number, limit: number, until?: number): Promise<readonly OhlcvRowLike[]>;
}

/** A bare ccxt instance: symbols are resolved through its markets (`BTCUSDT` → `BTC/USDT:USDT`). */
export interface CcxtLike {
  loadMarkets(): Promise<Record<string, { id: string; symbol: string; base: string; quote: string; swap?: boolean; linear?: boolean } | undefined>>;
  fetchOHLCV(symbol: string, timeframe?: string, since?: number, limit?: number, params?: Record<string, unknown>): Promise<OhlcvRowLike[]>;
}

/** Options of {@link createOhlcvCollector}. */
export interface OhlcvCollectorOptions {
  /** Our ccxt adapter, a ccxt instance or a fetch function. */
  readonly exchange: OhlcvAdapterLike | CcxtLike | FetchOhlcv;
  readonly symbols: readonly MarketSymbol[];
  /** Candle timeframe (default `1m`). */
  readonly timeframe?: string;
  readonly candles: Pick<CandlesRepo, 'insertMany' | 'range'>;
  readonly windows: CandleSink;
  readonly clock: { now(): number };
  /** Closed candles to hold before now after `backfill()`. */
  readonly backfillBars: number;
  /** A symbol is stale when its newest candle closed this many intervals ago or more (default 2). */
  readonly staleAfterIntervals?: number;
  /** Candles per request (default 1000; Binance allows 1500, Bybit 1000). */
  readonly pageLimit?: number;
  /** Symbols fetched at once (default 4; the limiter paces them anyway). */
  readonly concurrency?: number;
  /** Called once per newly closed minute, in order, with the candles every fresh symbol has for it. */
  readonly onCandle?: (closed: ClosedMinute) => void | Promise<void>;
  readonly onStale?: (symbol: MarketSymbol) => void;
  readonly onFresh?: (symbol: MarketSymbol) => void;
  /** A symbol's fetch failed (it is retried on the next `advance`). */
  readonly onError?: (symbol: MarketSymbol, err: unknown) => void;
}

/** A running collector: the synthetic feed's interface plus freshness. */
export interface OhlcvCollector extends SyntheticFeed {
  /** True when the symbol's newest candle is recent (see `staleAfterIntervals`), by the clock now. */
  isFresh(symbol: MarketSymbol): boolean;
  /** Symbols currently reported stale. */
  staleSymbols(): MarketSymbol[];
}

interface SymbolState {
  /** Open time of the newest stored closed candle, or null. */
  last: number | null;
  stale: boolean;
  close: DecimalString | null;
}

/** Milliseconds of a ccxt timeframe (`1m`, `5m`, `1h`, `1d`). */
export function timeframeMs(tf: string): number {
  const m = /^(\d+)([mhd])$/.exec(tf);
  if (!m) throw new Error(`unsupported timeframe ${tf}`);
  const unit = m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
}

const decimal = (x: number | undefined): DecimalString => {
  if (x === undefined || !Number.isFinite(x)) return '0';
  const d = dec(String(x));
  return d.isZero() ? '0' : d.toFixed();
};

function toNumbers(c: CandleRecord): CandleNumbers {
  return { openTime: c.openTime, open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close), volume: Number(c.volume) };
}

function fetcherOf(src: OhlcvCollectorOptions['exchange']): FetchOhlcv {
  if (typeof src === 'function') return src;
  if ('unifiedSymbol' in src) return (symbol, tf, since, limit, until) => src.fetchOHLCV(symbol, tf, since, limit, until);
  let ids: Map<string, string> | null = null;
  return async (symbol, tf, since, limit, until) => {
    if (!ids) {
      const markets = await src.loadMarkets();
      const next = new Map<string, string>();
      for (const m of Object.values(markets)) if (m && m.swap !== false && m.linear !== false) next.set(`${m.base}${m.quote}`, m.symbol);
      ids = next;
    }
    return src.fetchOHLCV(ids.get(symbol) ?? symbol, tf, since, limit, { until });
  };
}

/** Creates the collector; the node calls `backfill()` once, then `advance()` on a timer. */
export function createOhlcvCollector(opts: OhlcvCollectorOptions): OhlcvCollector {
  const { clock, candles, windows, onCandle } = opts;
  const timeframe = opts.timeframe ?? '1m';
  const interval = timeframeMs(timeframe);
  const staleAfter = (opts.staleAfterIntervals ?? 2) * interval;
  const pageLimit = Math.max(1, opts.pageLimit ?? 1000);
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  if (!Number.isInteger(opts.backfillBars) || opts.backfillBars < 0)
    throw new Error(`backfillBars must be a non-negative integer: ${opts.backfillBars}`);
  const fetch = fetcherOf(opts.exchange);
  const state = new Map<MarketSymbol, SymbolState>(opts.symbols.map((s) => [s, { last: null, stale: false, close: null }]));
  /** Candles fetched but not yet emitted, by open time. */
  const pending = new Map<number, Record<MarketSymbol, CandleRecord>>();
  let emitted: number | null = null;
  let backfilled = false;

  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  /** Open time of the newest candle closed by now. */
  const lastClosedOpen = (): number => Math.floor(clock.now() / interval) * interval - interval;

  const record = (symbol: MarketSymbol, r: OhlcvRowLike): CandleRecord => ({
    symbol,
    timeframe,
    openTime: r[0] as number,
    open: decimal(r[1]),
    high: decimal(r[2]),
    low: decimal(r[3]),
    close: decimal(r[4]),
    volume: decimal(r[5]),
  });

  /** Closed candles of one symbol with open times in [from, to], paging through gaps. */
  async function fetchRange(symbol: MarketSymbol, from: number, to: number): Promise<CandleRecord[]> {
    const out: CandleRecord[] = [];
    for (let since = from; since <= to; ) {
      const until = Math.min(to, since + (pageLimit - 1) * interval);
      const rows = await fetch(symbol, timeframe, since, pageLimit, until);
      let prev = out.length > 0 ? (out[out.length - 1] as CandleRecord).openTime : -Infinity;
      const page = [...rows]
        .filter((r) => typeof r[0] === 'number' && r[0] >= since && r[0] <= until && r[0] % interval === 0)
        .sort((a, b) => (a[0] as number) - (b[0] as number));
      for (const r of page) {
        if ((r[0] as number) <= prev) continue;
        prev = r[0] as number;
        out.push(record(symbol, r));
      }
      since = until + interval;
    }
    return out;
  }

  async function eachSymbol(fn: (symbol: MarketSymbol, s: SymbolState) => Promise<void>): Promise<void> {
    const list = [...state];
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const [symbol, s] = list[next++] as [MarketSymbol, SymbolState];
        try {
          await fn(symbol, s);
        } catch (err) {
          opts.onError?.(symbol, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  }

  const append = (symbol: MarketSymbol, s: SymbolState, c: CandleRecord) => {
    windows.append(symbol, toNumbers(c));
    s.last = c.openTime;
    s.close = c.close;
  };

  const freshBy = (s: SymbolState, now: number): boolean => s.last !== null && now - (s.last + interval) < staleAfter;

  function watch(): void {
    const now = clock.now();
    for (const [symbol, s] of state) {
      const fresh = freshBy(s, now);
      if (!fresh && !s.stale) {
        s.stale = true;
        opts.onStale?.(symbol);
      } else if (fresh && s.stale) {
        s.stale = false;
        opts.onFresh?.(symbol);
      }
    }
  }

  async function doBackfill(): Promise<void> {
    if (backfilled) return;
    const end = lastClosedOpen();
    const from = end - (opts.backfillBars - 1) * interval;
    await eachSymbol(async (symbol, s) => {
      const stored = opts.backfillBars === 0 ? [] : await candles.range(symbol, timeframe, { until: end, limit: opts.backfillBars });
      const have = new Map<number, CandleRecord>();
      for (const c of stored) if (c.openTime >= from) have.set(c.openTime, c);
      let firstMissing: number | null = null;
      for (let t = from; t <= end; t += interval)
        if (!have.has(t)) {
          firstMissing = t;
          break;
        }
      if (firstMissing !== null) {
        const fetched = await fetchRange(symbol, firstMissing, end);
        if (fetched.length > 0) await candles.insertMany(fetched);
        for (const c of fetched) have.set(c.openTime, c);
      }
      for (const c of [...have.values()].sort((a, b) => a.openTime - b.openTime)) append(symbol, s, c);
    });
    const lasts = [...state.values()].map((s) => s.last).filter((x): x is number => x !== null);
    emitted = lasts.length > 0 ? Math.min(...lasts) : null;
    backfilled = true;
    watch();
  }

  async function doAdvance(): Promise<number> {
    if (!backfilled) {
      await doBackfill();
      return 0;
    }
    const end = lastClosedOpen();
    await eachSymbol(async (symbol, s) => {
      const from = s.last === null ? end - Math.max(0, opts.backfillBars - 1) * interval : s.last + interval;
      if (from > end) return;
      const fetched = await fetchRange(symbol, from, end);
      if (fetched.length === 0) return;
      await candles.insertMany(fetched);
      for (const c of fetched) {
        append(symbol, s, c);
        const minute = pending.get(c.openTime) ?? {};
        minute[symbol] = c;
        pending.set(c.openTime, minute);
      }
    });
    watch();
    // A minute goes out once every fresh symbol has it (a stale one does not hold the rest back).
    const fresh = [...state.values()].filter((s) => !s.stale);
    const ready = fresh.length > 0 ? Math.min(...fresh.map((s) => s.last ?? -Infinity)) : -Infinity;
    let n = 0;
    for (const t of [...pending.keys()].sort((a, b) => a - b)) {
      if (t > ready || t > end) break;
      const minute = pending.get(t) as Record<MarketSymbol, CandleRecord>;
      pending.delete(t);
      if (emitted !== null && t <= emitted) continue;
      emitted = t;
      n++;
      // A failing listener propagates, but the minute stays emitted: it is stored and appended.
      if (onCandle) await onCandle({ openTime: t, candles: minute });
    }
    return n;
  }

  return {
    backfill: () => serialize(doBackfill),
    advance: () => serialize(doAdvance),
    lastOpenTime: () => emitted,
    prices() {
      const out: Record<MarketSymbol, DecimalString> = {};
      for (const [symbol, s] of state) if (s.close !== null) out[symbol] = s.close;
      return out;
    },
    isFresh(symbol) {
      const s = state.get(symbol);
      return s !== undefined && freshBy(s, clock.now());
    },
    staleSymbols: () => [...state].filter(([, s]) => s.stale).map(([symbol]) => symbol),
  };
}
