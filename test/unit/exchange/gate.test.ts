import { describe, expect, it } from 'vitest';
import { ExchangeError, createOrderGate } from '../../../runtime/exchange/index.ts';
import type { Exchange, Order, OrderRequest } from '../../../runtime/exchange/index.ts';
import { order } from './fixtures.ts';

/** An exchange double that records what reached it. */
function recordingExchange(): Exchange & { sent: OrderRequest[] } {
  const sent: OrderRequest[] = [];
  const filled = (req: OrderRequest): Order => ({
    id: String(sent.length),
    clientOrderId: req.clientOrderId,
    symbol: req.symbol,
    side: req.side,
    type: req.type,
    amount: req.amount,
    price: null,
    status: 'closed',
    filled: req.amount,
    average: '1',
    fee: '0',
    reduceOnly: req.reduceOnly ?? false,
    reason: null,
    timestamp: 0,
  });
  return {
    sent,
    venue: 'double',
    loadMarkets: async () => ({}),
    fetchBalance: async () => ({ currency: 'USDT', wallet: '1', used: '0', free: '1', unrealizedPnl: '0', equity: '1' }),
    fetchPositions: async () => [],
    fetchOpenOrders: async () => [],
    fetchPrices: async () => ({ BTCUSDT: '1' }),
    createOrder: async (req) => {
      sent.push(req);
      return filled(req);
    },
    fetchOrderByClientId: async () => null,
    cancelOrder: async () => {
      throw new Error('not open');
    },
    setLeverage: async () => undefined,
  };
}

describe('order gate', () => {
  it('lets orders through while open', async () => {
    const gate = createOrderGate();
    const ex = recordingExchange();
    const wrapped = gate.wrap('t-1', 'm-1', ex);
    expect(gate.isOpen()).toBe(true);
    expect(gate.check('t-1', 'm-1')).toEqual({ allowed: true });
    expect((await wrapped.createOrder(order())).status).toBe('closed');
    expect(ex.sent).toHaveLength(1);
    expect(wrapped.venue).toBe('double');
  });

  it('refuses every order, reduce-only included, while the global gate is closed', async () => {
    const gate = createOrderGate();
    const ex = recordingExchange();
    const wrapped = gate.wrap('t-1', 'm-1', ex);
    gate.close({ by: 'ops', reason: 'maintenance', at: 5 });
    expect(gate.isOpen()).toBe(false);
    expect(gate.closedBy()).toEqual({ by: 'ops', reason: 'maintenance', at: 5 });
    expect(gate.check('t-1', 'm-1')).toEqual({ allowed: false, reason: 'trading paused by ops: maintenance' });
    const err = await wrapped.createOrder(order()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err).toMatchObject({ kind: 'operational', message: 'order gate closed: trading paused by ops: maintenance' });
    await expect(wrapped.createOrder(order({ reduceOnly: true, side: 'sell' }))).rejects.toMatchObject({ kind: 'operational' });
    expect(ex.sent).toHaveLength(0);
    expect(gate.stats()).toEqual({ refused: 2 });
    // Reads still pass while trading is paused.
    expect((await wrapped.fetchBalance()).wallet).toBe('1');
    expect(await wrapped.fetchPrices(['BTCUSDT'])).toEqual({ BTCUSDT: '1' });

    gate.open();
    expect(gate.closedBy()).toBeNull();
    await wrapped.createOrder(order());
    expect(ex.sent).toHaveLength(1);
  });

  it('keeps the first closure when closed twice', () => {
    const gate = createOrderGate();
    gate.close({ by: 'ops', reason: 'first', at: 1 });
    gate.close({ by: 'risk', reason: 'second', at: 2 });
    expect(gate.closedBy()).toEqual({ by: 'ops', reason: 'first', at: 1 });
  });

  it('consults the gate at send time, not at wrap time', async () => {
    const gate = createOrderGate();
    const ex = recordingExchange();
    const wrapped = gate.wrap('t-1', 'm-1', ex);
    gate.blockTrader('t-1');
    await expect(wrapped.createOrder(order())).rejects.toThrow('order gate closed: trader t-1 is blocked');
    gate.unblockTrader('t-1');
    await wrapped.createOrder(order());
    expect(ex.sent).toHaveLength(1);
  });

  it('blocks one trader or one manager without touching the others', () => {
    const gate = createOrderGate();
    gate.blockTrader('t-1');
    gate.blockManager('m-2');
    expect(gate.check('t-1', 'm-1')).toEqual({ allowed: false, reason: 'trader t-1 is blocked' });
    expect(gate.check('t-2', 'm-1')).toEqual({ allowed: true });
    expect(gate.check('t-3', 'm-2')).toEqual({ allowed: false, reason: 'manager m-2 is blocked' });
    gate.unblockManager('m-2');
    expect(gate.check('t-3', 'm-2')).toEqual({ allowed: true });
    expect(gate.isOpen()).toBe(true);
  });

  it('passes the other calls through to the wrapped exchange', async () => {
    const gate = createOrderGate();
    const wrapped = gate.wrap('t-1', 'm-1', recordingExchange());
    gate.close({ by: 'ops', reason: 'x', at: 0 });
    await expect(wrapped.cancelOrder('1', 'BTCUSDT')).rejects.toThrow('not open');
    expect(await wrapped.fetchOrderByClientId('a', 'BTCUSDT')).toBeNull();
    await expect(wrapped.setLeverage('BTCUSDT', 3)).resolves.toBeUndefined();
  });
});
