/**
 * Runtime-managed exits (pure, no I/O), for venues that cannot attach a stop-loss or a
 * take-profit to the entry order. The protective levels live in the order records (the
 * executor keeps them there even when the venue request omits them); each cycle the runtime
 * reads them back with {@link exitLevelsFromOrders} and checks the candles since the last cycle
 * with {@link triggeredExits}. A triggered position is closed by the next rebalance.
 *
 * The semantics follow the paper venue's native stops: a long's stop-loss fires when the low
 * reaches it and its take-profit when the high does (a short mirrored), and when one candle
 * meets both, the stop-loss wins, because the path inside a candle is unknown and assuming the
 * adverse level came first is the conservative reading.
 */
import type { DecimalString, MarketSymbol } from '../domain.ts';
import type { OrderSide, Position, PositionSide } from '../exchange/port.ts';
import { dec, type Dec } from '../exchange/precision.ts';
import type { OrderRecord } from '../store/types.ts';

/** The protective levels of one symbol's position, as the runtime's orders set them. */
export interface ExitLevel {
  /** The side of the position the levels protect. */
  readonly side: PositionSide;
  readonly stopLoss: DecimalString | null;
  readonly takeProfit: DecimalString | null;
  /** `createdAt` of the order that last set a level. */
  readonly since: number;
  /** Client order id of the order that last set a level. */
  readonly clientOrderId: string;
}

/** The price range of the candles since the last check of one symbol. */
export interface PriceRange {
  readonly high: DecimalString;
  readonly low: DecimalString;
  readonly close: DecimalString;
}

/** Which protective level a candle range met. */
export type ExitTrigger = 'stopLoss' | 'takeProfit';

/** One position whose protective level was met. */
export interface TriggeredExit {
  readonly symbol: MarketSymbol;
  readonly trigger: ExitTrigger;
  /** The level that was met (the stop-loss or take-profit price). */
  readonly level: DecimalString;
  /** The side of the position to close. */
  readonly side: PositionSide;
}

/** What a cycle needs to manage exits itself: the levels per symbol and the candle ranges. */
export interface ManagedExits {
  readonly levels: Readonly<Record<MarketSymbol, ExitLevel>>;
  readonly ranges: Readonly<Record<MarketSymbol, PriceRange>>;
}

/** The position the orders built, as far as they show it. */
interface Tracked {
  side: PositionSide;
  /** Filled amount on `side`; null when the orders never showed how the position was opened. */
  amount: Dec | null;
  stopLoss: DecimalString | null;
  takeProfit: DecimalString | null;
  since: number;
  clientOrderId: string;
}

const directionOf = (side: OrderSide): PositionSide => (side === 'buy' ? 'long' : 'short');
const opposite = (side: PositionSide): PositionSide => (side === 'long' ? 'short' : 'long');

/**
 * The protective levels in force per symbol, read from a trader's order records.
 *
 * The rule, per symbol, orders taken oldest first (`createdAt`; at equal times reduce-only
 * orders first, as a plan sends them, then input order):
 * - Only orders that filled something count (`filled > 0`, whatever the status: a partly
 *   filled order still moved the position). Pending, rejected, failed and unfilled orders are
 *   ignored.
 * - The filled amounts are netted into the position the orders built (buy → long, sell → short).
 * - An order that opens a position from flat starts it with the order's own levels only (none
 *   when it carries none); an order that takes a position past flat to the other side (a flip)
 *   does the same for the new side.
 * - An order that grows or shrinks the position without closing it (an increase, or a
 *   reduction) keeps the levels, except that a level it carries replaces the earlier one (per
 *   level, as the paper venue does: an order with only a stop-loss keeps the take-profit).
 * - An order that brings the position to flat (a reduce-only close, a managed exit) clears the
 *   levels.
 * - A reduce-only order seen before any opening order (the history starts mid-position)
 *   protects the remaining position, on the side it reduces, with the levels it carries; the
 *   amount of that position is unknown, so the next reduce-only order without levels and any
 *   non-reduce-only order against it end it.
 * A symbol appears in the result only when its position is open and a stop-loss or take-profit
 * is in force; `side` is the position's side, `since`/`clientOrderId` name the order that last
 * set a level. A position closed outside these orders (a liquidation, a manual close on the
 * venue) is invisible here: `triggeredExits` only acts when the venue's position has the
 * level's side.
 */
export function exitLevelsFromOrders(orders: readonly OrderRecord[]): Record<MarketSymbol, ExitLevel> {
  const counted = orders
    .map((o, i) => ({ o, i, filled: filledOf(o) }))
    .filter((x): x is { o: OrderRecord; i: number; filled: Dec } => x.filled !== null)
    .sort((a, b) => a.o.createdAt - b.o.createdAt || Number(b.o.reduceOnly === true) - Number(a.o.reduceOnly === true) || a.i - b.i);

  const state = new Map<MarketSymbol, Tracked | null>();
  for (const { o, filled } of counted) state.set(o.symbol, apply(state.get(o.symbol) ?? null, o, filled));

  const out: Record<MarketSymbol, ExitLevel> = {};
  for (const [symbol, t] of state) {
    // A tracked position always has a positive (or unknown) amount: flat is null.
    if (t === null || (t.stopLoss === null && t.takeProfit === null)) continue;
    out[symbol] = { side: t.side, stopLoss: t.stopLoss, takeProfit: t.takeProfit, since: t.since, clientOrderId: t.clientOrderId };
  }
  return out;
}

function apply(t: Tracked | null, o: OrderRecord, filled: Dec): Tracked | null {
  const dir = directionOf(o.side);
  const reduceOnly = o.reduceOnly === true;
  const sl = levelOf(o.stopLoss);
  const tp = levelOf(o.takeProfit);
  const fresh = (side: PositionSide, amount: Dec | null): Tracked => ({
    side,
    amount,
    stopLoss: sl,
    takeProfit: tp,
    since: o.createdAt,
    clientOrderId: o.clientOrderId,
  });

  if (t === null) {
    // A reduce-only order cannot open: the position predates the orders we see.
    return reduceOnly ? (sl !== null || tp !== null ? fresh(opposite(dir), null) : null) : fresh(dir, filled);
  }
  if (dir === t.side) {
    // An increase (a reduce-only order in the position's own direction does nothing on a venue).
    if (reduceOnly) return t;
    return merge({ ...t, amount: t.amount === null ? null : t.amount.plus(filled) }, o, sl, tp);
  }
  // Against the position.
  if (t.amount === null) {
    if (reduceOnly) return sl !== null || tp !== null ? merge(t, o, sl, tp) : null;
    return fresh(dir, null);
  }
  const left = t.amount.minus(filled);
  if (left.gt(0)) return merge({ ...t, amount: left }, o, sl, tp);
  if (left.isZero() || reduceOnly) return null;
  return fresh(dir, left.neg());
}

function merge(t: Tracked, o: OrderRecord, sl: DecimalString | null, tp: DecimalString | null): Tracked {
  if (sl === null && tp === null) return t;
  return {
    ...t,
    stopLoss: sl ?? t.stopLoss,
    takeProfit: tp ?? t.takeProfit,
    since: o.createdAt,
    clientOrderId: o.clientOrderId,
  };
}

/** The filled amount of a record when it is a positive decimal, else null (the order does not count). */
function filledOf(o: OrderRecord): Dec | null {
  if (o.side !== 'buy' && o.side !== 'sell') return null;
  const d = parse(o.filled);
  return d !== null && d.gt(0) ? d : null;
}

function levelOf(x: DecimalString | undefined): DecimalString | null {
  const d = parse(x);
  return d !== null && d.gt(0) ? (x as DecimalString) : null;
}

function parse(x: unknown): Dec | null {
  if (typeof x !== 'string' || x.trim() === '') return null;
  try {
    return dec(x);
  } catch {
    return null;
  }
}

/**
 * The open positions whose protective level the candle range met. A position is checked only
 * when a level of its own side is in force and a range exists for its symbol (no candle since
 * the last check, nothing to check). Long: the stop-loss is met when low ≤ stop-loss, the
 * take-profit when high ≥ take-profit; short: high ≥ stop-loss, low ≤ take-profit. When one range
 * meets both, the stop-loss wins (the conservative reading of an unknown path). One exit per
 * symbol at most, in symbol order; unparsable prices are not checked.
 */
export function triggeredExits(
  positions: readonly Position[],
  levels: Readonly<Record<MarketSymbol, ExitLevel>>,
  ranges: Readonly<Record<MarketSymbol, PriceRange>>,
): TriggeredExit[] {
  const out = new Map<MarketSymbol, TriggeredExit>();
  for (const p of positions) {
    if (out.has(p.symbol)) continue;
    const level = Object.hasOwn(levels, p.symbol) ? levels[p.symbol] : undefined;
    const range = Object.hasOwn(ranges, p.symbol) ? ranges[p.symbol] : undefined;
    if (level === undefined || range === undefined || level.side !== p.side) continue;
    const amount = parse(p.amount);
    if (amount === null || amount.isZero()) continue;
    const high = parse(range.high);
    const low = parse(range.low);
    if (high === null || low === null) continue;
    const sl = parse(level.stopLoss);
    const tp = parse(level.takeProfit);
    const long = p.side === 'long';
    const slHit = sl !== null && sl.gt(0) && (long ? low.lte(sl) : high.gte(sl));
    const tpHit = tp !== null && tp.gt(0) && (long ? high.gte(tp) : low.lte(tp));
    if (slHit) out.set(p.symbol, { symbol: p.symbol, trigger: 'stopLoss', level: level.stopLoss as DecimalString, side: p.side });
    else if (tpHit) out.set(p.symbol, { symbol: p.symbol, trigger: 'takeProfit', level: level.takeProfit as DecimalString, side: p.side });
  }
  return [...out.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}
