/**
 * The one place where amounts and prices are rounded to a market's precision.
 * Amounts truncate toward zero to the step (never buy more than asked); prices round to the
 * nearest tick.
 */
import { Decimal } from 'decimal.js';
import type { DecimalString } from '../domain.ts';
import type { Market } from './port.ts';

/** A decimal.js constructor with enough precision for any venue's numbers. */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type Dec = InstanceType<typeof Dec>;

/** Parses a decimal string or number into a `Dec`; throws on NaN/∞. */
export function dec(x: Decimal.Value): Dec {
  const d = new Dec(x);
  if (!d.isFinite()) throw new Error(`not a finite decimal: ${String(x)}`);
  return d;
}

/** Truncates an amount toward zero to the market's amount step. */
export function amountToPrecision(market: Pick<Market, 'amountStep'>, amount: Decimal.Value): DecimalString {
  const step = dec(market.amountStep);
  const a = dec(amount);
  const steps = a.div(step).toDecimalPlaces(0, Decimal.ROUND_DOWN);
  return steps.mul(step).toFixed(step.decimalPlaces());
}

/** Rounds a price to the nearest tick of the market. */
export function priceToPrecision(market: Pick<Market, 'priceTick'>, price: Decimal.Value): DecimalString {
  const tick = dec(market.priceTick);
  const p = dec(price);
  const ticks = p.div(tick).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  return ticks.mul(tick).toFixed(tick.decimalPlaces());
}

/**
 * Why an order of this amount at this price cannot be placed on the market, or null when
 * it meets the minimums.
 */
export function belowMinimum(
  market: Pick<Market, 'minAmount' | 'minCost' | 'symbol'>,
  amount: Decimal.Value,
  price: Decimal.Value,
): string | null {
  const a = dec(amount);
  if (a.lte(0)) return `amount rounds to zero at ${market.symbol}'s precision`;
  if (a.lt(market.minAmount)) return `amount ${a.toString()} is under ${market.symbol}'s minimum ${market.minAmount}`;
  const cost = a.mul(price);
  if (cost.lt(market.minCost))
    return `notional ${cost.toDecimalPlaces(4).toString()} is under ${market.symbol}'s minimum ${market.minCost}`;
  return null;
}
