import { describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/domain.ts';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import { expectedFromOrders, reconcile, reconcileAccount, type ExpectedState } from '../../../runtime/exchange/ccxt/reconcile.ts';
import type { Exchange, Order, Position } from '../../../runtime/exchange/port.ts';
import type { OrderRecord } from '../../../runtime/store/types.ts';

const pos = (symbol: string, side: 'long' | 'short', amount: string): Position => ({
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

const order = (over: Partial<Order> = {}): Order => ({
  id: '1',
  clientOrderId: 'manual1',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  amount: '0.01',
  price: '60000',
  status: 'open',
  filled: '0',
  average: null,
  fee: '0',
  reduceOnly: false,
  reason: null,
  timestamp: 0,
  ...over,
});

const expected = (over: Partial<ExpectedState> = {}): ExpectedState => ({ positions: {}, openOrders: [], ...over });

describe('reconciling the venue with the platform', () => {
  it('reports matches and no differences when the venue holds what the records imply', () => {
    const ours = clientOrderId('t-1', 't-1:1', 'ETHUSDT', 0);
    const r = reconcile(
      expected({ positions: { BTCUSDT: '0.01', SOLUSDT: '-2' }, openOrders: [{ clientOrderId: ours, symbol: 'ETHUSDT', side: 'buy', amount: '0.1' }] }),
      { positions: [pos('BTCUSDT', 'long', '0.01'), pos('SOLUSDT', 'short', '2')], openOrders: [order({ clientOrderId: ours, symbol: 'ETHUSDT' })] },
    );
    expect(r).toEqual({
      ok: true,
      matches: [
        { kind: 'position', symbol: 'BTCUSDT', amount: '0.01' },
        { kind: 'position', symbol: 'SOLUSDT', amount: '-2' },
        { kind: 'order', symbol: 'ETHUSDT', clientOrderId: ours },
      ],
      differences: [],
    });
  });

  it('adopts a position the venue reduced or closed on the same side', () => {
    const r = reconcile(expected({ positions: { BTCUSDT: '0.03', ETHUSDT: '-1' } }), { positions: [pos('BTCUSDT', 'long', '0.01')], openOrders: [] });
    expect(r.ok).toBe(false);
    expect(r.differences).toEqual([
      {
        kind: 'position.mismatch',
        symbol: 'BTCUSDT',
        expected: '0.03',
        actual: '0.01',
        action: 'adopt',
        message: 'BTCUSDT: the venue holds long 0.01, the platform expects long 0.03; reduced or closed on the venue (stop, liquidation or manual close): adopt the venue position',
      },
      {
        kind: 'position.mismatch',
        symbol: 'ETHUSDT',
        expected: '-1',
        actual: '0',
        action: 'adopt',
        message: 'ETHUSDT: the venue holds no position, the platform expects short 1; reduced or closed on the venue (stop, liquidation or manual close): adopt the venue position',
      },
    ]);
  });

  it('flags a position the platform did not create: opened, enlarged or flipped on the venue', () => {
    const r = reconcile(expected({ positions: { BTCUSDT: '0.01', ETHUSDT: '0.5' } }), {
      positions: [pos('BTCUSDT', 'long', '0.02'), pos('ETHUSDT', 'short', '0.5'), pos('SOLUSDT', 'long', '3')],
      openOrders: [],
    });
    expect(r.differences.map((d) => [d.symbol, d.action, d.message])).toEqual([
      ['BTCUSDT', 'flag', 'BTCUSDT: the venue holds long 0.02, the platform expects long 0.01; exposure the platform did not create: an operator must decide'],
      ['ETHUSDT', 'flag', 'ETHUSDT: the venue holds short 0.5, the platform expects long 0.5; exposure the platform did not create: an operator must decide'],
      ['SOLUSDT', 'flag', 'SOLUSDT: the venue holds long 3, the platform expects no position; exposure the platform did not create: an operator must decide'],
    ]);
  });

  it('treats a difference under half an amount step as a match', () => {
    const r = reconcile(expected({ positions: { BTCUSDT: '0.0100004' } }), { positions: [pos('BTCUSDT', 'long', '0.01')], openOrders: [] }, { amountSteps: { BTCUSDT: '0.001' } });
    expect(r.ok).toBe(true);
  });

  it('flags an open order placed outside the platform and adopts one that carries a platform client id', () => {
    const ours = clientOrderId('t-1', 't-1:5', 'BTCUSDT', 1);
    const r = reconcile(expected(), { positions: [], openOrders: [order({ id: '77', clientOrderId: 'web_abc' }), order({ id: '78', clientOrderId: ours, side: 'sell' })] });
    expect(r.differences).toEqual([
      {
        kind: 'order.unknown',
        symbol: 'BTCUSDT',
        clientOrderId: 'web_abc',
        orderId: '77',
        action: 'flag',
        message: 'BTCUSDT: open order web_abc (buy 0.01) on the venue was placed outside the platform; an operator must decide',
      },
      {
        kind: 'order.unknown',
        symbol: 'BTCUSDT',
        clientOrderId: ours,
        orderId: '78',
        action: 'adopt',
        message: `BTCUSDT: open order ${ours} (sell 0.01) on the venue carries a platform client id the platform does not hold as open; adopt it`,
      },
    ]);
  });

  it('names an order without a client id by its venue id', () => {
    const r = reconcile(expected(), { positions: [], openOrders: [order({ id: '99', clientOrderId: '' })] });
    expect(r.differences[0]?.message).toBe('BTCUSDT: open order id 99 (buy 0.01) on the venue was placed outside the platform; an operator must decide');
  });

  it('adopts the venue status of a platform order that is no longer open there', () => {
    const r = reconcile(expected({ openOrders: [{ clientOrderId: 'pX', symbol: 'ETHUSDT', side: 'sell', amount: '0.2' }] }), { positions: [], openOrders: [] });
    expect(r.differences).toEqual([
      {
        kind: 'order.missing',
        symbol: 'ETHUSDT',
        clientOrderId: 'pX',
        action: 'adopt',
        message: "ETHUSDT: order pX (sell 0.2) is open on the platform but not on the venue; it filled or was canceled there: adopt the venue's status",
      },
    ]);
  });

  it('counts a pending order found open on the venue as a match and a missing one as no difference', () => {
    const r = reconcile(
      expected({ pendingOrders: [{ clientOrderId: 'pA', symbol: 'BTCUSDT', side: 'buy', amount: '0.01' }, { clientOrderId: 'pB', symbol: 'BTCUSDT', side: 'buy', amount: '0.01' }] }),
      { positions: [], openOrders: [order({ clientOrderId: 'pA' })] },
    );
    expect(r).toEqual({ ok: true, matches: [{ kind: 'order', symbol: 'BTCUSDT', clientOrderId: 'pA' }], differences: [] });
  });
});

describe('the expectation implied by order records', () => {
  const rec = (over: Partial<OrderRecord>): OrderRecord => ({
    clientOrderId: 'p',
    traderId: Ids.trader('t-1'),
    cycleId: 'c',
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'market',
    amount: '0.01',
    status: 'closed',
    exchangeOrderId: '1',
    filled: '0.01',
    average: '100',
    fee: '0',
    reason: null,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  });

  it('nets filled amounts per symbol and lists open and pending orders', () => {
    const e = expectedFromOrders([
      rec({ clientOrderId: 'a', filled: '0.03' }),
      rec({ clientOrderId: 'b', side: 'sell', filled: '0.01' }),
      rec({ clientOrderId: 'c', symbol: 'ETHUSDT', side: 'sell', filled: '0.5' }),
      rec({ clientOrderId: 'd', symbol: 'ETHUSDT', status: 'open', filled: '0', type: 'limit', amount: '1' }),
      rec({ clientOrderId: 'e', status: 'pending', filled: '0' }),
      rec({ clientOrderId: 'f', status: 'failed', filled: '0' }),
    ]);
    expect(e).toEqual({
      positions: { BTCUSDT: '0.02', ETHUSDT: '-0.5' },
      openOrders: [{ clientOrderId: 'd', symbol: 'ETHUSDT', side: 'buy', amount: '1' }],
      pendingOrders: [{ clientOrderId: 'e', symbol: 'BTCUSDT', side: 'buy', amount: '0.01' }],
    });
  });

  it('reads the account to reconcile it', async () => {
    const ex = { fetchPositions: async () => [pos('BTCUSDT', 'long', '0.01')], fetchOpenOrders: async () => [] } as unknown as Exchange;
    const r = await reconcileAccount(ex, expected({ positions: { BTCUSDT: '0.01' } }));
    expect(r.ok).toBe(true);
  });
});
