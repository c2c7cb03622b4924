/** Builders shared by the exchange tests. */
import type { Fill, Market, OrderRequest, PaperVenue, PaperVenueOptions } from '../../../runtime/exchange/index.ts';
import type { PaperBatch } from '../../../runtime/store/types.ts';
import { createPaperVenue } from '../../../runtime/exchange/index.ts';

export const BTC: Market = {
  symbol: 'BTCUSDT',
  base: 'BTC',
  quote: 'USDT',
  amountStep: '0.001',
  priceTick: '0.1',
  minAmount: '0.002',
  minCost: '5',
  maxLeverage: 125,
  makerFee: '0.0002',
  takerFee: '0.0004',
};

export const ETH: Market = {
  symbol: 'ETHUSDT',
  base: 'ETH',
  quote: 'USDT',
  amountStep: '0.01',
  priceTick: '0.01',
  minAmount: '0.01',
  minCost: '20',
  maxLeverage: 100,
  makerFee: '0.0002',
  takerFee: '0.0004',
};

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

let seq = 0;
/** An order request with defaults: a market buy of 0.1 BTC. */
export function order(over: Partial<OrderRequest> = {}): OrderRequest {
  seq += 1;
  return { clientOrderId: `c${seq}`, symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '0.1', ...over };
}

/** A venue with BTC at 50000 and ETH at 1000, no slippage unless given, and the fills it produced. */
export function venueWith(
  over: Partial<PaperVenueOptions> = {},
): { venue: PaperVenue; fills: { accountId: string; fill: Fill }[]; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock();
  const venue = createPaperVenue({ markets: [BTC, ETH], clock, slippageBps: 0, ...over });
  const fills: { accountId: string; fill: Fill }[] = [];
  venue.onFill((accountId, fill) => fills.push({ accountId, fill }));
  venue.updatePrice('BTCUSDT', { close: '50000' });
  venue.updatePrice('ETHUSDT', { close: '1000' });
  return { venue, fills, clock };
}

/** An in-memory PaperRepo double that stores rows the way the database would (JSON). */
export function memoryRepo(): {
  saveBatch(batch: PaperBatch): Promise<void>;
  loadAccounts(): Promise<{ accountId: string; state: unknown }[]>;
  loadOrders(): Promise<{ accountId: string; order: unknown }[]>;
  batches: PaperBatch[];
} {
  const accounts = new Map<string, string>();
  const orders = new Map<string, { accountId: string; order: string }>();
  const batches: PaperBatch[] = [];
  return {
    batches,
    async saveBatch(batch) {
      batches.push(batch);
      for (const a of batch.accounts) accounts.set(a.accountId, JSON.stringify(a.state));
      for (const o of batch.orders)
        orders.set(`${o.accountId}/${o.order.clientOrderId}`, { accountId: o.accountId, order: JSON.stringify(o.order) });
    },
    async loadAccounts() {
      return [...accounts].map(([accountId, s]) => ({ accountId, state: JSON.parse(s) as unknown }));
    },
    async loadOrders() {
      return [...orders.values()].map((o) => ({ accountId: o.accountId, order: JSON.parse(o.order) as unknown }));
    },
  };
}
