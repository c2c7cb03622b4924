/**
 * Pre-trade risk checks (pure). A failed check is a value with an exact reason, never an
 * exception; orders that only reduce risk (closes, reductions) are never blocked.
 */
import type { DecimalString } from '../domain.ts';
import type { Position } from '../exchange/port.ts';
import { dec, type Dec } from '../exchange/precision.ts';
import type { PlannedOrder, RebalancePlan } from '../rebalance/index.ts';
import type { RiskLimits } from '../store/types.ts';

/** The platform's limits, used wherever no layer sets a value. */
export const DEFAULT_LIMITS: Required<RiskLimits> = Object.freeze({
  maxOpenPositions: 10,
  maxLeverage: 10,
  maxOrderNotional: 1_000_000,
  dailyLossLimit: 0.1,
});

/** The names of the pre-trade checks. */
export type RiskCheck = 'maxOpenPositions' | 'maxLeverage' | 'maxOrderNotional' | 'dailyLossLimit';

/** The facts the checks look at. */
export interface RiskContext {
  readonly limits: Required<RiskLimits>;
  /** The trader's configured leverage. */
  readonly leverage: number;
  readonly positions: readonly Position[];
  readonly equity: DecimalString;
  /** Equity when the trader's day began (the daily loss basis). */
  readonly dayStartEquity: DecimalString;
}

/** The verdict on one order. */
export type RiskDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly check: RiskCheck; readonly reason: string };

/** One reviewed order of a plan (the same object the plan holds) and its verdict. */
export interface ReviewedOrder {
  readonly order: PlannedOrder;
  readonly decision: RiskDecision;
}

const ALLOWED: RiskDecision = Object.freeze({ allowed: true as const });

/**
 * Merges limit layers over `DEFAULT_LIMITS`; a later layer wins, and a missing, non-finite
 * or negative value is ignored.
 * @example resolveLimits(platformLimits, managerLimits, trader.riskLimits)
 */
export function resolveLimits(...layers: (RiskLimits | undefined)[]): Required<RiskLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of Object.keys(DEFAULT_LIMITS) as (keyof RiskLimits)[]) {
      const v = layer[key];
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[key] = v;
    }
  }
  return out;
}

/**
 * Checks one order; `openAfter` is the number of open positions once it has filled.
 * Reduce-only orders are always allowed.
 */
export function checkOrder(order: PlannedOrder, ctx: RiskContext, openAfter: number): RiskDecision {
  if (order.reduceOnly || order.kind === 'close' || order.kind === 'reduce') return ALLOWED;
  const { limits } = ctx;

  const dayStart = parseDec(ctx.dayStartEquity);
  const equity = parseDec(ctx.equity);
  if (equity === null || dayStart === null) {
    const bad = equity === null ? `equity ${String(ctx.equity)}` : `day-start equity ${String(ctx.dayStartEquity)}`;
    return deny('dailyLossLimit', `the daily loss cannot be checked: ${bad} is not a decimal number`);
  }
  if (dayStart.gt(0)) {
    const loss = dayStart.minus(equity).div(dayStart).toNumber();
    if (loss >= limits.dailyLossLimit) {
      return deny('dailyLossLimit', `daily loss ${percent(loss)} reached the limit ${percent(limits.dailyLossLimit)}`);
    }
  }

  if (!(ctx.leverage <= limits.maxLeverage)) {
    return deny('maxLeverage', `leverage ${String(ctx.leverage)} exceeds the limit ${limits.maxLeverage}`);
  }

  const notional = parseDec(order.notional);
  if (notional === null) {
    return deny('maxOrderNotional', `order notional ${String(order.notional)} is not a decimal number`);
  }
  if (notional.gt(limits.maxOrderNotional)) {
    return deny('maxOrderNotional', `order notional ${notional.toFixed(2)} exceeds the limit ${limits.maxOrderNotional}`);
  }

  if (order.kind === 'open' && openAfter > limits.maxOpenPositions) {
    return deny(
      'maxOpenPositions',
      `opening ${order.symbol} would make ${openAfter} open positions, over the limit ${limits.maxOpenPositions}`,
    );
  }
  return ALLOWED;
}

/**
 * Reviews a plan's orders in sequence, counting open positions as the approved closes and
 * opens change them; returns the plan's own order objects with their verdicts.
 */
export function reviewPlan(plan: RebalancePlan, ctx: RiskContext): ReviewedOrder[] {
  const open = new Set<string>();
  for (const p of ctx.positions) {
    const amount = parseDec(p.amount);
    if (amount === null || !amount.isZero()) open.add(p.symbol);
  }
  return plan.orders.map((order) => {
    const opens = order.kind === 'open' && !open.has(order.symbol);
    const decision = checkOrder(order, ctx, open.size + (opens ? 1 : 0));
    if (decision.allowed) {
      if (order.kind === 'close') open.delete(order.symbol);
      else if (order.kind === 'open') open.add(order.symbol);
    }
    return { order, decision };
  });
}

function deny(check: RiskCheck, reason: string): RiskDecision {
  return { allowed: false, check, reason };
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

function parseDec(x: unknown): Dec | null {
  if (typeof x !== 'string' && typeof x !== 'number') return null;
  try {
    return dec(x);
  } catch {
    return null;
  }
}
