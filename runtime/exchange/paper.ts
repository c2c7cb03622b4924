/**
 * The paper venue: a simulated USDⓈ-M perpetuals exchange (isolated margin, one-way mode) that
 * holds many accounts and exposes each through the `Exchange` port. Settling arithmetic is
 * decimal throughout; wallet changes only by each fill's `realizedPnl − fee`, so the books
 * reconcile exactly with the fills.
 */
import { z } from 'zod';
import { errorMessage } from '../domain.ts';
import type { DecimalString, MarketSymbol } from '../domain.ts';
import type { PaperBatch } from '../store/types.ts';
import { processTurns, type Turns } from '../turns.ts';
import { ExchangeError } from './port.ts';
import type {
  Balance,
  Exchange,
  Fill,
  Market,
  Order,
  OrderRequest,
  OrderSide,
  OrderStatus,
  Position,
  PositionSide,
} from './port.ts';
import { Dec, belowMinimum, dec } from './precision.ts';

/** Options of {@link createPaperVenue}. */
export interface PaperVenueOptions {
  /** Tradable markets: precision, minimums, fees and maximum leverage. */
  readonly markets: readonly Market[];
  readonly clock: { now(): number };
  /** Market orders fill at last price × (1 ± slippage), buys up, sells down; default 2 bps. */
  readonly slippageBps?: number;
  /** Atomic write of changed accounts, accepted orders and fills (e.g. `PaperRepo.saveBatch`). */
  readonly persist?: (batch: PaperBatch) => Promise<void>;
  /**
   * Finished orders kept in memory per account for client-id lookups (open orders are always
   * kept); default {@link PAPER_ORDER_HISTORY} (≈284 bytes each). Older ones live only in the store.
   */
  readonly orderHistory?: number;
  /**
   * Reads one persisted order of an account by client id (e.g. `PaperRepo.findOrder`). Given, the
   * venue asks it for ids it no longer holds in memory: `fetchOrderByClientId` falls back to it and
   * `createOrder` consults it before accepting an id it cannot vouch for. Absent, the venue keeps
   * every client id it sees (plus those passed to `restore`) to refuse duplicates: memory that
   * grows with every order, meant for tests and short-lived venues.
   */
  readonly lookupPersisted?: (accountId: string, clientOrderId: string) => Promise<Order | null>;
  /** Receives what a fill listener throws; default `console.error`. */
  readonly onListenerError?: (err: unknown) => void;
  /** Where the callers of a persisted batch are woken, a turn's budget at a time (default the process's). */
  readonly turns?: Turns;
}

/** A price update for one symbol: the candle's close, and its high/low so in-bar triggers fire. */
export interface PaperBar {
  readonly close: DecimalString;
  readonly high?: DecimalString;
  readonly low?: DecimalString;
}

/** One simulated venue holding many accounts. */
export interface PaperVenue {
  /** Sets the last/mark price of a symbol and processes what the bar triggers: stops, liquidations, limit fills. */
  updatePrice(symbol: MarketSymbol, bar: PaperBar): void;
  /** Opens an account with a wallet balance; an existing account keeps its state. */
  openAccount(accountId: string, initialWallet: DecimalString): void;
  /** True when the venue holds this account. */
  hasAccount(accountId: string): boolean;
  /** The `Exchange` port of one account; throws `ExchangeError('operational')` for an unknown account. */
  account(accountId: string): Exchange;
  /** Rebuilds accounts and orders from `PaperRepo` rows; a row that fails validation throws. */
  restore(
    accounts: readonly { readonly accountId: string; readonly state: unknown }[],
    orders: readonly { readonly accountId: string; readonly order: unknown }[],
  ): void;
  /** Persists everything dirty now; resolves when it is written. */
  flush(): Promise<void>;
  /** Subscribes to every fill of every account; returns the unsubscribe function. */
  onFill(listener: (accountId: string, fill: Fill) => void): () => void;
}

/** Maintenance margin rate used for every market's liquidation price. */
export const PAPER_MAINTENANCE_MARGIN_RATE = '0.005';

/** The venue id the paper exchange reports. */
export const PAPER_VENUE = 'paper';

/** Finished orders the venue keeps in memory per account by default. */
export const PAPER_ORDER_HISTORY = 8;
/**
 * Client ids an account remembers for duplicate refusal (the newest ones). A retry reuses its id
 * within the same cycle, so a few cycles' worth is plenty; the orders table (`insertPending`, a
 * unique client id) is the runtime's own guard across any span. Bounded so that memory does not
 * grow with every order ever placed (~70 B per id).
 */
export const PAPER_SEEN_IDS = 64;

const ZERO = dec(0);
const ONE = dec(1);
const MMR = dec(PAPER_MAINTENANCE_MARGIN_RATE);
/** Wallet, fee, margin and P&L amounts settle to 8 decimals (USDT's precision on Binance). */
const SETTLE_DP = 8;
const CLIENT_ID = /^[A-Za-z0-9]{1,32}$/;

const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string');

const orderSchema = z.object({
  id: z.string().min(1),
  clientOrderId: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  type: z.enum(['market', 'limit']),
  amount: decimalString,
  price: decimalString.nullable(),
  status: z.enum(['open', 'closed', 'canceled', 'rejected']),
  filled: decimalString,
  average: decimalString.nullable(),
  fee: decimalString,
  reduceOnly: z.boolean(),
  reason: z.string().nullable(),
  timestamp: z.number(),
});

const accountStateSchema = z.object({
  v: z.literal(1),
  initialWallet: decimalString,
  wallet: decimalString,
  seq: z.number().int().nonnegative(),
  leverage: z.record(z.string(), z.number().int().positive()),
  positions: z.array(
    z.object({
      symbol: z.string().min(1),
      side: z.enum(['long', 'short']),
      amount: decimalString,
      entryPrice: decimalString,
      margin: decimalString,
      stopLoss: decimalString.nullable(),
      takeProfit: decimalString.nullable(),
    }),
  ),
  openOrders: z.array(
    z.object({
      order: orderSchema,
      reserve: decimalString,
      leverage: z.number().int().positive(),
      stopLoss: decimalString.nullable(),
      takeProfit: decimalString.nullable(),
    }),
  ),
});

/** The JSON state of one paper account as written in `PaperBatch.accounts[].state`. */
export type PaperAccountState = z.infer<typeof accountStateSchema>;

interface PositionRec {
  side: PositionSide;
  amount: Dec;
  entry: Dec;
  margin: Dec;
  stopLoss: Dec | null;
  takeProfit: Dec | null;
  liq: Dec | null;
  /**
   * Bounds outside which no trigger can fire: a bar with low above `guardLo` and high below
   * `guardHi` meets none. Doubles (rounding is monotonic, so the test is exact), letting a bar
   * skip the decimal comparisons for most positions.
   */
  guardLo: number;
  guardHi: number;
}

interface RestingOrder {
  order: Order;
  readonly amount: Dec;
  readonly price: Dec;
  /** Margin and fee set aside for the part of the order that would open exposure. */
  readonly reserve: Dec;
  readonly leverage: number;
  readonly stopLoss: Dec | null;
  readonly takeProfit: Dec | null;
}

interface Totals {
  /** Margin in use: positions and order reserves. */
  readonly used: Dec;
  /** Settled unrealized P&L at the last prices. */
  readonly upnl: Dec;
}

interface AccountRec {
  readonly id: string;
  readonly initialWallet: string;
  wallet: Dec;
  seq: number;
  readonly leverage: Map<MarketSymbol, number>;
  readonly positions: Map<MarketSymbol, PositionRec>;
  resting: RestingOrder[];
  /** Orders by client order id, oldest first (open ones and a window of finished ones). */
  readonly orders: Map<string, Order>;
  /** Cached totals and balance; cleared by every change of the account and every price move of a position's symbol. */
  totals: Totals | null;
  balance: Balance | null;
  /** Every client id this account saw; kept only without `lookupPersisted`. */
  readonly seen: Set<string> | null;
  /** `orders` holds every order this account ever had, so nothing needs looking up in the store. */
  complete: boolean;
  /** The last `createOrder` still waiting for a store lookup; later ones queue behind it to keep call order. */
  placing: Promise<void> | null;
  /** Store lookups started and not yet followed by their placement. */
  lookups: number;
  /** Client ids placed while a lookup was outstanding: the store may have answered before they existed. */
  placedDuringLookups: Set<string> | null;
}

interface SymbolRec {
  readonly market: Market;
  readonly step: Dec;
  readonly tick: Dec;
  readonly maker: Dec;
  readonly taker: Dec;
  last: Dec | null;
  /** Accounts holding a position or an open order on this symbol. */
  readonly holders: Set<AccountRec>;
}

interface NextPosition {
  readonly side: PositionSide;
  readonly amount: Dec;
  readonly entry: Dec;
  readonly margin: Dec;
}

/** What one fill would do to an account, computed before anything changes. */
interface Outcome {
  readonly closeQty: Dec;
  readonly openQty: Dec;
  readonly filled: Dec;
  readonly realized: Dec;
  readonly fee: Dec;
  readonly openMargin: Dec;
  readonly next: NextPosition | null;
  /** The resulting position is a new one (opened or flipped), so it starts without SL/TP. */
  readonly fresh: boolean;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

type Trigger = Fill['trigger'];

const settle = (d: Dec): Dec => d.toDecimalPlaces(SETTLE_DP, Dec.ROUND_HALF_EVEN);
const settleUp = (d: Dec): Dec => d.toDecimalPlaces(SETTLE_DP, Dec.ROUND_UP);
const fmt = (d: Dec): DecimalString => (d.isZero() ? '0' : d.toFixed());
const fmtOrNull = (d: Dec | null): DecimalString | null => (d === null ? null : fmt(d));
const sideOf = (side: OrderSide): PositionSide => (side === 'buy' ? 'long' : 'short');

function parsePositive(s: unknown): Dec | null {
  if (typeof s !== 'string' && typeof s !== 'number') return null;
  try {
    const d = dec(s);
    return d.gt(0) ? d : null;
  } catch {
    return null;
  }
}

function upnlOf(p: { side: PositionSide; amount: Dec; entry: Dec }, mark: Dec): Dec {
  return p.side === 'long' ? p.amount.mul(mark.minus(p.entry)) : p.amount.mul(p.entry.minus(mark));
}

/**
 * Isolated-margin liquidation price with maintenance margin rate r = 0.005, margin M, amount A
 * and entry E: the price where M + uPnL = r·A·P, i.e.
 *   long:  P = (E − M/A) / (1 − r)      short: P = (E + M/A) / (1 + r)
 * rounded to the tick toward the entry (so it fires no later than the exact level); null when a
 * long's level is at or below zero (fully collateralised: it cannot be liquidated).
 */
function liquidationPrice(p: NextPosition, tick: Dec): Dec | null {
  const perUnit = p.margin.div(p.amount);
  if (p.side === 'long') {
    const raw = p.entry.minus(perUnit).div(ONE.minus(MMR));
    if (raw.lte(0)) return null;
    return raw.div(tick).toDecimalPlaces(0, Dec.ROUND_CEIL).mul(tick);
  }
  const raw = p.entry.plus(perUnit).div(ONE.plus(MMR));
  return raw.div(tick).toDecimalPlaces(0, Dec.ROUND_FLOOR).mul(tick);
}

function positionRec(next: NextPosition, stopLoss: Dec | null, takeProfit: Dec | null, tick: Dec): PositionRec {
  const liq = liquidationPrice(next, tick);
  const num = (d: Dec | null, none: number): number => (d === null ? none : d.toNumber());
  // Long: stop-loss and liquidation fire on the low, take-profit on the high; short: the reverse.
  const adverse = next.side === 'long' ? Math.max(num(stopLoss, -Infinity), num(liq, -Infinity)) : Math.min(num(stopLoss, Infinity), num(liq, Infinity));
  const profit = num(takeProfit, next.side === 'long' ? Infinity : -Infinity);
  return {
    side: next.side,
    amount: next.amount,
    entry: next.entry,
    margin: next.margin,
    stopLoss,
    takeProfit,
    liq,
    guardLo: next.side === 'long' ? adverse : profit,
    guardHi: next.side === 'long' ? profit : adverse,
  };
}

/** Creates a paper venue; see {@link PaperVenue}. */
export function createPaperVenue(opts: PaperVenueOptions): PaperVenue {
  const { clock, persist } = opts;
  const slippageBps = opts.slippageBps ?? 2;
  if (!Number.isFinite(slippageBps) || slippageBps < 0) throw new Error(`slippageBps must be ≥ 0, got ${slippageBps}`);
  const slip = dec(slippageBps).div(10_000);
  const historyLimit = opts.orderHistory ?? PAPER_ORDER_HISTORY;
  const lookupPersisted = opts.lookupPersisted;
  const onListenerError = opts.onListenerError ?? ((err: unknown) => console.error('paper fill listener failed', err));
  const turns = opts.turns ?? processTurns;

  const symbols = new Map<MarketSymbol, SymbolRec>();
  for (const m of opts.markets) {
    symbols.set(m.symbol, {
      market: m,
      step: dec(m.amountStep),
      tick: dec(m.priceTick),
      maker: dec(m.makerFee),
      taker: dec(m.takerFee),
      last: null,
      holders: new Set(),
    });
  }
  const marketTable: Readonly<Record<MarketSymbol, Market>> = Object.freeze(
    Object.fromEntries(opts.markets.map((m) => [m.symbol, m])),
  );
  const accounts = new Map<string, AccountRec>();
  const listeners = new Set<(accountId: string, fill: Fill) => void>();

  // ---- persistence bookkeeping (group commit) ----
  const dirty = new Set<string>();
  let pendingOrders = new Map<string, { accountId: string; order: Order }>();
  /** The orders of the batch being written: not in `pendingOrders` any more, not yet in the store. */
  let inflightOrders: ReadonlyMap<string, { accountId: string; order: Order }> | null = null;
  let pendingFills: { accountId: string; fill: Fill }[] = [];
  let waiters: Waiter[] = [];
  let running = false;
  let scheduled = false;

  /** Every change of an account goes through here: it also drops the account's cached balance. */
  const markDirty = (acc: AccountRec): void => {
    acc.totals = null;
    acc.balance = null;
    if (persist) dirty.add(acc.id);
  };
  const markOrder = (acc: AccountRec, order: Order): void => {
    if (persist) pendingOrders.set(`${acc.id}\u0000${order.clientOrderId}`, { accountId: acc.id, order });
  };

  function takeBatch(): PaperBatch {
    const now = clock.now();
    const accs: PaperBatch['accounts'][number][] = [];
    for (const id of dirty) {
      const acc = accounts.get(id);
      if (acc) accs.push({ accountId: id, state: serialize(acc), updatedAt: now });
    }
    dirty.clear();
    const batch: PaperBatch = { accounts: accs, orders: [...pendingOrders.values()], fills: pendingFills };
    inflightOrders = pendingOrders;
    pendingOrders = new Map();
    pendingFills = [];
    return batch;
  }

  function putBack(batch: PaperBatch): void {
    for (const a of batch.accounts) dirty.add(a.accountId);
    const merged = new Map<string, { accountId: string; order: Order }>();
    for (const o of batch.orders) merged.set(`${o.accountId}\u0000${o.order.clientOrderId}`, o);
    for (const [k, o] of pendingOrders) merged.set(k, o);
    pendingOrders = merged;
    pendingFills = [...batch.fills, ...pendingFills];
  }

  const hasWork = (): boolean => dirty.size > 0 || pendingOrders.size > 0 || pendingFills.length > 0;

  async function drain(): Promise<void> {
    scheduled = false;
    if (running || !persist) return;
    running = true;
    try {
      while (waiters.length > 0) {
        const batchWaiters = waiters;
        waiters = [];
        if (!hasWork()) {
          for (const w of batchWaiters) turns.run(w.resolve);
          continue;
        }
        const batch = takeBatch();
        try {
          await persist(batch);
          inflightOrders = null;
          // Each caller goes on with its cycle: woken a turn's budget at a time.
          for (const w of batchWaiters) turns.run(w.resolve);
        } catch (err) {
          putBack(batch);
          inflightOrders = null;
          const e = new ExchangeError('transient', `paper persist failed: ${errorMessage(err)}`);
          for (const w of batchWaiters) turns.run(() => w.reject(e));
        }
      }
    } finally {
      running = false;
    }
  }

  /** Resolves once every change made so far is persisted; changes in the same tick share one write. */
  function commit(): Promise<void> {
    if (!persist) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      waiters.push({ resolve, reject });
      if (!running && !scheduled) {
        scheduled = true;
        setImmediate(() => void drain());
      }
    });
  }

  // ---- account helpers ----
  function getAccount(accountId: string): AccountRec {
    const acc = accounts.get(accountId);
    if (!acc) throw new ExchangeError('operational', `paper account ${accountId} does not exist`);
    return acc;
  }

  function getSymbol(symbol: MarketSymbol): SymbolRec {
    const s = symbols.get(symbol);
    if (!s) throw new ExchangeError('order', `unknown symbol ${symbol}`);
    return s;
  }

  const markOf = (s: SymbolRec | undefined, fallback: Dec): Dec => s?.last ?? fallback;

  function reindex(acc: AccountRec, s: SymbolRec): void {
    const sym = s.market.symbol;
    if (acc.positions.has(sym) || acc.resting.some((r) => r.order.symbol === sym)) s.holders.add(acc);
    else s.holders.delete(acc);
  }

  /** Total margin in use (positions and order reserves) and the settled unrealized P&L, cached until the account or a price it depends on changes. */
  function totals(acc: AccountRec): Totals {
    if (acc.totals) return acc.totals;
    let used = ZERO;
    let upnl = ZERO;
    for (const [sym, p] of acc.positions) {
      used = used.plus(p.margin);
      upnl = upnl.plus(settle(upnlOf(p, markOf(symbols.get(sym), p.entry))));
    }
    for (const r of acc.resting) used = used.plus(r.reserve);
    acc.totals = { used, upnl };
    return acc.totals;
  }

  const freeOf = (wallet: Dec, used: Dec, upnl: Dec): Dec => wallet.minus(used).plus(Dec.min(ZERO, upnl));

  /** The account's balance, computed once per change: the runtime reads it three times a minute (strategy input, rebalance, metrics). */
  function balanceOf(acc: AccountRec): Balance {
    if (acc.balance) return acc.balance;
    const { used, upnl } = totals(acc);
    acc.balance = Object.freeze({
      currency: 'USDT',
      wallet: fmt(acc.wallet),
      used: fmt(used),
      free: fmt(freeOf(acc.wallet, used, upnl)),
      unrealizedPnl: fmt(upnl),
      equity: fmt(acc.wallet.plus(upnl)),
    });
    return acc.balance;
  }

  /** The newest version of an order the venue holds in memory or has yet to write. */
  function knownOrder(acc: AccountRec, cid: string): Order | undefined {
    const o = acc.orders.get(cid);
    if (o || !persist) return o;
    const key = `${acc.id}\u0000${cid}`;
    return pendingOrders.get(key)?.order ?? inflightOrders?.get(key)?.order;
  }

  /** True when the id is known to be used; false can mean "ask the store" (see `needsLookup`). */
  function isDuplicate(acc: AccountRec, cid: string): boolean {
    if (acc.seen) return acc.seen.has(cid);
    return knownOrder(acc, cid) !== undefined || acc.placedDuringLookups?.has(cid) === true;
  }

  /** The store's copy of an order this account no longer holds in memory; a failed read is transient. */
  async function lookupOrder(acc: AccountRec, cid: string): Promise<Order | null> {
    if (!lookupPersisted || acc.complete) return null;
    try {
      return await lookupPersisted(acc.id, cid);
    } catch (err) {
      throw new ExchangeError('transient', `paper order lookup failed: ${errorMessage(err)}`);
    }
  }

  /** Whether a `createOrder` must wait: for the store's answer about its id, or behind one that does. */
  function needsLookup(acc: AccountRec, cid: unknown): boolean {
    if (!lookupPersisted) return false;
    if (acc.placing) return true;
    return !acc.complete && typeof cid === 'string' && CLIENT_ID.test(cid) && !isDuplicate(acc, cid);
  }

  /**
   * Places an order once the store confirms its id is new. Lookups run in parallel; placements
   * stay in call order per account. Ids placed while a lookup is out are remembered, since the
   * store's answer may predate them.
   */
  function placeAfterLookup(acc: AccountRec, req: OrderRequest): Promise<Order> {
    const cid = req.clientOrderId;
    acc.lookups += 1;
    acc.placedDuringLookups ??= new Set();
    const lookup = typeof cid === 'string' && CLIENT_ID.test(cid) && !isDuplicate(acc, cid) ? lookupOrder(acc, cid) : Promise.resolve(null);
    // Settled into a value at once, so a failure while waiting in line is not an unhandled rejection.
    const answer = lookup.then(
      (found) => ({ found, error: null }),
      (error: unknown) => ({ found: null, error }),
    );
    const prev = acc.placing;
    const run = async (): Promise<Order> => {
      try {
        if (prev) await prev;
        const { found, error } = await answer;
        if (error) throw error;
        if (found) throw new ExchangeError('duplicate', `duplicate clientOrderId ${cid} on paper account ${acc.id}`);
        return place(acc, req);
      } finally {
        acc.lookups -= 1;
        if (acc.lookups === 0) acc.placedDuringLookups = null;
      }
    };
    const placed = run();
    const tail = placed.then(
      () => undefined,
      () => undefined,
    );
    acc.placing = tail;
    void tail.then(() => {
      if (acc.placing === tail) acc.placing = null;
    });
    return placed;
  }

  function simulate(
    acc: AccountRec,
    s: SymbolRec,
    side: OrderSide,
    qty: Dec,
    price: Dec,
    feeRate: Dec,
    leverage: number,
    reduceOnly: boolean,
  ): Outcome {
    const pos = acc.positions.get(s.market.symbol);
    const dir = sideOf(side);
    let closeQty = ZERO;
    let realized = ZERO;
    let next: NextPosition | null = pos ? { side: pos.side, amount: pos.amount, entry: pos.entry, margin: pos.margin } : null;
    if (pos && pos.side !== dir) {
      closeQty = Dec.min(qty, pos.amount);
      realized = settle(upnlOf({ side: pos.side, amount: closeQty, entry: pos.entry }, price));
      if (closeQty.eq(pos.amount)) next = null;
      else {
        const released = settle(pos.margin.mul(closeQty).div(pos.amount));
        next = { side: pos.side, amount: pos.amount.minus(closeQty), entry: pos.entry, margin: pos.margin.minus(released) };
      }
    }
    const openQty = reduceOnly ? ZERO : qty.minus(closeQty);
    let openMargin = ZERO;
    let fresh = false;
    if (openQty.gt(0)) {
      openMargin = settleUp(openQty.mul(price).div(leverage));
      if (next) {
        const amount = next.amount.plus(openQty);
        const entry = next.amount.mul(next.entry).plus(openQty.mul(price)).div(amount).toSignificantDigits(20);
        next = { side: dir, amount, entry, margin: next.margin.plus(openMargin) };
      } else {
        next = { side: dir, amount: openQty, entry: price, margin: openMargin };
        fresh = true;
      }
    }
    const filled = closeQty.plus(openQty);
    const fee = settle(filled.mul(price).mul(feeRate));
    return { closeQty, openQty, filled, realized, fee, openMargin, next, fresh };
  }

  /**
   * The margin check for exposure an outcome opens: null when the account stays with free ≥ 0
   * afterwards, otherwise what the order needs (margin + fee + the loss of filling away from the
   * mark) and what was free for it.
   */
  function shortfall(acc: AccountRec, s: SymbolRec, side: OrderSide, price: Dec, out: Outcome): { needs: Dec; free: Dec } | null {
    if (out.openQty.lte(0)) return null;
    const sym = s.market.symbol;
    const mark = markOf(s, price);
    const { used, upnl } = totals(acc);
    const old = acc.positions.get(sym);
    const oldU = old ? settle(upnlOf(old, mark)) : ZERO;
    const newU = out.next ? settle(upnlOf(out.next, mark)) : ZERO;
    const usedAfter = used.minus(old?.margin ?? ZERO).plus(out.next?.margin ?? ZERO);
    const freeAfter = freeOf(acc.wallet.plus(out.realized).minus(out.fee), usedAfter, upnl.minus(oldU).plus(newU));
    if (freeAfter.gte(0)) return null;
    const openLoss = Dec.max(ZERO, settle(out.openQty.mul(side === 'buy' ? price.minus(mark) : mark.minus(price))));
    const needs = out.openMargin.plus(out.fee).plus(openLoss);
    return { needs, free: needs.plus(freeAfter) };
  }

  function emit(acc: AccountRec, fill: Fill): void {
    if (persist) pendingFills.push({ accountId: acc.id, fill });
    for (const l of listeners) {
      try {
        l(acc.id, fill);
      } catch (err) {
        onListenerError(err);
      }
    }
  }

  /** Stores the newest version of an order, keeping a bounded window of finished ones. */
  function record(acc: AccountRec, order: Order): Order {
    acc.orders.set(order.clientOrderId, order);
    if (acc.orders.size > historyLimit + acc.resting.length) {
      for (const [k, o] of acc.orders) {
        if (o.status !== 'open') {
          acc.orders.delete(k);
          acc.complete = false;
          break;
        }
      }
    }
    markOrder(acc, order);
    markDirty(acc);
    return order;
  }

  /** Applies a simulated fill to the account and emits it. */
  function settleFill(
    acc: AccountRec,
    s: SymbolRec,
    order: Order,
    out: Outcome,
    price: Dec,
    trigger: Trigger,
    stopLoss: Dec | null,
    takeProfit: Dec | null,
  ): Fill {
    const sym = s.market.symbol;
    const prev = acc.positions.get(sym);
    markDirty(acc);
    acc.wallet = acc.wallet.plus(out.realized).minus(out.fee);
    if (!out.next) acc.positions.delete(sym);
    else {
      const keep = prev !== undefined && !out.fresh;
      acc.positions.set(
        sym,
        positionRec(out.next, stopLoss ?? (keep ? prev.stopLoss : null), takeProfit ?? (keep ? prev.takeProfit : null), s.tick),
      );
    }
    markDirty(acc);
    const fill: Fill = {
      orderId: order.id,
      clientOrderId: order.clientOrderId,
      symbol: sym,
      side: order.side,
      amount: fmt(out.filled),
      price: fmt(price),
      fee: fmt(out.fee),
      realizedPnl: fmt(out.realized),
      timestamp: clock.now(),
      trigger,
    };
    emit(acc, fill);
    if (!out.next) {
      // Reduce-only orders have nothing left to reduce once the position is gone.
      for (const r of acc.resting.filter((x) => x.order.symbol === sym && x.order.reduceOnly)) {
        finishResting(acc, s, r, 'canceled', 'position closed');
      }
    }
    reindex(acc, s);
    return fill;
  }

  function finishResting(acc: AccountRec, s: SymbolRec, r: RestingOrder, status: OrderStatus, reason: string | null): Order {
    acc.resting = acc.resting.filter((x) => x !== r);
    markDirty(acc);
    const order = record(acc, { ...r.order, status, reason });
    reindex(acc, s);
    return order;
  }

  function filledOrder(base: Order, out: Outcome, price: Dec): Order {
    return { ...base, status: 'closed', filled: fmt(out.filled), average: fmt(price), fee: fmt(out.fee), reason: null };
  }

  /** Why SL/TP cannot attach to a position of `side` entered around `ref`, or null. */
  function protectionProblem(side: PositionSide, ref: Dec, sl: Dec | null, tp: Dec | null): string | null {
    const long = side === 'long';
    if (sl && (long ? sl.gte(ref) : sl.lte(ref)))
      return `stopLoss ${fmt(sl)} would trigger immediately for a ${side} position at ${fmt(ref)}`;
    if (tp && (long ? tp.lte(ref) : tp.gte(ref)))
      return `takeProfit ${fmt(tp)} would trigger immediately for a ${side} position at ${fmt(ref)}`;
    return null;
  }

  /** Adds an id, forgetting the oldest once twice the bound is reached (a Set iterates oldest first). */
  function remember(seen: Set<string>, cid: string): void {
    seen.add(cid);
    if (seen.size < 2 * PAPER_SEEN_IDS) return;
    for (const old of seen) {
      if (seen.size <= PAPER_SEEN_IDS) break;
      seen.delete(old);
    }
  }

  function place(acc: AccountRec, req: OrderRequest): Order {
    const cid = req.clientOrderId;
    if (typeof cid !== 'string' || !CLIENT_ID.test(cid))
      throw new ExchangeError('order', `invalid clientOrderId ${JSON.stringify(cid)}: expected 1-32 characters of [A-Za-z0-9]`);
    if (isDuplicate(acc, cid)) throw new ExchangeError('duplicate', `duplicate clientOrderId ${cid} on paper account ${acc.id}`);
    if (acc.seen) remember(acc.seen, cid);
    acc.placedDuringLookups?.add(cid);
    acc.seq += 1;
    const base: Order = {
      id: String(acc.seq),
      clientOrderId: cid,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      amount: req.amount,
      price: req.price ?? null,
      status: 'open',
      filled: '0',
      average: null,
      fee: '0',
      reduceOnly: req.reduceOnly === true,
      reason: null,
      timestamp: clock.now(),
    };
    const reject = (reason: string): Order => record(acc, { ...base, status: 'rejected', reason });

    const s = symbols.get(req.symbol);
    if (!s) return reject(`unknown symbol ${req.symbol}`);
    const m = s.market;
    if (req.side !== 'buy' && req.side !== 'sell') return reject(`invalid side ${String(req.side)}`);
    if (req.type !== 'market' && req.type !== 'limit') return reject(`invalid order type ${String(req.type)}`);
    const amount = parsePositive(req.amount);
    if (!amount) return reject(`amount must be a positive decimal, got ${String(req.amount)}`);
    let limit: Dec | null = null;
    if (req.type === 'limit') {
      if (req.price === undefined || req.price === null) return reject('limit order needs a price');
      limit = parsePositive(req.price);
      if (!limit) return reject(`price must be a positive decimal, got ${String(req.price)}`);
      if (!limit.mod(s.tick).isZero()) return reject(`price ${req.price} is not a multiple of ${m.symbol}'s tick ${m.priceTick}`);
    }
    if (!amount.mod(s.step).isZero())
      return reject(`amount ${req.amount} is not a multiple of ${m.symbol}'s step ${m.amountStep}`);
    const protections: [Dec | null, Dec | null] = [null, null];
    for (const [i, key] of (['stopLoss', 'takeProfit'] as const).entries()) {
      const raw = req[key];
      if (raw === undefined || raw === null) continue;
      const v = parsePositive(raw);
      if (!v) return reject(`${key} must be a positive decimal, got ${String(raw)}`);
      if (!v.mod(s.tick).isZero()) return reject(`${key} ${raw} is not a multiple of ${m.symbol}'s tick ${m.priceTick}`);
      protections[i] = v;
    }
    const [stopLoss, takeProfit] = protections;
    const current = acc.leverage.get(m.symbol) ?? 1;
    const leverage = req.leverage ?? current;
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > m.maxLeverage)
      return reject(`leverage ${leverage} is not an integer in 1..${m.maxLeverage} for ${m.symbol}`);
    if (leverage < current && acc.positions.has(m.symbol))
      return reject(`cannot lower ${m.symbol} leverage from ${current} to ${leverage} while a position is open`);

    const last = s.last;
    const marketable = limit !== null && last !== null && (req.side === 'buy' ? limit.gte(last) : limit.lte(last));
    let execPrice: Dec;
    if (req.type === 'market') {
      if (!last) return reject(`no price for ${m.symbol} yet`);
      execPrice = req.side === 'buy' ? last.mul(ONE.plus(slip)) : last.mul(ONE.minus(slip));
    } else execPrice = limit as Dec;

    const reduceOnly = base.reduceOnly;
    const small = reduceOnly
      ? amount.lt(m.minAmount)
        ? `amount ${fmt(amount)} is under ${m.symbol}'s minimum ${m.minAmount}`
        : null
      : belowMinimum(m, amount, req.type === 'market' ? (last as Dec) : execPrice);
    if (small) return reject(small);

    const immediate = req.type === 'market' || marketable;
    const feeRate = immediate ? s.taker : s.maker;
    const out = simulate(acc, s, req.side, amount, execPrice, feeRate, leverage, reduceOnly);
    if (reduceOnly && out.closeQty.isZero()) {
      const pos = acc.positions.get(m.symbol);
      return reject(
        pos
          ? `reduce-only ${req.side} would increase the ${m.symbol} ${pos.side} position`
          : `reduce-only order has no ${m.symbol} position to reduce`,
      );
    }
    if (out.next && (stopLoss || takeProfit)) {
      const problem = protectionProblem(out.next.side, execPrice, stopLoss, takeProfit);
      if (problem) return reject(problem);
    }

    if (immediate) {
      const short = shortfall(acc, s, req.side, execPrice, out);
      if (short) return reject(`insufficient margin: needs ${fmt(short.needs)}, free ${fmt(short.free)}`);
      acc.leverage.set(m.symbol, leverage);
      const order = record(acc, filledOrder(base, out, execPrice));
      settleFill(acc, s, order, out, execPrice, 'order', stopLoss, takeProfit);
      return order;
    }

    const reserve = out.openQty.gt(0) ? out.openMargin.plus(out.fee) : ZERO;
    if (reserve.gt(0)) {
      const { used, upnl } = totals(acc);
      const free = freeOf(acc.wallet, used, upnl);
      if (reserve.gt(free)) return reject(`insufficient margin: needs ${fmt(reserve)}, free ${fmt(free)}`);
    }
    acc.leverage.set(m.symbol, leverage);
    acc.resting.push({ order: base, amount, price: execPrice, reserve, leverage, stopLoss, takeProfit });
    markDirty(acc);
    record(acc, base);
    reindex(acc, s);
    return base;
  }

  function fillResting(acc: AccountRec, s: SymbolRec, r: RestingOrder): void {
    acc.resting = acc.resting.filter((x) => x !== r);
    // The margin check below must not count this order's own reserve.
    markDirty(acc);
    const side = r.order.side;
    const out = simulate(acc, s, side, r.amount, r.price, s.maker, r.leverage, r.order.reduceOnly);
    if (r.order.reduceOnly && out.closeQty.isZero()) {
      record(acc, { ...r.order, status: 'canceled', reason: `reduce-only order has no ${s.market.symbol} position to reduce` });
      reindex(acc, s);
      return;
    }
    const short = shortfall(acc, s, side, r.price, out);
    if (short) {
      record(acc, {
        ...r.order,
        status: 'canceled',
        reason: `insufficient margin at fill: needs ${fmt(short.needs)}, free ${fmt(short.free)}`,
      });
      reindex(acc, s);
      return;
    }
    const order = record(acc, filledOrder(r.order, out, r.price));
    settleFill(acc, s, order, out, r.price, 'order', r.stopLoss, r.takeProfit);
  }

  /** Closes a whole position at a trigger price with a venue-generated market order. */
  function closeByTrigger(acc: AccountRec, s: SymbolRec, pos: PositionRec, trigger: Exclude<Trigger, 'order'>, price: Dec): void {
    const side: OrderSide = pos.side === 'long' ? 'sell' : 'buy';
    const sym = s.market.symbol;
    let out = simulate(acc, s, side, pos.amount, price, s.taker, acc.leverage.get(sym) ?? 1, true);
    // Isolated liquidation forfeits the whole margin: what the loss leaves of it goes as the clearance fee.
    if (trigger === 'liquidation') out = { ...out, fee: Dec.max(ZERO, pos.margin.plus(out.realized)) };
    acc.seq += 1;
    const prefix = trigger === 'liquidation' ? 'liq' : trigger === 'stopLoss' ? 'sl' : 'tp';
    const order = record(acc, {
      id: String(acc.seq),
      clientOrderId: `${prefix}-${acc.seq}`,
      symbol: sym,
      side,
      type: 'market',
      amount: fmt(pos.amount),
      price: fmt(price),
      status: 'closed',
      filled: fmt(out.filled),
      average: fmt(price),
      fee: fmt(out.fee),
      reduceOnly: true,
      reason: null,
      timestamp: clock.now(),
    });
    settleFill(acc, s, order, out, price, trigger, null, null);
  }

  /** Whether a bar from `lo` to `hi` meets the position's stop-loss, liquidation or take-profit (what `checkTriggers` acts on). */
  function triggered(pos: PositionRec, lo: Dec, hi: Dec, loN: number, hiN: number): boolean {
    if (loN > pos.guardLo && hiN < pos.guardHi) return false;
    if (pos.side === 'long')
      return (pos.stopLoss !== null && lo.lte(pos.stopLoss)) || (pos.liq !== null && lo.lte(pos.liq)) || (pos.takeProfit !== null && hi.gte(pos.takeProfit));
    return (pos.stopLoss !== null && hi.gte(pos.stopLoss)) || (pos.liq !== null && hi.gte(pos.liq)) || (pos.takeProfit !== null && lo.lte(pos.takeProfit));
  }

  const restingDue = (r: RestingOrder, symbol: MarketSymbol, lo: Dec, hi: Dec): boolean =>
    r.order.symbol === symbol && (r.order.side === 'buy' ? lo.lte(r.price) : hi.gte(r.price));

  function anyDue(acc: AccountRec, symbol: MarketSymbol, lo: Dec, hi: Dec): boolean {
    for (const r of acc.resting) if (restingDue(r, symbol, lo, hi)) return true;
    return false;
  }

  /**
   * Within one bar the path is unknown, so the pessimistic rule applies: an adverse trigger
   * (stop-loss or liquidation, whichever the price meets first on its way) beats a take-profit.
   */
  function checkTriggers(acc: AccountRec, s: SymbolRec, pos: PositionRec, lo: Dec, hi: Dec): void {
    if (pos.side === 'long') {
      const sl = pos.stopLoss && lo.lte(pos.stopLoss) ? pos.stopLoss : null;
      const liq = pos.liq && lo.lte(pos.liq) ? pos.liq : null;
      if (liq && (!sl || liq.gt(sl))) return closeByTrigger(acc, s, pos, 'liquidation', liq);
      if (sl) return closeByTrigger(acc, s, pos, 'stopLoss', sl);
      if (pos.takeProfit && hi.gte(pos.takeProfit)) return closeByTrigger(acc, s, pos, 'takeProfit', pos.takeProfit);
      return;
    }
    const sl = pos.stopLoss && hi.gte(pos.stopLoss) ? pos.stopLoss : null;
    const liq = pos.liq && hi.gte(pos.liq) ? pos.liq : null;
    if (liq && (!sl || liq.lt(sl))) return closeByTrigger(acc, s, pos, 'liquidation', liq);
    if (sl) return closeByTrigger(acc, s, pos, 'stopLoss', sl);
    if (pos.takeProfit && lo.lte(pos.takeProfit)) return closeByTrigger(acc, s, pos, 'takeProfit', pos.takeProfit);
  }

  // ---- (de)serialisation ----
  function serialize(acc: AccountRec): PaperAccountState {
    return {
      v: 1,
      initialWallet: acc.initialWallet,
      wallet: fmt(acc.wallet),
      seq: acc.seq,
      leverage: Object.fromEntries(acc.leverage),
      positions: [...acc.positions].map(([symbol, p]) => ({
        symbol,
        side: p.side,
        amount: fmt(p.amount),
        entryPrice: fmt(p.entry),
        margin: fmt(p.margin),
        stopLoss: fmtOrNull(p.stopLoss),
        takeProfit: fmtOrNull(p.takeProfit),
      })),
      openOrders: acc.resting.map((r) => ({
        order: r.order,
        reserve: fmt(r.reserve),
        leverage: r.leverage,
        stopLoss: fmtOrNull(r.stopLoss),
        takeProfit: fmtOrNull(r.takeProfit),
      })),
    };
  }

  const issues = (err: z.ZodError): string => err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

  function knownSymbol(accountId: string, symbol: string): SymbolRec {
    const s = symbols.get(symbol);
    if (!s) throw new Error(`paper account ${accountId}: state refers to unknown symbol ${symbol}`);
    return s;
  }

  function deserialize(accountId: string, raw: unknown): AccountRec {
    const parsed = accountStateSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`paper account ${accountId}: invalid state: ${issues(parsed.error)}`);
    const st = parsed.data;
    // Until `restore` counts the orders it was given, assume some live only in the store.
    const acc = newAccount(accountId, st.initialWallet, dec(st.wallet), st.seq, new Map(Object.entries(st.leverage)), st.seq === 0);
    for (const p of st.positions) {
      const s = knownSymbol(accountId, p.symbol);
      const next: NextPosition = { side: p.side, amount: dec(p.amount), entry: dec(p.entryPrice), margin: dec(p.margin) };
      if (next.amount.lte(0)) throw new Error(`paper account ${accountId}: position ${p.symbol} has a non-positive amount`);
      acc.positions.set(p.symbol, positionRec(next, p.stopLoss === null ? null : dec(p.stopLoss), p.takeProfit === null ? null : dec(p.takeProfit), s.tick));
    }
    for (const r of st.openOrders) {
      knownSymbol(accountId, r.order.symbol);
      if (r.order.status !== 'open' || r.order.price === null)
        throw new Error(`paper account ${accountId}: open order ${r.order.id} is not an open limit order`);
      acc.resting.push({
        order: r.order,
        amount: dec(r.order.amount),
        price: dec(r.order.price),
        reserve: dec(r.reserve),
        leverage: r.leverage,
        stopLoss: r.stopLoss === null ? null : dec(r.stopLoss),
        takeProfit: r.takeProfit === null ? null : dec(r.takeProfit),
      });
    }
    return acc;
  }

  function newAccount(id: string, initialWallet: string, wallet: Dec, seq: number, leverage: Map<MarketSymbol, number>, complete: boolean): AccountRec {
    return {
      id,
      initialWallet,
      wallet,
      seq,
      leverage,
      positions: new Map(),
      resting: [],
      orders: new Map(),
      totals: null,
      balance: null,
      seen: lookupPersisted ? null : new Set(),
      complete,
      placing: null,
      lookups: 0,
      placedDuringLookups: null,
    };
  }

  function unindex(acc: AccountRec): void {
    for (const s of symbols.values()) s.holders.delete(acc);
  }

  // ---- the port of one account ----
  /**
   * One account's `Exchange`: a small object whose methods live on the prototype, so the many
   * `account()` calls of a wave (every read and every order) allocate no closures.
   */
  class AccountPort implements Exchange {
    constructor(private readonly accountId: string) {}
    get venue(): string {
      return PAPER_VENUE;
    }
    async loadMarkets() {
      return marketTable;
    }
    async fetchBalance(): Promise<Balance> {
      return balanceOf(getAccount(this.accountId));
    }
    async fetchPositions(): Promise<readonly Position[]> {
      const acc = getAccount(this.accountId);
      return [...acc.positions].map(([symbol, p]) => {
        const mark = markOf(symbols.get(symbol), p.entry);
        return {
          symbol,
          side: p.side,
          amount: fmt(p.amount),
          entryPrice: fmt(p.entry),
          markPrice: fmt(mark),
          leverage: acc.leverage.get(symbol) ?? 1,
          margin: fmt(p.margin),
          unrealizedPnl: fmt(settle(upnlOf(p, mark))),
          liquidationPrice: fmtOrNull(p.liq),
          stopLoss: fmtOrNull(p.stopLoss),
          takeProfit: fmtOrNull(p.takeProfit),
        };
      });
    }
    async fetchOpenOrders(symbol?: MarketSymbol): Promise<readonly Order[]> {
      const acc = getAccount(this.accountId);
      return acc.resting.filter((r) => symbol === undefined || r.order.symbol === symbol).map((r) => r.order);
    }
    async fetchPrices(list: readonly MarketSymbol[]) {
      const out: Record<MarketSymbol, DecimalString> = {};
      for (const sym of list) {
        const last = getSymbol(sym).last;
        if (last) out[sym] = fmt(last);
      }
      return out;
    }
    async createOrder(req: OrderRequest): Promise<Order> {
      const acc = getAccount(this.accountId);
      const order = needsLookup(acc, req.clientOrderId) ? await placeAfterLookup(acc, req) : place(acc, req);
      await commit();
      return order;
    }
    async fetchOrderByClientId(clientOrderId: string, symbol: MarketSymbol): Promise<Order | null> {
      const acc = getAccount(this.accountId);
      const o = knownOrder(acc, clientOrderId) ?? (await lookupOrder(acc, clientOrderId));
      return o && o.symbol === symbol ? o : null;
    }
    async cancelOrder(id: string, symbol: MarketSymbol): Promise<Order> {
      const acc = getAccount(this.accountId);
      const r = acc.resting.find((x) => x.order.id === id && x.order.symbol === symbol);
      if (!r) {
        const known = [...acc.orders.values()].find((o) => o.id === id && o.symbol === symbol);
        throw new ExchangeError(
          'order',
          known ? `order ${id} is ${known.status}, not open` : `unknown order ${id} on ${symbol}`,
        );
      }
      const order = finishResting(acc, getSymbol(symbol), r, 'canceled', null);
      await commit();
      return order;
    }
    async setLeverage(symbol: MarketSymbol, leverage: number): Promise<void> {
      const acc = getAccount(this.accountId);
      const m = getSymbol(symbol).market;
      if (!Number.isInteger(leverage) || leverage < 1 || leverage > m.maxLeverage)
        throw new ExchangeError('order', `leverage ${leverage} is not an integer in 1..${m.maxLeverage} for ${symbol}`);
      const current = acc.leverage.get(symbol) ?? 1;
      if (leverage === current) return;
      if (leverage < current && acc.positions.has(symbol))
        throw new ExchangeError('order', `cannot lower ${symbol} leverage from ${current} to ${leverage} while a position is open`);
      acc.leverage.set(symbol, leverage);
      markDirty(acc);
      await commit();
    }
  }

  return {
    updatePrice(symbol, bar) {
      const s = symbols.get(symbol);
      if (!s) throw new Error(`updatePrice: unknown symbol ${symbol}`);
      const close = parsePositive(bar.close);
      if (!close) throw new Error(`updatePrice: close must be a positive decimal, got ${String(bar.close)}`);
      const low = bar.low === undefined ? close : parsePositive(bar.low);
      const high = bar.high === undefined ? close : parsePositive(bar.high);
      if (!low || !high) throw new Error(`updatePrice: invalid high/low for ${symbol}`);
      const lo = Dec.min(low, close);
      const hi = Dec.max(high, close);
      s.last = close;
      const loN = lo.toNumber();
      const hiN = hi.toNumber();
      // A read-only pass picks the few accounts the bar acts on (acting on one never changes
      // another), so the common bar costs a comparison per holder and no copy of the holder set.
      let acting: AccountRec[] | null = null;
      for (const acc of s.holders) {
        const pos = acc.positions.get(symbol);
        if (pos) {
          acc.totals = null;
          acc.balance = null;
        }
        if ((pos && triggered(pos, lo, hi, loN, hiN)) || anyDue(acc, symbol, lo, hi)) (acting ??= []).push(acc);
      }
      if (!acting) return;
      // Stops and liquidations first (pessimistic), then resting limit orders.
      for (const acc of acting) {
        const pos = acc.positions.get(symbol);
        if (pos) checkTriggers(acc, s, pos, lo, hi);
        if (acc.resting.length === 0) continue;
        const due = acc.resting.filter((r) => restingDue(r, symbol, lo, hi));
        for (const r of due) if (acc.resting.includes(r)) fillResting(acc, s, r);
      }
    },

    openAccount(accountId, initialWallet) {
      if (accounts.has(accountId)) return;
      let wallet: Dec;
      try {
        wallet = dec(initialWallet);
      } catch {
        throw new Error(`openAccount ${accountId}: initial wallet must be a decimal, got ${String(initialWallet)}`);
      }
      if (wallet.lt(0)) throw new Error(`openAccount ${accountId}: initial wallet must be ≥ 0, got ${initialWallet}`);
      const acc = newAccount(accountId, fmt(wallet), wallet, 0, new Map(), true);
      accounts.set(accountId, acc);
      markDirty(acc);
    },

    hasAccount: (accountId) => accounts.has(accountId),

    account(accountId) {
      getAccount(accountId);
      return new AccountPort(accountId);
    },

    restore(rows, orderRows) {
      const rebuilt = new Map<string, AccountRec>();
      for (const row of rows) rebuilt.set(row.accountId, deserialize(row.accountId, row.state));
      const byAccount = new Map<string, Order[]>();
      for (const row of orderRows) {
        const parsed = orderSchema.safeParse(row.order);
        if (!parsed.success) throw new Error(`paper order of account ${row.accountId}: invalid order: ${issues(parsed.error)}`);
        if (!rebuilt.has(row.accountId) && !accounts.has(row.accountId))
          throw new Error(`paper order ${parsed.data.clientOrderId}: unknown account ${row.accountId}`);
        const list = byAccount.get(row.accountId) ?? [];
        list.push(parsed.data);
        byAccount.set(row.accountId, list);
      }
      for (const [id, acc] of rebuilt) {
        const old = accounts.get(id);
        if (old) unindex(old);
        accounts.set(id, acc);
      }
      for (const [id, list] of byAccount) {
        const acc = accounts.get(id) as AccountRec;
        list.sort((a, b) => a.timestamp - b.timestamp || Number(a.id) - Number(b.id));
        const openIds = new Set(acc.resting.map((r) => r.order.clientOrderId));
        const finished = list.filter((o) => !openIds.has(o.clientOrderId));
        for (const o of finished.slice(-historyLimit)) acc.orders.set(o.clientOrderId, o);
        if (acc.seen) for (const o of list) remember(acc.seen, o.clientOrderId);
        // Every order takes one sequence number: holding that many, the venue holds them all.
        if (finished.length > historyLimit) acc.complete = false;
        else if (rebuilt.get(id) === acc) acc.complete = finished.length + openIds.size === acc.seq;
      }
      for (const acc of rebuilt.values()) {
        for (const r of acc.resting) acc.orders.set(r.order.clientOrderId, r.order);
        if (acc.seen) for (const r of acc.resting) remember(acc.seen, r.order.clientOrderId);
        for (const sym of acc.positions.keys()) (symbols.get(sym) as SymbolRec).holders.add(acc);
        for (const r of acc.resting) (symbols.get(r.order.symbol) as SymbolRec).holders.add(acc);
      }
    },

    flush() {
      if (!persist || (!running && !hasWork())) return Promise.resolve();
      const p = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      if (!running) void drain();
      return p;
    },

    onFill(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
