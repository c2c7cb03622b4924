/**
 * The exchange double's books, venue-neutral: markets, last prices, accounts keyed by API key,
 * their positions (one-way mode, signed amounts), orders by id and by client id. Market orders
 * fill at once at the last price; limit orders rest until a price update crosses them.
 * Deliberately simple: no funding, no liquidations, fees at the taker/maker rate.
 */
import { Dec, dec } from '../../../runtime/exchange/precision.ts';

/** One market the double lists. */
export interface DoubleMarket {
  /** The venue's id, e.g. `BTCUSDT` (also the platform symbol). */
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly amountStep: string;
  readonly priceTick: string;
  readonly minAmount: string;
  readonly minCost: string;
  readonly maxLeverage: number;
}

/** The venue's view of one order. */
export interface DoubleOrder {
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly type: 'market' | 'limit';
  readonly amount: Dec;
  readonly price: Dec | null;
  status: 'open' | 'closed' | 'canceled' | 'rejected';
  filled: Dec;
  average: Dec | null;
  fee: Dec;
  readonly reduceOnly: boolean;
  readonly stopLoss: Dec | null;
  readonly takeProfit: Dec | null;
  readonly createdAt: number;
  updatedAt: number;
}

/** One open position (signed amount: negative is short). */
export interface DoublePosition {
  amount: Dec;
  entry: Dec;
  stopLoss: Dec | null;
  takeProfit: Dec | null;
}

/** One account of the double. */
export interface DoubleAccount {
  readonly apiKey: string;
  readonly secret: string;
  /** The API key's passphrase (OKX, Bitget), or null where the venue has none. */
  readonly passphrase: string | null;
  wallet: Dec;
  readonly positions: Map<string, DoublePosition>;
  readonly orders: Map<string, DoubleOrder>;
  readonly byClientId: Map<string, DoubleOrder>;
  readonly leverage: Map<string, number>;
  readonly marginMode: Map<string, 'isolated' | 'cross'>;
}

/** What an order placement asks for. */
export interface PlaceRequest {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly type: 'market' | 'limit';
  readonly amount: string;
  readonly price?: string | undefined;
  readonly clientOrderId?: string | undefined;
  readonly reduceOnly?: boolean | undefined;
  readonly stopLoss?: string | undefined;
  readonly takeProfit?: string | undefined;
  /** Whether the market's minimum notional applies (default true; OKX has none, only a minimum size). */
  readonly minNotional?: boolean | undefined;
}

/** Why a placement was refused, in venue-neutral terms (each dialect maps it to its codes). */
export type PlaceRefusal = 'duplicate' | 'insufficient' | 'precision' | 'minNotional' | 'reduceOnly' | 'unknownSymbol' | 'badRequest';

/** The result of a placement. */
export type PlaceResult = { readonly ok: true; readonly order: DoubleOrder } | { readonly ok: false; readonly refusal: PlaceRefusal; readonly message: string };

/** A balance summary in the quote currency. */
export interface DoubleBalance {
  readonly wallet: Dec;
  readonly unrealized: Dec;
  readonly positionMargin: Dec;
  readonly orderMargin: Dec;
  readonly available: Dec;
  readonly equity: Dec;
}

const MAKER = dec('0.0002');
const TAKER = dec('0.0005');

/** The books of a double. */
export class Books {
  readonly markets = new Map<string, DoubleMarket>();
  readonly prices = new Map<string, Dec>();
  readonly accounts = new Map<string, DoubleAccount>();
  private nextId = 8_000_000_000;

  constructor(
    markets: readonly DoubleMarket[],
    private readonly now: () => number,
  ) {
    for (const m of markets) this.markets.set(m.symbol, m);
  }

  /** Opens an account under an API key with a wallet balance (and the key's passphrase, OKX and Bitget). */
  openAccount(apiKey: string, secret: string, wallet: string, passphrase?: string): DoubleAccount {
    const acc: DoubleAccount = {
      apiKey,
      secret,
      passphrase: passphrase ?? null,
      wallet: dec(wallet),
      positions: new Map(),
      orders: new Map(),
      byClientId: new Map(),
      leverage: new Map(),
      marginMode: new Map(),
    };
    this.accounts.set(apiKey, acc);
    return acc;
  }

  account(apiKey: string): DoubleAccount | undefined {
    return this.accounts.get(apiKey);
  }

  leverageOf(acc: DoubleAccount, symbol: string): number {
    return acc.leverage.get(symbol) ?? 20;
  }

  /** Sets the last price and fills resting limit orders it crosses. */
  setPrice(symbol: string, price: string): void {
    const p = dec(price);
    this.prices.set(symbol, p);
    for (const acc of this.accounts.values()) {
      for (const o of acc.orders.values()) {
        if (o.status !== 'open' || o.symbol !== symbol || !o.price) continue;
        if ((o.side === 'buy' && p.lte(o.price)) || (o.side === 'sell' && p.gte(o.price))) this.fill(acc, o, o.price, MAKER);
      }
    }
  }

  priceOf(symbol: string): Dec {
    return this.prices.get(symbol) ?? dec(1);
  }

  /** Places an order; refusals carry a venue-neutral reason. */
  place(acc: DoubleAccount, req: PlaceRequest): PlaceResult {
    const m = this.markets.get(req.symbol);
    if (!m) return { ok: false, refusal: 'unknownSymbol', message: `unknown symbol ${req.symbol}` };
    const cid = req.clientOrderId ?? `auto${this.nextId + 1}`;
    if (acc.byClientId.has(cid)) return { ok: false, refusal: 'duplicate', message: `duplicate client order id ${cid}` };
    let amount: Dec;
    try {
      amount = dec(req.amount);
    } catch {
      return { ok: false, refusal: 'badRequest', message: `bad amount ${req.amount}` };
    }
    if (amount.lte(0) || !amount.mod(m.amountStep).isZero())
      return { ok: false, refusal: 'precision', message: `amount ${req.amount} is not a multiple of ${m.amountStep}` };
    if (req.type === 'limit' && (req.price === undefined || !dec(req.price).mod(m.priceTick).isZero()))
      return { ok: false, refusal: 'precision', message: `price ${req.price ?? '(none)'} is not a multiple of ${m.priceTick}` };
    const last = this.priceOf(req.symbol);
    const refPrice = req.type === 'limit' ? dec(req.price as string) : last;
    const pos = acc.positions.get(req.symbol);
    const signed = req.side === 'buy' ? amount : amount.neg();
    const reducing = pos !== undefined && !pos.amount.isZero() && pos.amount.isNeg() !== signed.isNeg();
    if (req.reduceOnly && (!reducing || amount.gt((pos as DoublePosition).amount.abs())))
      return { ok: false, refusal: 'reduceOnly', message: 'ReduceOnly Order is rejected.' };
    if (!req.reduceOnly && req.minNotional !== false && amount.mul(refPrice).lt(m.minCost))
      return { ok: false, refusal: 'minNotional', message: `notional must be no smaller than ${m.minCost}` };
    if (!reducing) {
      const need = amount.mul(refPrice).div(this.leverageOf(acc, req.symbol));
      if (need.gt(this.balance(acc).available)) return { ok: false, refusal: 'insufficient', message: 'Margin is insufficient.' };
    }
    const at = this.now();
    this.nextId += 1;
    const order: DoubleOrder = {
      id: String(this.nextId),
      clientOrderId: cid,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      amount,
      price: req.type === 'limit' ? dec(req.price as string) : null,
      status: 'open',
      filled: dec(0),
      average: null,
      fee: dec(0),
      reduceOnly: req.reduceOnly ?? false,
      stopLoss: req.stopLoss ? dec(req.stopLoss) : null,
      takeProfit: req.takeProfit ? dec(req.takeProfit) : null,
      createdAt: at,
      updatedAt: at,
    };
    acc.orders.set(order.id, order);
    acc.byClientId.set(cid, order);
    if (req.type === 'market') this.fill(acc, order, last, TAKER);
    else if ((req.side === 'buy' && last.lte(refPrice)) || (req.side === 'sell' && last.gte(refPrice))) this.fill(acc, order, last, TAKER);
    return { ok: true, order };
  }

  /** Cancels an open order; returns null when it is unknown or not open. */
  cancel(acc: DoubleAccount, symbol: string, ref: { id?: string | undefined; clientOrderId?: string | undefined }): DoubleOrder | null {
    const o = ref.id ? acc.orders.get(ref.id) : ref.clientOrderId ? acc.byClientId.get(ref.clientOrderId) : undefined;
    if (!o || o.symbol !== symbol || o.status !== 'open') return null;
    o.status = 'canceled';
    o.updatedAt = this.now();
    return o;
  }

  /** Finds an order by id or client id on a symbol. */
  find(acc: DoubleAccount, symbol: string | undefined, ref: { id?: string | undefined; clientOrderId?: string | undefined }): DoubleOrder | null {
    const o = ref.id ? acc.orders.get(ref.id) : ref.clientOrderId ? acc.byClientId.get(ref.clientOrderId) : undefined;
    if (!o || (symbol !== undefined && o.symbol !== symbol)) return null;
    return o;
  }

  openOrders(acc: DoubleAccount, symbol?: string): DoubleOrder[] {
    return [...acc.orders.values()].filter((o) => o.status === 'open' && (symbol === undefined || o.symbol === symbol));
  }

  balance(acc: DoubleAccount): DoubleBalance {
    let unrealized = dec(0);
    let positionMargin = dec(0);
    for (const [symbol, p] of acc.positions) {
      const mark = this.priceOf(symbol);
      unrealized = unrealized.plus(p.amount.mul(mark.minus(p.entry)));
      positionMargin = positionMargin.plus(p.amount.abs().mul(p.entry).div(this.leverageOf(acc, symbol)));
    }
    let orderMargin = dec(0);
    for (const o of acc.orders.values())
      if (o.status === 'open' && !o.reduceOnly && o.price) orderMargin = orderMargin.plus(o.amount.mul(o.price).div(this.leverageOf(acc, o.symbol)));
    const r = (d: Dec) => d.toDecimalPlaces(8, Dec.ROUND_HALF_EVEN);
    const equity = acc.wallet.plus(unrealized);
    const available = Dec.max(0, acc.wallet.minus(positionMargin).minus(orderMargin).plus(Dec.min(0, unrealized)));
    return {
      wallet: r(acc.wallet),
      unrealized: r(unrealized),
      positionMargin: r(positionMargin),
      orderMargin: r(orderMargin),
      available: r(available),
      equity: r(equity),
    };
  }

  /** Sets a position directly (a manual change on the exchange); amount 0 removes it. */
  setPosition(acc: DoubleAccount, symbol: string, signedAmount: string, entry?: string): void {
    const amount = dec(signedAmount);
    if (amount.isZero()) {
      acc.positions.delete(symbol);
      return;
    }
    acc.positions.set(symbol, { amount, entry: entry ? dec(entry) : this.priceOf(symbol), stopLoss: null, takeProfit: null });
  }

  private fill(acc: DoubleAccount, o: DoubleOrder, price: Dec, rate: Dec): void {
    const qty = o.amount;
    const fee = qty.mul(price).mul(rate).toDecimalPlaces(8, Dec.ROUND_HALF_EVEN);
    const signed = o.side === 'buy' ? qty : qty.neg();
    const pos = acc.positions.get(o.symbol);
    let realized = dec(0);
    if (!pos) {
      acc.positions.set(o.symbol, { amount: signed, entry: price, stopLoss: o.stopLoss, takeProfit: o.takeProfit });
    } else if (pos.amount.isNeg() === signed.isNeg()) {
      const total = pos.amount.plus(signed);
      pos.entry = pos.entry.mul(pos.amount.abs()).plus(price.mul(qty)).div(total.abs());
      pos.amount = total;
      if (o.stopLoss) pos.stopLoss = o.stopLoss;
      if (o.takeProfit) pos.takeProfit = o.takeProfit;
    } else {
      const closing = Dec.min(qty, pos.amount.abs());
      realized = pos.amount.isNeg() ? closing.mul(pos.entry.minus(price)) : closing.mul(price.minus(pos.entry));
      const rest = pos.amount.plus(signed);
      if (rest.isZero()) acc.positions.delete(o.symbol);
      else if (rest.isNeg() === pos.amount.isNeg()) pos.amount = rest;
      else acc.positions.set(o.symbol, { amount: rest, entry: price, stopLoss: o.stopLoss, takeProfit: o.takeProfit });
    }
    acc.wallet = acc.wallet.plus(realized).minus(fee);
    o.filled = qty;
    o.average = price;
    o.fee = fee;
    o.status = 'closed';
    o.updatedAt = this.now();
  }
}
