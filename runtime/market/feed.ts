/**
 * The synthetic market feed: backfills recent history, then emits every newly closed minute
 * of every symbol in order, storing candles and appending them to the shared candle windows.
 */
import type { DecimalString, MarketSymbol } from '../domain.ts';
import type { Market } from '../exchange/port.ts';
import type { CandleRecord, CandlesRepo } from '../store/types.ts';
import { MINUTE_MS, SYNTHETIC_TIMEFRAME, syntheticCandle } from './synthetic.ts';

/** One candle as numbers, as the candle windows take it. */
export interface CandleNumbers {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** Where the feed appends candles: the candle windows (structurally, so either side can change). */
export interface CandleSink {
  append(symbol: MarketSymbol, c: CandleNumbers): void;
}

/** Every symbol's candle of one closed minute. */
export interface ClosedMinute {
  readonly openTime: number;
  readonly candles: Readonly<Record<MarketSymbol, CandleRecord>>;
}

/** Options of {@link createSyntheticFeed}. */
export interface SyntheticFeedOptions {
  readonly seed: number;
  readonly markets: readonly Market[];
  readonly clock: { now(): number };
  readonly candles: Pick<CandlesRepo, 'insertMany' | 'range'>;
  readonly windows: CandleSink;
  /** Closed candles to hold before now after `backfill()`. */
  readonly backfillBars: number;
  /** Called once per newly closed minute, in order, after it is stored and appended. */
  readonly onCandle?: (closed: ClosedMinute) => void | Promise<void>;
  /** Minutes generated and stored per database write while catching up (default 500). */
  readonly batchMinutes?: number;
}

/** A running synthetic feed. */
export interface SyntheticFeed {
  /**
   * Fills the database and the windows with the last `backfillBars` closed minutes before now:
   * rows the database already has are loaded as stored, the missing ones generated and stored.
   * Runs once; later calls do nothing.
   */
  backfill(): Promise<void>;
  /**
   * Emits every minute closed by now and not yet emitted, in order; returns how many. Before
   * `backfill()` it backfills instead and returns 0.
   */
  advance(): Promise<number>;
  /** Open time of the last minute backfilled or emitted, or null before `backfill()`. */
  lastOpenTime(): number | null;
  /** Last close per symbol. */
  prices(): Record<MarketSymbol, DecimalString>;
}

function toNumbers(c: CandleRecord): CandleNumbers {
  return {
    openTime: c.openTime,
    open: Number(c.open),
    high: Number(c.high),
    low: Number(c.low),
    close: Number(c.close),
    volume: Number(c.volume),
  };
}

/** Creates the synthetic feed; the runtime calls `backfill()` once, then `advance()` on a timer. */
export function createSyntheticFeed(opts: SyntheticFeedOptions): SyntheticFeed {
  const { seed, markets, clock, candles, windows, onCandle } = opts;
  const batchMinutes = Math.max(1, opts.batchMinutes ?? 500);
  if (!Number.isInteger(opts.backfillBars) || opts.backfillBars < 0)
    throw new Error(`backfillBars must be a non-negative integer: ${opts.backfillBars}`);

  /** Minute index of the last minute in the windows, or null before backfill. */
  let last: number | null = null;
  const closes: Record<MarketSymbol, DecimalString> = {};
  // advance() runs on a timer and may be called again while a write is still in flight.
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  /** Index of the newest minute whose close time (open + 1 min) is at or before now. */
  const lastClosedIndex = (): number => Math.floor(clock.now() / MINUTE_MS) - 1;

  function append(c: CandleRecord): void {
    windows.append(c.symbol, toNumbers(c));
    closes[c.symbol] = c.close;
  }

  async function doBackfill(): Promise<void> {
    if (last !== null) return; // the windows already hold the history
    const end = lastClosedIndex();
    const from = end - opts.backfillBars + 1;
    const perSymbol: CandleRecord[][] = [];
    const missing: CandleRecord[] = [];
    for (const market of markets) {
      const stored = opts.backfillBars === 0
        ? []
        : await candles.range(market.symbol, SYNTHETIC_TIMEFRAME, { until: end * MINUTE_MS, limit: opts.backfillBars });
      const have = new Map<number, CandleRecord>();
      for (const c of stored) if (c.openTime >= from * MINUTE_MS) have.set(c.openTime, c);
      const series: CandleRecord[] = [];
      for (let i = from; i <= end; i++) {
        const existing = have.get(i * MINUTE_MS);
        if (existing) {
          series.push(existing);
        } else {
          const c = syntheticCandle(seed, market, i);
          series.push(c);
          missing.push(c);
        }
      }
      perSymbol.push(series);
    }
    if (missing.length > 0) await candles.insertMany(missing);
    for (const series of perSymbol) for (const c of series) append(c);
    last = end;
  }

  async function doAdvance(): Promise<number> {
    if (last === null) {
      await doBackfill();
      return 0;
    }
    const end = lastClosedIndex();
    let emitted = 0;
    while (last < end) {
      const from = last + 1;
      const to = Math.min(end, last + batchMinutes);
      const minutes: ClosedMinute[] = [];
      const rows: CandleRecord[] = [];
      for (let i = from; i <= to; i++) {
        const byMarket: Record<MarketSymbol, CandleRecord> = {};
        for (const market of markets) {
          const c = syntheticCandle(seed, market, i);
          byMarket[market.symbol] = c;
          rows.push(c);
        }
        minutes.push({ openTime: i * MINUTE_MS, candles: byMarket });
      }
      await candles.insertMany(rows);
      for (const minute of minutes) {
        for (const market of markets) append(minute.candles[market.symbol]!);
        last = minute.openTime / MINUTE_MS;
        emitted++;
        // A failing listener propagates, but the minute stays emitted: it is stored and appended.
        if (onCandle) await onCandle(minute);
      }
    }
    return emitted;
  }

  return {
    backfill: () => serialize(doBackfill),
    advance: () => serialize(doAdvance),
    lastOpenTime: () => (last === null ? null : last * MINUTE_MS),
    prices: () => ({ ...closes }),
  };
}
