/**
 * The `Exchange` port: what the runtime needs from a venue. The paper exchange implements it
 * today; the ccxt adapter implements the same interface for live venues.
 * All money values are decimal strings.
 */
import type { DecimalString, MarketSymbol } from '../domain.ts';

/** A tradable market with the precision and minimums orders must respect. */
export interface Market {
  readonly symbol: MarketSymbol;
  readonly base: string;
  readonly quote: string;
  /** Smallest amount increment, e.g. `0.001`. Amounts are truncated to it. */
  readonly amountStep: DecimalString;
  /** Smallest price increment, e.g. `0.1`. Prices are rounded to it. */
  readonly priceTick: DecimalString;
  /** Minimum order amount (base units). */
  readonly minAmount: DecimalString;
  /** Minimum order notional (quote units). */
  readonly minCost: DecimalString;
  readonly maxLeverage: number;
  /** Fee rates as decimal fractions, e.g. `0.0002`. */
  readonly makerFee: DecimalString;
  readonly takerFee: DecimalString;
}

/** Account balance in the quote currency (USDT). */
export interface Balance {
  readonly currency: string;
  /** Wallet balance: deposits + realized P&L − fees. */
  readonly wallet: DecimalString;
  /** Margin locked by open positions and open orders. */
  readonly used: DecimalString;
  /** wallet − used + min(0, unrealized) : what new orders may use. */
  readonly free: DecimalString;
  readonly unrealizedPnl: DecimalString;
  /** wallet + unrealized P&L: the portfolio value. */
  readonly equity: DecimalString;
}

export type PositionSide = 'long' | 'short';

/** An open position. `amount` is always positive; `side` carries the direction. */
export interface Position {
  readonly symbol: MarketSymbol;
  readonly side: PositionSide;
  readonly amount: DecimalString;
  readonly entryPrice: DecimalString;
  readonly markPrice: DecimalString;
  readonly leverage: number;
  /** Isolated margin posted for this position. */
  readonly margin: DecimalString;
  readonly unrealizedPnl: DecimalString;
  readonly liquidationPrice: DecimalString | null;
  readonly stopLoss: DecimalString | null;
  readonly takeProfit: DecimalString | null;
}

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type OrderStatus = 'open' | 'closed' | 'canceled' | 'rejected';

/** What the runtime asks a venue to do. */
export interface OrderRequest {
  /** Deterministic, ≤ 32 chars of [A-Za-z0-9]. A venue refuses a duplicate. */
  readonly clientOrderId: string;
  readonly symbol: MarketSymbol;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly amount: DecimalString;
  /** Required for limit orders. */
  readonly price?: DecimalString;
  readonly reduceOnly?: boolean;
  readonly stopLoss?: DecimalString;
  readonly takeProfit?: DecimalString;
  readonly leverage?: number;
}

/** A venue's view of an order. */
export interface Order {
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: MarketSymbol;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly amount: DecimalString;
  readonly price: DecimalString | null;
  readonly status: OrderStatus;
  readonly filled: DecimalString;
  readonly average: DecimalString | null;
  readonly fee: DecimalString;
  readonly reduceOnly: boolean;
  /** The venue's reason for a rejection. */
  readonly reason: string | null;
  readonly timestamp: number;
}

/** A fill: what changed the balance. `realizedPnl` and `fee` reconcile the wallet exactly. */
export interface Fill {
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly symbol: MarketSymbol;
  readonly side: OrderSide;
  readonly amount: DecimalString;
  readonly price: DecimalString;
  readonly fee: DecimalString;
  readonly realizedPnl: DecimalString;
  readonly timestamp: number;
  /** Why it filled: an order, a stop-loss, a take-profit or a liquidation. */
  readonly trigger: 'order' | 'stopLoss' | 'takeProfit' | 'liquidation';
}

/** One exchange account as a trader sees it. */
export interface Exchange {
  /** Venue id: `paper`, `binanceusdm`, … */
  readonly venue: string;
  loadMarkets(): Promise<Readonly<Record<MarketSymbol, Market>>>;
  fetchBalance(): Promise<Balance>;
  fetchPositions(): Promise<readonly Position[]>;
  fetchOpenOrders(symbol?: MarketSymbol): Promise<readonly Order[]>;
  /** Last traded / mark price per symbol. */
  fetchPrices(symbols: readonly MarketSymbol[]): Promise<Readonly<Record<MarketSymbol, DecimalString>>>;
  /**
   * Submits an order. Throws `ExchangeError` with kind `duplicate` when the client order id
   * was already used; a rejected order comes back with status `rejected` and a reason.
   */
  createOrder(req: OrderRequest): Promise<Order>;
  /** Looks an order up by its client order id; null when the venue never saw it. */
  fetchOrderByClientId(clientOrderId: string, symbol: MarketSymbol): Promise<Order | null>;
  cancelOrder(id: string, symbol: MarketSymbol): Promise<Order>;
  setLeverage(symbol: MarketSymbol, leverage: number): Promise<void>;
}

/** What the caller must do about a failed exchange call. */
export type ExchangeErrorKind = 'transient' | 'operational' | 'order' | 'duplicate';

/** An exchange failure classified by what the caller must do. */
export class ExchangeError extends Error {
  constructor(
    readonly kind: ExchangeErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}
