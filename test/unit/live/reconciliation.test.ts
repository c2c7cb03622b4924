/**
 * Reconciling a trader with its account: adopted differences update the order records or the
 * baseline (and are not reported again), flagged ones pause the trader at scope `risk`.
 */
import { describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/domain.ts';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import type { Exchange, Market, Order, Position } from '../../../runtime/exchange/port.ts';
import { SYNTHETIC_MARKETS } from '../../../runtime/market/markets.ts';
import { acceptVenueState, baselineKey, loadBaseline, reconcileTrader } from '../../../runtime/reconciliation.ts';
import type { OrderRecord, SettingsRepo } from '../../../runtime/store/types.ts';
import { createMemoryOrders } from '../../support/exchange-double/index.ts';

const T = Ids.trader('t-1');
const TRADER = { id: T, managerId: 'm-1', name: 'Alpha' };
const MARKETS: Record<string, Market> = Object.fromEntries(SYNTHETIC_MARKETS.map((m) => [m.symbol, m]));

function memorySettings(): SettingsRepo & { rows: Map<string, unknown> } {
  const rows = new Map<string, unknown>();
  return {
    rows,
    async get<V>(key: string) {
      return rows.has(key) ? (structuredClone(rows.get(key)) as V) : null;
    },
    async set(key, value) {
      rows.set(key, structuredClone(value));
    },
  };
}

const position = (symbol: string, side: 'long' | 'short', amount: string): Position => ({
  symbol,
  side,
  amount,
  entryPrice: '100',
  markPrice: '100',
  leverage: 2,
  margin: '1',
  unrealizedPnl: '0',
  liquidationPrice: null,
  stopLoss: null,
  takeProfit: null,
});

const venueOrder = (o: Partial<Order> & Pick<Order, 'clientOrderId' | 'symbol'>): Order => ({
  id: `v-${o.clientOrderId || 'x'}`,
  side: 'buy',
  type: 'limit',
  amount: '1',
  price: '1',
  status: 'open',
  filled: '0',
  average: null,
  fee: '0',
  reduceOnly: false,
  reason: null,
  timestamp: 0,
  ...o,
});

/** An account whose state the test sets; lookups by client id answer from `lookups`. */
function fakeAccount() {
  const state = { positions: [] as Position[], open: [] as Order[], lookups: new Map<string, Order>() };
  const ex: Exchange = {
    venue: 'binanceusdm',
    loadMarkets: async () => MARKETS,
    fetchBalance: async () => ({ currency: 'USDT', wallet: '0', used: '0', free: '0', unrealizedPnl: '0', equity: '0' }),
    fetchPositions: async () => state.positions,
    fetchOpenOrders: async () => state.open,
    fetchPrices: async () => ({}),
    createOrder: async () => {
      throw new Error('reconciliation never places an order');
    },
    fetchOrderByClientId: async (id) => state.lookups.get(id) ?? null,
    cancelOrder: async () => {
      throw new Error('reconciliation never cancels an order');
    },
    setLeverage: async () => undefined,
  };
  return { ex, state };
}

let seq = 0;
const filled = (symbol: string, side: 'buy' | 'sell', amount: string, createdAt: number, over: Partial<OrderRecord> = {}): OrderRecord => {
  const cycle = `${T}:${createdAt}`;
  return {
    clientOrderId: clientOrderId(T, cycle, symbol, seq++),
    traderId: T,
    cycleId: cycle,
    symbol,
    side,
    type: 'market',
    amount,
    reduceOnly: false,
    status: 'closed',
    exchangeOrderId: `x${seq}`,
    filled: amount,
    average: '100',
    fee: '0',
    reason: null,
    createdAt,
    updatedAt: createdAt,
    ...over,
  };
};

async function setup(records: OrderRecord[]) {
  const orders = createMemoryOrders();
  for (const r of records) await orders.insertPending(r);
  const settings = memorySettings();
  return { orders, settings, repos: { orders, settings }, ...fakeAccount() };
}

describe('reconciling a trader with its account', () => {
  it('reports nothing and changes nothing when the venue matches the records', async () => {
    const { ex, state, repos, settings } = await setup([filled('BTCUSDT', 'buy', '0.01', 1), filled('SOLUSDT', 'sell', '2', 2)]);
    state.positions = [position('BTCUSDT', 'long', '0.01'), position('SOLUSDT', 'short', '2')];
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    expect(r.report.ok).toBe(true);
    expect(r.adopted).toEqual([]);
    expect(r.flagged).toEqual([]);
    expect(r.commands).toEqual({ sends: [], events: [], audit: [] });
    expect(settings.rows.size).toBe(0);
  });

  it('flags a position enlarged by hand: a critical event, a risk pause with the reason and an audit entry', async () => {
    const { ex, state, repos, settings } = await setup([filled('BTCUSDT', 'buy', '0.01', 1)]);
    state.positions = [position('BTCUSDT', 'long', '0.5')];
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    const message = 'BTCUSDT: the venue holds long 0.5, the platform expects long 0.01; exposure the platform did not create: an operator must decide';
    expect(r.flagged.map((d) => d.message)).toEqual([message]);
    expect(r.commands.events).toEqual([
      {
        at: 10,
        type: 'reconcile.flagged',
        severity: 'critical',
        traderId: T,
        managerId: 'm-1',
        actor: 'reconcile',
        message,
        data: { kind: 'position.mismatch', action: 'flag', symbol: 'BTCUSDT', expected: '0.01', actual: '0.5' },
      },
    ]);
    expect(r.commands.sends).toEqual([
      { traderId: T, event: { type: 'trader.pause', by: 'reconcile', reason: `reconciliation: ${message}`, scope: 'risk', at: 10 } },
    ]);
    expect(r.commands.audit).toEqual([
      expect.objectContaining({ action: 'reconcile.pause', target: { type: 'trader', id: T }, message: 'reconciliation paused Alpha: 1 difference an operator must decide' }),
    ]);
    // A flag does not move the baseline: it is reported again until an operator decides.
    expect(settings.rows.size).toBe(0);
    expect((await reconcileTrader(ex, repos, TRADER, { at: 11 })).flagged).toHaveLength(1);
  });

  it('adopts a position closed on the venue into the baseline, so later fills count from there', async () => {
    const { ex, state, repos, orders, settings } = await setup([filled('BTCUSDT', 'buy', '0.01', 1), filled('ETHUSDT', 'buy', '1', 2)]);
    state.positions = [position('ETHUSDT', 'long', '1')];
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    expect(r.flagged).toEqual([]);
    expect(r.adopted.map((d) => [d.kind, d.symbol])).toEqual([['position.mismatch', 'BTCUSDT']]);
    expect(r.commands.events.map((e) => [e.type, e.severity])).toEqual([['reconcile.adopted', 'warning']]);
    expect(r.commands.sends).toEqual([]);
    expect(r.baseline).toEqual({ at: 10, positions: { ETHUSDT: '1' }, acceptedOrders: [] });
    expect(await loadBaseline(settings, T)).toEqual(r.baseline);

    // The trader then goes short BTC: without the baseline the old buy would make this a flip.
    await orders.insertPending(filled('BTCUSDT', 'sell', '0.02', 20));
    state.positions = [position('ETHUSDT', 'long', '1'), position('BTCUSDT', 'short', '0.02')];
    const again = await reconcileTrader(ex, repos, TRADER, { at: 30 });
    expect(again.report.ok).toBe(true);
    expect(again.baseline).toBeNull();
  });

  it('adopts a recorded open order that filled on the venue by looking it up, counting its fill', async () => {
    const resting = filled('ETHUSDT', 'buy', '0.5', 3, { type: 'limit', price: '3000', status: 'open', filled: '0' });
    const { ex, state, repos, orders } = await setup([filled('BTCUSDT', 'buy', '0.01', 1), resting]);
    state.positions = [position('BTCUSDT', 'long', '0.01'), position('ETHUSDT', 'long', '0.5')];
    state.lookups.set(resting.clientOrderId, venueOrder({ clientOrderId: resting.clientOrderId, symbol: 'ETHUSDT', amount: '0.5', status: 'closed', filled: '0.5', average: '3000' }));
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    expect(r.adopted.map((d) => d.kind)).toEqual(['order.missing']);
    expect(r.flagged).toEqual([]);
    expect(r.report.ok).toBe(true);
    expect(orders.rows.get(resting.clientOrderId)).toMatchObject({ status: 'closed', filled: '0.5', updatedAt: 10 });
  });

  it('marks a recorded open order the venue never saw as failed', async () => {
    const ghost = filled('ETHUSDT', 'buy', '0.5', 3, { type: 'limit', price: '3000', status: 'open', filled: '0' });
    const { ex, repos, orders } = await setup([ghost]);
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    expect(r.adopted.map((d) => d.kind)).toEqual(['order.missing']);
    expect(orders.rows.get(ghost.clientOrderId)).toMatchObject({ status: 'failed', reason: 'not on the venue at reconciliation (resolved by lookup)' });
  });

  it('flags an order placed outside the platform, and one with a platform-style id no order of this trader has', async () => {
    const { ex, state, repos } = await setup([]);
    const stray = clientOrderId('t-9', 't-9:1', 'XRPUSDT', 0);
    state.open = [venueOrder({ clientOrderId: 'web1', symbol: 'XRPUSDT', side: 'sell', amount: '100' }), venueOrder({ clientOrderId: stray, symbol: 'XRPUSDT', amount: '5' })];
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    expect(r.flagged.map((d) => [d.kind, d.action, d.message])).toEqual([
      ['order.unknown', 'flag', 'XRPUSDT: open order web1 (sell 100) on the venue was placed outside the platform; an operator must decide'],
      ['order.unknown', 'flag', `XRPUSDT: open order ${stray} (buy 5) on the venue carries a platform client id the platform does not hold as open; no order of this trader has that id: an operator must decide`],
    ]);
    expect(r.commands.sends).toHaveLength(1);
    expect(r.commands.sends[0]!.event.reason.split('; ').length).toBeGreaterThanOrEqual(2);
  });

  it('adopts an order the trader recorded as failed that did reach the venue', async () => {
    const lost = filled('ETHUSDT', 'buy', '0.5', 3, { type: 'limit', price: '3000', status: 'failed', filled: '0' });
    const { ex, state, repos, orders } = await setup([lost]);
    const onVenue = venueOrder({ clientOrderId: lost.clientOrderId, symbol: 'ETHUSDT', amount: '0.5' });
    state.open = [onVenue];
    state.lookups.set(lost.clientOrderId, onVenue);
    const r = await reconcileTrader(ex, repos, TRADER, { at: 10 });
    expect(r.adopted.map((d) => d.kind)).toEqual(['order.unknown']);
    expect(r.flagged).toEqual([]);
    expect(orders.rows.get(lost.clientOrderId)).toMatchObject({ status: 'open', exchangeOrderId: onVenue.id });
  });

  it('takes the venue’s state as accepted after an operator decides, so it is not flagged again', async () => {
    const { ex, state, repos, settings } = await setup([filled('BTCUSDT', 'buy', '0.01', 1)]);
    state.positions = [position('BTCUSDT', 'long', '0.5'), position('SOLUSDT', 'short', '3')];
    state.open = [venueOrder({ clientOrderId: 'web1', symbol: 'XRPUSDT' }), venueOrder({ clientOrderId: '', id: '77', symbol: 'XRPUSDT' })];
    expect((await reconcileTrader(ex, repos, TRADER, { at: 10 })).flagged).toHaveLength(4);
    const b = await acceptVenueState(ex, repos, T, { at: 11 });
    expect(b).toEqual({ at: 11, positions: { BTCUSDT: '0.5', SOLUSDT: '-3' }, acceptedOrders: ['web1', '#77'] });
    expect(settings.rows.get(baselineKey(T))).toEqual(b);
    expect((await reconcileTrader(ex, repos, TRADER, { at: 12 })).report.ok).toBe(true);
    // An accepted order that later fills changes the position: that is flagged again.
    state.positions = [position('BTCUSDT', 'long', '0.5'), position('SOLUSDT', 'short', '3'), position('XRPUSDT', 'long', '1')];
    expect((await reconcileTrader(ex, repos, TRADER, { at: 13 })).flagged.map((d) => d.symbol)).toEqual(['XRPUSDT']);
  });

  it('ignores an unreadable stored baseline', async () => {
    const { settings } = await setup([]);
    await settings.set(baselineKey(T), { at: 'yesterday' });
    expect(await loadBaseline(settings, T)).toBeNull();
  });
});
