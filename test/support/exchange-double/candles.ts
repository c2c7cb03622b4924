/**
 * The double's 1-minute candles: a source function per (symbol, open time) and the range query
 * both dialects share. Like a real venue, the candle still forming at `now` is included.
 */

/** One candle as the double serves it. */
export interface DoubleCandle {
  readonly openTime: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
}

/** The candle of a symbol opening at `openTime`, or null where the venue has none (a gap). */
export type CandleSource = (symbol: string, openTime: number) => Omit<DoubleCandle, 'openTime'> | null;

const MINUTE = 60_000;
/** Minutes scanned at most per query (gaps included). */
const SCAN_LIMIT = 200_000;

/**
 * Candles of one symbol with open times in [start, end] (end defaults to now, never beyond),
 * ascending: the first `limit` from `start` when `fromStart`, else the last `limit` up to `end`.
 */
export function candlesBetween(
  src: CandleSource,
  symbol: string,
  q: { start: number | undefined; end: number | undefined; limit: number; now: number; fromStart: boolean },
): DoubleCandle[] {
  const hiIdx = Math.floor(Math.min(q.end ?? q.now, q.now) / MINUTE);
  const loIdx = q.start === undefined ? hiIdx - SCAN_LIMIT : Math.ceil(q.start / MINUTE);
  const out: DoubleCandle[] = [];
  if (q.fromStart) {
    for (let i = loIdx; i <= hiIdx && out.length < q.limit && i - loIdx < SCAN_LIMIT; i++) {
      const c = src(symbol, i * MINUTE);
      if (c) out.push({ openTime: i * MINUTE, ...c });
    }
    return out;
  }
  for (let i = hiIdx; i >= loIdx && out.length < q.limit && hiIdx - i < SCAN_LIMIT; i--) {
    const c = src(symbol, i * MINUTE);
    if (c) out.push({ openTime: i * MINUTE, ...c });
  }
  return out.reverse();
}
