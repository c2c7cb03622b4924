/**
 * What every dialect of the double needs in the same shape: step decimals, header reads, HMAC
 * signatures, the position figures each venue reports in its own field names, and JSON bodies.
 */
import { createHmac } from 'node:crypto';
import type { Dec } from '../../../runtime/exchange/precision.ts';
import type { Books, DoubleAccount } from './books.ts';
import type { DoubleRequest } from './types.ts';

/** Decimals of a step such as `0.001` (3) or `1` (0). */
export function decimals(step: string): number {
  const i = step.indexOf('.');
  return i < 0 ? 0 : step.length - i - 1;
}

/** A request header (first value when repeated), or undefined. */
export function header(req: DoubleRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** HMAC-SHA256 of `payload` under `secret`, hex (Binance, Bybit) or base64 (OKX, Bitget). */
export function hmacSha256(secret: string, payload: string, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', secret).update(payload).digest(encoding);
}

/** A request body parsed as JSON, or undefined when it is empty or not JSON. */
export function jsonBody(req: DoubleRequest): unknown {
  if (req.rawBody.length === 0) return undefined;
  try {
    return JSON.parse(req.rawBody) as unknown;
  } catch {
    return undefined;
  }
}

/** One open position with the figures venues derive from it. */
export interface PositionView {
  readonly symbol: string;
  /** Signed base amount: negative is short. */
  readonly amount: Dec;
  readonly entry: Dec;
  readonly mark: Dec;
  readonly leverage: number;
  /** Initial margin at the entry price: |amount| × entry / leverage. */
  readonly margin: Dec;
  /** amount × (mark − entry). */
  readonly upnl: Dec;
  readonly isolated: boolean;
  readonly stopLoss: Dec | null;
  readonly takeProfit: Dec | null;
}

/** The account's open positions (of one symbol when given), marked at the last price. */
export function positionViews(books: Books, acc: DoubleAccount, symbol?: string): PositionView[] {
  return [...acc.positions]
    .filter(([sym]) => symbol === undefined || sym === symbol)
    .map(([sym, p]) => {
      const mark = books.priceOf(sym);
      const leverage = books.leverageOf(acc, sym);
      return {
        symbol: sym,
        amount: p.amount,
        entry: p.entry,
        mark,
        leverage,
        margin: p.amount.abs().mul(p.entry).div(leverage),
        upnl: p.amount.mul(mark.minus(p.entry)),
        isolated: (acc.marginMode.get(sym) ?? 'cross') === 'isolated',
        stopLoss: p.stopLoss,
        takeProfit: p.takeProfit,
      };
    });
}
