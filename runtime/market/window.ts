/**
 * Candle history resident in SharedArrayBuffers: the main thread appends, every strategy
 * worker maps the same memory once and reads windows without any copy crossing threads.
 *
 * Layout: per symbol a ring of `capacity + SPARE` rows of six float64 (openTime, open, high, low,
 * close, volume) and an Int32 counter of rows ever appended. The writer fills the row after the
 * newest, then publishes it with `Atomics.store` on the counter, so the last `capacity` published
 * rows are never being written. A reader loads the counter, copies, and re-loads it: only if the
 * writer appended more than SPARE - 1 rows meanwhile (it lapped a row the reader touched) does it
 * read again (a seqlock over the ring).
 */
import type { MarketSymbol } from '../domain.ts';

/** A candle field stored in the windows. */
export type WindowField = 'open' | 'high' | 'low' | 'close' | 'volume';

/** One candle as numbers, as the writer appends it. */
export interface WindowCandle {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** What crosses `postMessage`: the shared buffers and the symbol order. */
export interface CandleWindowsHandle {
  readonly symbols: readonly MarketSymbol[];
  readonly capacity: number;
  /** Int32 per symbol: rows ever appended. */
  readonly counts: SharedArrayBuffer;
  /** Float64 rows: symbols × (capacity + SPARE) × 6. */
  readonly rows: SharedArrayBuffer;
}

/** A window of values with the open times of its first and last candle. */
export interface WindowSpan {
  readonly values: Float64Array;
  /** Open time of the first value, or null when empty. */
  readonly from: number | null;
  /** Open time of the last value, or null when empty. */
  readonly to: number | null;
}

/** Read access to the windows, from any thread. */
export interface CandleWindowsReader {
  readonly symbols: readonly MarketSymbol[];
  readonly capacity: number;
  /** True when the symbol has a window. */
  has(symbol: MarketSymbol): boolean;
  /** Open time of the newest candle, or null when none. */
  latestOpenTime(symbol: MarketSymbol): number | null;
  /** The last `window` values of `field` with openTime ≤ `until` (all when omitted), oldest first. */
  read(symbol: MarketSymbol, field: WindowField, window: number, until?: number): Float64Array;
  /**
   * Like `read`, also giving the open times of the first and last value returned. `alloc` supplies
   * the array to fill (e.g. views carved from one arena, to spare an allocation per call).
   */
  readSpan(
    symbol: MarketSymbol,
    field: WindowField,
    window: number,
    until?: number,
    alloc?: (length: number) => Float64Array,
  ): WindowSpan;
}

/** The main thread's view: the reader plus the single writer. */
export interface CandleWindows extends CandleWindowsReader {
  /** Appends a candle; returns false (and ignores it) when its openTime is not newer than the last. */
  append(symbol: MarketSymbol, candle: WindowCandle): boolean;
  /** The postMessage-able handle for `attachCandleWindows`. */
  handle(): CandleWindowsHandle;
}

const STRIDE = 6;
/** Rows beyond `capacity` that let appends proceed during a read without invalidating it. */
const SPARE = 64;
const FIELD_OFFSET: Readonly<Record<WindowField, number>> = { open: 1, high: 2, low: 3, close: 4, volume: 5 };
const EMPTY = new Float64Array(0);
const MAX_READ_ATTEMPTS = 100;

/**
 * Allocates shared windows for `symbols`, each a ring of `capacity` candles; only the caller's
 * thread may append.
 */
export function createCandleWindows(opts: { symbols: readonly MarketSymbol[]; capacity: number }): CandleWindows {
  const { symbols, capacity } = opts;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  if (new Set(symbols).size !== symbols.length) throw new Error('symbols must be unique');
  const handle: CandleWindowsHandle = {
    symbols: [...symbols],
    capacity,
    counts: new SharedArrayBuffer(Math.max(1, symbols.length) * Int32Array.BYTES_PER_ELEMENT),
    rows: new SharedArrayBuffer(Math.max(1, symbols.length * (capacity + SPARE) * STRIDE) * Float64Array.BYTES_PER_ELEMENT),
  };
  const reader = attachCandleWindows(handle);
  const counts = new Int32Array(handle.counts);
  const rows = new Float64Array(handle.rows);
  const index = indexSymbols(handle.symbols);
  const slots = capacity + SPARE;

  return {
    ...reader,
    append(symbol, c) {
      const s = symbolIndex(index, symbol);
      const n = Atomics.load(counts, s);
      if (n > 0) {
        const last = rows[(s * slots + ((n - 1) % slots)) * STRIDE]!;
        if (!(c.openTime > last)) return false;
      }
      if (!Number.isFinite(c.openTime)) throw new RangeError(`openTime must be finite, got ${c.openTime}`);
      const at = (s * slots + (n % slots)) * STRIDE;
      rows[at] = c.openTime;
      rows[at + 1] = c.open;
      rows[at + 2] = c.high;
      rows[at + 3] = c.low;
      rows[at + 4] = c.close;
      rows[at + 5] = c.volume;
      Atomics.store(counts, s, n + 1);
      return true;
    },
    handle: () => handle,
  };
}

/** Maps a handle made by `createCandleWindows` (in a worker or anywhere) for reading. */
export function attachCandleWindows(handle: CandleWindowsHandle): CandleWindowsReader {
  const { capacity } = handle;
  const symbols = [...handle.symbols];
  const counts = new Int32Array(handle.counts);
  const rows = new Float64Array(handle.rows);
  const index = indexSymbols(symbols);
  const slots = capacity + SPARE;

  const openTimeAt = (s: number, i: number): number => rows[(s * slots + (i % slots)) * STRIDE]!;

  function readSpan(
    symbol: MarketSymbol,
    field: WindowField,
    window: number,
    until?: number,
    alloc?: (length: number) => Float64Array,
  ): WindowSpan {
    const s = symbolIndex(index, symbol);
    const offset = FIELD_OFFSET[field];
    if (offset === undefined) throw new Error(`unknown candle field ${String(field)}`);
    const want = Math.min(Math.floor(window), capacity);
    for (let attempt = 0; ; attempt++) {
      const n = Atomics.load(counts, s);
      const oldest = Math.max(0, n - capacity);
      // end: one past the newest row with openTime ≤ until (rows are sorted by openTime).
      let end = n;
      let lowest = n;
      if (until !== undefined && n > 0 && !(openTimeAt(s, n - 1) <= until)) {
        let lo = oldest;
        let hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          lowest = Math.min(lowest, mid);
          if (openTimeAt(s, mid) <= until) lo = mid + 1;
          else hi = mid;
        }
        end = lo;
      }
      const start = Math.max(oldest, end - Math.max(0, want));
      lowest = Math.min(lowest, start);
      const len = end - start;
      const values = len > 0 ? (alloc ? alloc(len) : new Float64Array(len)) : EMPTY;
      for (let k = 0; k < len; k++) values[k] = rows[(s * slots + ((start + k) % slots)) * STRIDE + offset]!;
      const from = len > 0 ? openTimeAt(s, start) : null;
      const to = len > 0 ? openTimeAt(s, end - 1) : null;
      // Row n2 may be being written over row n2 - slots; everything above it is intact.
      const n2 = Atomics.load(counts, s);
      if (lowest > n2 - slots) return { values, from, to };
      if (attempt >= MAX_READ_ATTEMPTS) throw new Error(`candle window of ${symbol} kept changing while being read`);
    }
  }

  return {
    symbols,
    capacity,
    has: (symbol) => index.has(symbol),
    latestOpenTime(symbol) {
      const s = symbolIndex(index, symbol);
      const n = Atomics.load(counts, s);
      // The newest published row is never the one being written, so one read is consistent.
      return n === 0 ? null : openTimeAt(s, n - 1);
    },
    read: (symbol, field, window, until) => readSpan(symbol, field, window, until).values,
    readSpan,
  };
}

function indexSymbols(symbols: readonly MarketSymbol[]): Map<MarketSymbol, number> {
  return new Map(symbols.map((s, i) => [s, i]));
}

function symbolIndex(index: ReadonlyMap<MarketSymbol, number>, symbol: MarketSymbol): number {
  const s = index.get(symbol);
  if (s === undefined) throw new Error(`unknown symbol ${symbol}`);
  return s;
}
