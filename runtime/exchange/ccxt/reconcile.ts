/**
 * Reconciliation: the venue's positions and open orders against what the platform's order
 * records imply. Pure comparison plus a thin async wrapper that reads the account. Each
 * difference proposes an action: `adopt` (take the venue's as truth and update the platform)
 * or `flag` (an operator must decide: exposure or orders the platform did not create).
 */
import type { DecimalString, MarketSymbol } from '../../domain.ts';
import type { OrderRecord } from '../../store/types.ts';
import type { Exchange, Order, OrderSide, Position } from '../port.ts';
import { dec, type Dec } from '../precision.ts';

/** An order the platform believes is live on the venue. */
export interface ExpectedOrder {
  readonly clientOrderId: string;
  readonly symbol: MarketSymbol;
  readonly side: OrderSide;
  readonly amount: DecimalString;
}

/** What the platform expects to find on the account. */
export interface ExpectedState {
  /** Net filled amount per symbol, signed (+ long, − short); absent or 0 means flat. */
  readonly positions: Readonly<Record<MarketSymbol, DecimalString>>;
  /** Orders the platform recorded as open. */
  readonly openOrders: readonly ExpectedOrder[];
  /** Orders recorded but never acknowledged: found open on the venue they match, absent they are no difference. */
  readonly pendingOrders?: readonly ExpectedOrder[];
}

/** What the venue reports. */
export interface VenueState {
  readonly positions: readonly Position[];
  readonly openOrders: readonly Order[];
}

/** What to do about a difference. */
export type ReconcileAction = 'adopt' | 'flag';

/** Something that agrees. */
export type ReconcileMatch =
  | { readonly kind: 'position'; readonly symbol: MarketSymbol; readonly amount: DecimalString }
  | { readonly kind: 'order'; readonly symbol: MarketSymbol; readonly clientOrderId: string };

/** Something that differs, with the proposed action and why. */
export type ReconcileDifference =
  | {
      readonly kind: 'position.mismatch';
      readonly symbol: MarketSymbol;
      /** Signed amounts (+ long, − short, 0 flat). */
      readonly expected: DecimalString;
      readonly actual: DecimalString;
      readonly action: ReconcileAction;
      readonly message: string;
    }
  | {
      readonly kind: 'order.unknown';
      readonly symbol: MarketSymbol;
      readonly clientOrderId: string;
      readonly orderId: string;
      readonly action: ReconcileAction;
      readonly message: string;
    }
  | {
      readonly kind: 'order.missing';
      readonly symbol: MarketSymbol;
      readonly clientOrderId: string;
      readonly action: ReconcileAction;
      readonly message: string;
    };

/** The outcome of one reconciliation. */
export interface ReconcileReport {
  readonly ok: boolean;
  readonly matches: readonly ReconcileMatch[];
  readonly differences: readonly ReconcileDifference[];
}

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** Amount steps per symbol: a difference under half a step is a match. */
  readonly amountSteps?: Readonly<Record<MarketSymbol, DecimalString>>;
  /** Recognises the platform's client order ids (default: `p` + 31 base62, see `clientId.ts`). */
  readonly isPlatformId?: (clientOrderId: string) => boolean;
}

const PLATFORM_ID = /^p[0-9A-Za-z]{31}$/;

const fmt = (d: Dec): string => (d.isZero() ? '0' : d.toFixed());

/** `long 0.01`, `short 2`, or `no position`. */
function describe(signed: Dec): string {
  if (signed.isZero()) return 'no position';
  return `${signed.isNeg() ? 'short' : 'long'} ${fmt(signed.abs())}`;
}

/**
 * Compares the venue with the expectation. Positions: a venue position reduced or closed on the
 * same side is adopted (a stop, a take-profit, a liquidation or a manual close happened there);
 * a larger one, a flipped one or one the platform never opened is flagged. Orders: a venue order
 * the platform does not know is flagged, unless it carries a platform client id (it was recorded
 * as failed or pending but did reach the venue: adopted); a platform order no longer open on the
 * venue is adopted (it filled or was canceled there: look it up by client id).
 */
export function reconcile(expected: ExpectedState, venue: VenueState, opts: ReconcileOptions = {}): ReconcileReport {
  const isPlatformId = opts.isPlatformId ?? ((id: string) => PLATFORM_ID.test(id));
  const matches: ReconcileMatch[] = [];
  const differences: ReconcileDifference[] = [];

  const actual = new Map<MarketSymbol, Dec>();
  for (const p of venue.positions) {
    const signed = dec(p.amount).mul(p.side === 'short' ? -1 : 1);
    actual.set(p.symbol, (actual.get(p.symbol) ?? dec(0)).plus(signed));
  }
  const symbols = [...new Set([...Object.keys(expected.positions), ...actual.keys()])].sort();
  for (const symbol of symbols) {
    const exp = dec(expected.positions[symbol] ?? '0');
    const act = actual.get(symbol) ?? dec(0);
    const step = opts.amountSteps?.[symbol];
    const tolerance = step ? dec(step).div(2) : dec(0);
    if (act.minus(exp).abs().lte(tolerance)) {
      if (!exp.isZero() || !act.isZero()) matches.push({ kind: 'position', symbol, amount: fmt(act) });
      continue;
    }
    const sameSide = !exp.isZero() && (act.isZero() || act.isNeg() === exp.isNeg());
    const reduced = sameSide && act.abs().lt(exp.abs());
    const action: ReconcileAction = reduced ? 'adopt' : 'flag';
    const why = reduced
      ? 'reduced or closed on the venue (stop, liquidation or manual close): adopt the venue position'
      : 'exposure the platform did not create: an operator must decide';
    differences.push({
      kind: 'position.mismatch',
      symbol,
      expected: fmt(exp),
      actual: fmt(act),
      action,
      message: `${symbol}: the venue holds ${describe(act)}, the platform expects ${describe(exp)}; ${why}`,
    });
  }

  const venueOpen = new Map<string, Order>();
  for (const o of venue.openOrders) venueOpen.set(o.clientOrderId || `#${o.id}`, o);
  const pending = new Set((expected.pendingOrders ?? []).map((o) => o.clientOrderId));
  for (const e of expected.openOrders) {
    if (venueOpen.has(e.clientOrderId)) {
      matches.push({ kind: 'order', symbol: e.symbol, clientOrderId: e.clientOrderId });
      venueOpen.delete(e.clientOrderId);
      continue;
    }
    differences.push({
      kind: 'order.missing',
      symbol: e.symbol,
      clientOrderId: e.clientOrderId,
      action: 'adopt',
      message: `${e.symbol}: order ${e.clientOrderId} (${e.side} ${e.amount}) is open on the platform but not on the venue; it filled or was canceled there: adopt the venue's status`,
    });
  }
  for (const [key, o] of venueOpen) {
    if (pending.has(key)) {
      matches.push({ kind: 'order', symbol: o.symbol, clientOrderId: key });
      continue;
    }
    const ours = o.clientOrderId !== '' && isPlatformId(o.clientOrderId);
    const ref = o.clientOrderId || `id ${o.id}`;
    differences.push({
      kind: 'order.unknown',
      symbol: o.symbol,
      clientOrderId: o.clientOrderId,
      orderId: o.id,
      action: ours ? 'adopt' : 'flag',
      message: ours
        ? `${o.symbol}: open order ${ref} (${o.side} ${o.amount}) on the venue carries a platform client id the platform does not hold as open; adopt it`
        : `${o.symbol}: open order ${ref} (${o.side} ${o.amount}) on the venue was placed outside the platform; an operator must decide`,
    });
  }
  return { ok: differences.length === 0, matches, differences };
}

/**
 * The expectation implied by order records: net filled amount per symbol (buys +, sells −) and
 * the orders still recorded as open or pending.
 */
export function expectedFromOrders(records: readonly OrderRecord[]): ExpectedState {
  const net = new Map<MarketSymbol, Dec>();
  const open: ExpectedOrder[] = [];
  const pending: ExpectedOrder[] = [];
  for (const r of records) {
    const filled = dec(r.filled);
    if (!filled.isZero()) net.set(r.symbol, (net.get(r.symbol) ?? dec(0)).plus(r.side === 'buy' ? filled : filled.neg()));
    const e = { clientOrderId: r.clientOrderId, symbol: r.symbol, side: r.side, amount: r.amount };
    if (r.status === 'open') open.push(e);
    else if (r.status === 'pending') pending.push(e);
  }
  const positions: Record<MarketSymbol, DecimalString> = {};
  for (const [symbol, d] of net) positions[symbol] = fmt(d);
  return { positions, openOrders: open, pendingOrders: pending };
}

/** Reads the account's positions and open orders and reconciles them with the expectation. */
export async function reconcileAccount(exchange: Exchange, expected: ExpectedState, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const [positions, openOrders] = await Promise.all([exchange.fetchPositions(), exchange.fetchOpenOrders()]);
  return reconcile(expected, { positions, openOrders }, opts);
}

/** Signed amount of a position, for callers adopting the venue's. */
export function signedAmount(p: Pick<Position, 'side' | 'amount'>): DecimalString {
  return fmt(dec(p.amount).mul(p.side === 'short' ? -1 : 1));
}

