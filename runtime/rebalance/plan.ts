/**
 * The rebalance planner (pure): diffs current positions against target weights and returns
 * the orders that move the account to the targets, closes and reductions first.
 */
import { errorMessage, type DecimalString, type MarketSymbol, type TargetWeight, type TargetWeights } from '../domain.ts';
import type { Market, OrderSide, Position } from '../exchange/port.ts';
import { amountToPrecision, belowMinimum, dec, Dec, priceToPrecision } from '../exchange/precision.ts';

/** Default fraction of equity left free for fees and slippage. */
export const DEFAULT_RESERVE = 0.02;

/** Default minimum change, as a fraction of equity, worth trading. */
export const DEFAULT_THRESHOLD = 0.01;
/** Default number of orders sent per batch. */
export const DEFAULT_BATCH_SIZE = 5;

/** Everything `planRebalance` needs: the account, the targets and the markets. */
export interface PlanInput {
  /** Account equity (portfolio value). */
  readonly equity: DecimalString;
  readonly positions: readonly Position[];
  /** Weights in [-1, 1] of equity; negative is short. */
  readonly targets: TargetWeights;
  readonly prices: Readonly<Record<MarketSymbol, DecimalString>>;
  readonly markets: Readonly<Record<MarketSymbol, Market>>;
  /** Target notional = weight × equity × (1 − reserve) × leverage. */
  readonly leverage: number;
  /** Fraction of equity: a change smaller than threshold × equity is skipped (closes never are). Default 0.01. */
  readonly threshold?: number;
  /**
   * Fraction of equity kept free for fees and slippage, so a fully invested target still fits
   * the margin the venue requires. Default 0.02.
   */
  readonly reserve?: number;
  /** Orders per batch. Default 5. */
  readonly batchSize?: number;
  /** Decide every symbol with decimals only (no quick test with doubles); the result is the same. */
  readonly exactOnly?: boolean;
}

/** Why an order exists: it ends a position, shrinks it, starts one or grows one. */
export type PlannedOrderKind = 'close' | 'reduce' | 'open' | 'increase';

/** One order of a plan, already at the market's precision. */
export interface PlannedOrder {
  readonly symbol: MarketSymbol;
  readonly side: OrderSide;
  /** At the market's amount precision (a close carries the exact position amount). */
  readonly amount: DecimalString;
  readonly reduceOnly: boolean;
  readonly kind: PlannedOrderKind;
  /** The reference price the order was sized with. */
  readonly price: DecimalString;
  /** amount × price. */
  readonly notional: DecimalString;
  readonly currentWeight: number;
  readonly targetWeight: number;
  readonly stopLoss: DecimalString | null;
  readonly takeProfit: DecimalString | null;
}

/** A symbol the plan left alone, and why. */
export interface SkippedSymbol {
  readonly symbol: MarketSymbol;
  readonly reason: string;
  /** The amount that would have been ordered, when one was computed. */
  readonly amount?: DecimalString;
}

/** The orders of one rebalance, their batches and the symbols left alone. */
export interface RebalancePlan {
  /** Closes and reductions first, then opens and increases. */
  readonly orders: readonly PlannedOrder[];
  /** `orders` chunked by the batch size, in the same order. */
  readonly batches: readonly (readonly PlannedOrder[])[];
  readonly skipped: readonly SkippedSymbol[];
}

const KIND_RANK: Record<PlannedOrderKind, number> = { close: 0, reduce: 1, increase: 2, open: 2 };

/**
 * Plans the orders that move `positions` to `targets`; never throws on ordinary input, and
 * puts every symbol it cannot trade in `skipped` with a reason.
 * @example planRebalance({ equity: '1000', positions: [], targets: { BTCUSDT: { weight: 0.5 } }, prices, markets, leverage: 2 })
 */
export function planRebalance(input: PlanInput): RebalancePlan {
  const threshold = isNonNegative(input.threshold) ? input.threshold : DEFAULT_THRESHOLD;
  const reserve = isNonNegative(input.reserve) && input.reserve < 1 ? input.reserve : DEFAULT_RESERVE;
  const batchSize =
    typeof input.batchSize === 'number' && Number.isFinite(input.batchSize) && input.batchSize >= 1
      ? Math.floor(input.batchSize)
      : DEFAULT_BATCH_SIZE;

  const bySymbol = new Map<MarketSymbol, Position[]>();
  for (const p of input.positions) {
    const list = bySymbol.get(p.symbol);
    if (list) list.push(p);
    else bySymbol.set(p.symbol, [p]);
  }
  const symbols = [...new Set([...Object.keys(input.targets), ...bySymbol.keys()])].sort();

  const orders: PlannedOrder[] = [];
  const skipped: SkippedSymbol[] = [];

  const equity = parseDec(input.equity);
  const accountProblem =
    equity === null
      ? `equity ${String(input.equity)} is not a decimal number`
      : !(typeof input.leverage === 'number' && Number.isFinite(input.leverage) && input.leverage > 0)
        ? `leverage ${String(input.leverage)} is not a positive number`
        : null;
  if (accountProblem !== null || equity === null) {
    for (const symbol of symbols) skipped.push({ symbol, reason: accountProblem ?? 'equity is unknown' });
    return { orders, batches: [], skipped };
  }

  // A negative equity cannot carry positions: every target notional becomes zero.
  const base = Dec.max(equity, 0);
  const sized = base.mul(1 - reserve).mul(input.leverage);
  const minChange = base.mul(threshold);
  const account: Account = {
    sized,
    minChange,
    sizedF: sized.toNumber(),
    minChangeF: input.exactOnly === true ? 0 : minChange.toNumber(),
    minChangeText: minChange.toFixed(2),
  };

  for (const symbol of symbols) {
    try {
      planSymbol(symbol, input, account, bySymbol.get(symbol) ?? [], orders, skipped);
    } catch (err) {
      skipped.push({ symbol, reason: `${symbol} could not be planned: ${errorMessage(err)}` });
    }
  }

  // Stable sort: inside a rank, symbols stay in alphabetical order.
  orders.sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind]);
  const batches: PlannedOrder[][] = [];
  for (let i = 0; i < orders.length; i += batchSize) batches.push(orders.slice(i, i + batchSize));
  return { orders, batches, skipped };
}

interface Account {
  /** equity × (1 − reserve) × leverage: the notional of a weight of 1. */
  readonly sized: Dec;
  /** threshold × equity. */
  readonly minChange: Dec;
  /** The same as doubles, for the quick test of a change far under the threshold. */
  readonly sizedF: number;
  readonly minChangeF: number;
  readonly minChangeText: string;
}

/**
 * Most symbols of a steady fleet move far less than the threshold each cycle: tell those apart
 * with doubles (no Decimal work) and answer the same skip the exact path would. Only a change
 * clearly under the threshold (under 90 % of it, and clearly not zero) takes this path; anything
 * near a boundary is decided exactly.
 */
function clearlyUnderThreshold(weight: number, positions: readonly Position[], price: number, account: Account): number | null {
  if (!(account.minChangeF > 0) || !Number.isFinite(price)) return null;
  let current = 0;
  for (const p of positions) {
    const a = Math.abs(Number(p.amount));
    if (!Number.isFinite(a)) return null;
    current += p.side === 'long' ? a : -a;
  }
  const delta = Math.abs(weight * account.sizedF - current * price);
  const scale = Math.max(1, Math.abs(weight * account.sizedF), Math.abs(current * price));
  if (!(delta > scale * 1e-9) || !(delta < 0.9 * account.minChangeF)) return null;
  return delta;
}

function planSymbol(
  symbol: MarketSymbol,
  input: PlanInput,
  account: Account,
  positions: readonly Position[],
  orders: PlannedOrder[],
  skipped: SkippedSymbol[],
): void {
  const target: TargetWeight | undefined = input.targets[symbol];
  const weight = target === undefined ? 0 : target.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || Math.abs(weight) > 1) {
    skipped.push({ symbol, reason: `target weight ${String(weight)} is not a number in [-1, 1]` });
    return;
  }

  let current = new Dec(0);
  for (const p of positions) {
    const amount = dec(p.amount).abs();
    if (p.side === 'long') current = current.plus(amount);
    else if (p.side === 'short') current = current.minus(amount);
    else throw new Error(`position side ${String(p.side)} is neither long nor short`);
  }
  if (current.isZero() && weight === 0) return;

  const market = input.markets[symbol];
  if (market === undefined) {
    skipped.push({ symbol, reason: `unknown market ${symbol}` });
    return;
  }
  const priceText = input.prices[symbol];
  const price = priceText === undefined ? null : parseDec(priceText);
  if (priceText === undefined || price === null || price.lte(0)) {
    skipped.push({
      symbol,
      reason: priceText === undefined ? `no price for ${symbol}` : `price ${String(priceText)} for ${symbol} is not a positive decimal`,
    });
    return;
  }

  if (weight !== 0) {
    const quick = clearlyUnderThreshold(weight, positions, Number(priceText), account);
    if (quick !== null) {
      skipped.push({ symbol, reason: `change ${quick.toFixed(2)} is under the threshold ${account.minChangeText}` });
      return;
    }
  }

  const targetNotional = dec(weight).mul(account.sized);
  const currentNotional = current.mul(price);
  const delta = targetNotional.minus(currentNotional);
  const currentWeight = account.sized.gt(0) ? currentNotional.div(account.sized).toNumber() : 0;

  const order = (kind: PlannedOrderKind, side: OrderSide, amount: DecimalString): PlannedOrder => {
    const keepsPosition = kind !== 'close';
    return {
      symbol,
      side,
      amount,
      reduceOnly: kind === 'close' || kind === 'reduce',
      kind,
      price: priceText,
      notional: dec(amount).mul(price).toFixed(),
      currentWeight,
      targetWeight: weight,
      stopLoss: keepsPosition ? protective(market, target?.stopLoss) : null,
      takeProfit: keepsPosition ? protective(market, target?.takeProfit) : null,
    };
  };
  // A close sends the exact position amount, so no dust is left behind.
  const close = () => order('close', current.isPositive() ? 'sell' : 'buy', current.abs().toFixed());
  const sideOf = (sign: number): OrderSide => (sign > 0 ? 'buy' : 'sell');

  if (weight === 0) {
    orders.push(close());
    return;
  }
  if (delta.isZero()) return;
  if (delta.abs().lt(account.minChange)) {
    skipped.push({
      symbol,
      reason: `change ${delta.abs().toFixed(2)} is under the threshold ${account.minChangeText}`,
    });
    return;
  }

  const targetSign = Math.sign(weight);
  if (!current.isZero() && current.s !== targetSign) {
    // A side flip: close everything reduce-only, then open the other side from flat.
    orders.push(close());
    const amount = amountToPrecision(market, targetNotional.abs().div(price));
    const why = belowMinimum(market, amount, price);
    if (why !== null) skipped.push({ symbol, reason: why, amount });
    else orders.push(order('open', sideOf(targetSign), amount));
    return;
  }

  const amount = amountToPrecision(market, delta.abs().div(price));
  if (current.isZero() || delta.s === targetSign) {
    const why = belowMinimum(market, amount, price);
    if (why !== null) skipped.push({ symbol, reason: why, amount });
    else orders.push(order(current.isZero() ? 'open' : 'increase', sideOf(targetSign), amount));
    return;
  }

  const remainder = current.abs().minus(amount);
  if (remainder.lte(0) || belowMinimum(market, remainder, price) !== null) {
    orders.push(close());
    return;
  }
  const why = belowMinimum(market, amount, price);
  if (why !== null) skipped.push({ symbol, reason: why, amount });
  else orders.push(order('reduce', sideOf(-targetSign), amount));
}

function protective(market: Market, price: number | undefined): DecimalString | null {
  if (typeof price !== 'number' || !Number.isFinite(price) || price <= 0) return null;
  const rounded = priceToPrecision(market, price);
  return dec(rounded).gt(0) ? rounded : null;
}

function parseDec(x: unknown): Dec | null {
  if (typeof x !== 'string' && typeof x !== 'number') return null;
  try {
    return dec(x);
  } catch {
    return null;
  }
}

function isNonNegative(x: number | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}
