/**
 * The order gate: the kill switch every order passes right before it is sent. A global close
 * (Pause All) and per-trader / per-manager blocks each refuse every order, reduce-only included,
 * so an in-flight cycle cannot slip an order through a pause.
 */
import type { MarketSymbol } from '../domain.ts';
import type { Exchange, OrderRequest } from './port.ts';
import { ExchangeError } from './port.ts';

/** Who closed the gate, why and when. */
export interface GateClosure {
  readonly by: string;
  readonly reason: string;
  readonly at: number;
}

/** The answer of {@link OrderGate.check}. */
export type GateDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** The kill switch: a global switch plus per-trader and per-manager blocks. */
export interface OrderGate {
  /** Closes the gate for every order; while closed, a second close keeps the first closure. */
  close(reason: GateClosure): void;
  /** Reopens the global switch (per-scope blocks stay). */
  open(): void;
  isOpen(): boolean;
  closedBy(): GateClosure | null;
  /** Checks the global switch, then the manager and trader blocks; never throws. */
  check(traderId: string, managerId: string): GateDecision;
  blockTrader(traderId: string): void;
  unblockTrader(traderId: string): void;
  blockManager(managerId: string): void;
  unblockManager(managerId: string): void;
  /**
   * An `Exchange` whose `createOrder` consults `check()` right before sending and throws
   * `ExchangeError('operational', 'order gate closed: …')` when refused; other calls pass through.
   */
  wrap(traderId: string, managerId: string, exchange: Exchange): Exchange;
  /** Orders refused by wrapped exchanges since the gate was created. */
  stats(): { refused: number };
}

/** Creates an open order gate with no blocks. */
export function createOrderGate(): OrderGate {
  let closure: GateClosure | null = null;
  const traders = new Set<string>();
  const managers = new Set<string>();
  let refused = 0;

  const check = (traderId: string, managerId: string): GateDecision => {
    if (closure) return { allowed: false, reason: `trading paused by ${closure.by}: ${closure.reason}` };
    if (managers.has(managerId)) return { allowed: false, reason: `manager ${managerId} is blocked` };
    if (traders.has(traderId)) return { allowed: false, reason: `trader ${traderId} is blocked` };
    return { allowed: true };
  };



  /** An exchange whose orders pass the gate first (methods on the prototype: one small object per wrap). */
  class Gated implements Exchange {
    constructor(
      private readonly traderId: string,
      private readonly managerId: string,
      private readonly exchange: Exchange,
    ) {}
    get venue(): string {
      return this.exchange.venue;
    }
    loadMarkets() {
      return this.exchange.loadMarkets();
    }
    fetchBalance() {
      return this.exchange.fetchBalance();
    }
    fetchPositions() {
      return this.exchange.fetchPositions();
    }
    fetchOpenOrders(symbol?: MarketSymbol) {
      return this.exchange.fetchOpenOrders(symbol);
    }
    fetchPrices(symbols: readonly MarketSymbol[]) {
      return this.exchange.fetchPrices(symbols);
    }
    async createOrder(req: OrderRequest) {
      const decision = check(this.traderId, this.managerId);
      if (!decision.allowed) {
        refused += 1;
        throw new ExchangeError('operational', `order gate closed: ${decision.reason}`);
      }
      return this.exchange.createOrder(req);
    }
    fetchOrderByClientId(clientOrderId: string, symbol: MarketSymbol) {
      return this.exchange.fetchOrderByClientId(clientOrderId, symbol);
    }
    cancelOrder(id: string, symbol: MarketSymbol) {
      return this.exchange.cancelOrder(id, symbol);
    }
    setLeverage(symbol: MarketSymbol, leverage: number) {
      return this.exchange.setLeverage(symbol, leverage);
    }
  }
  return {
    close(reason) {
      if (!closure) closure = { by: reason.by, reason: reason.reason, at: reason.at };
    },
    open() {
      closure = null;
    },
    isOpen: () => closure === null,
    closedBy: () => closure,
    check,
    blockTrader: (id) => void traders.add(id),
    unblockTrader: (id) => void traders.delete(id),
    blockManager: (id) => void managers.add(id),
    unblockManager: (id) => void managers.delete(id),
    wrap(traderId, managerId, exchange) {
      return new Gated(traderId, managerId, exchange);
    },
    stats: () => ({ refused }),
  };
}
